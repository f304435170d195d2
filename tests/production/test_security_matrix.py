"""Authorisation matrix: every route × every role → allowed, sent to sign in (401 on the API), or forbidden.

Built from app.url_map: a new route, page or API, without an entry in ACCESS (pages) or API_ACCESS fails the
coverage tests. Roles include an account of each kind whose organisation is not verified: it may browse and
manage its session, never act (app.policy). Sealed bid prices must not show on any response.
"""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from werkzeug.routing import Rule

from app.extensions import limiter
from app.services import api_tokens
from models import OrganizationRole
from tests.conftest import sign_in
from tests.factories import BidFactory, FacilityFactory, LotFactory, OrganizationFactory, UserFactory

VERIFIED = ("producer", "recycler", "carrier", "base_officer", "regulator", "admin")
UNVERIFIED = tuple(f"unverified_{role}" for role in VERIFIED if role != "admin")
ROLES = ("anonymous", *VERIFIED, *UNVERIFIED)
PUBLIC = frozenset(ROLES)
SIGNED_IN = PUBLIC - {"anonymous"}
VIEWERS = {"base_officer", "regulator", "admin"}
PROVINCE = {"regulator", "admin"}
PRODUCERS = {"producer", "admin"}
RECYCLERS = {"recycler", "admin"}
PARTIES = {"producer", "recycler", "admin"}
CARRIERS = {"carrier", "admin"}
SEALED_PRICE = "87.65"  # the other recycler's bid: no response any matrix role gets may show it

# endpoint → roles that pass its guard. Everyone else: anonymous → sign-in, others → 403.
ACCESS: dict[str, frozenset[str] | set[str]] = {
    "static": PUBLIC, "public.home": PUBLIC, "public.categories": PUBLIC, "auth.login": PUBLIC, "auth.register": PUBLIC,
    "auth.logout": SIGNED_IN, "auth.change_password": SIGNED_IN,
    "lots.index": PUBLIC, "lots.detail": PUBLIC, "lots.map_view": PUBLIC, "lots.map_json": PUBLIC,
    "facilities.prefectures_geojson": PUBLIC,
    "lots.create": PRODUCERS, "lots.edit": PRODUCERS, "lots.withdraw": PRODUCERS,
    "lots.import_lots": PRODUCERS, "lots.upload_document": PRODUCERS,
    "lots.import_template": SIGNED_IN, "lots.document": SIGNED_IN, "lots.photo": SIGNED_IN,
    "facilities.index": PARTIES, "facilities.create": PARTIES, "facilities.detail": PARTIES,
    "facilities.edit": PARTIES,
    "admin.organizations": {"admin"}, "admin.set_verification": {"admin"}, "admin.invite_official": {"admin"},
    "bids.index": RECYCLERS, "bids.new": RECYCLERS, "bids.withdraw": RECYCLERS,
    "bids.received": PRODUCERS, "bids.lot_status": SIGNED_IN,
    "bids.new_profile": RECYCLERS, "bids.new_category_bid": RECYCLERS, "bids.deactivate_profile": RECYCLERS,
    "clearing.index": VIEWERS, "clearing.start": PROVINCE, "clearing.run": VIEWERS,
    "lots.mine": PRODUCERS, "lots.ask": RECYCLERS, "lots.answer": PRODUCERS, "lots.hide_question": {"admin"},
    "searches.index": RECYCLERS, "searches.delete": RECYCLERS, "exports.download": PARTIES,
    "clearing.status": VIEWERS, "clearing.flows": VIEWERS,
    "awards.index": PARTIES, "awards.decide": PARTIES, "awards.detail": PARTIES | {"regulator"},
    "shipments.dispatch": PRODUCERS, "shipments.receive": RECYCLERS,
    "shipments.utilisation": RECYCLERS, "shipments.manifests": CARRIERS,
    "notifications.inbox": SIGNED_IN, "notifications.read": SIGNED_IN, "notifications.read_all": SIGNED_IN,
    "tokens.index": SIGNED_IN, "tokens.create": SIGNED_IN, "tokens.revoke": SIGNED_IN,
    "bases.index": VIEWERS, "bases.dashboard": VIEWERS, "bases.chart_data": VIEWERS, "bases.flows_geojson": VIEWERS,
    "bases.export": VIEWERS, "bases.warnings": VIEWERS, "bases.missing": VIEWERS, "bases.targets": VIEWERS,
    "bases.scenario": VIEWERS, "bases.evaluation_register": VIEWERS,
    "bases.edit_evaluation": PROVINCE,
    "bases.reports": PRODUCERS | {"regulator"},
    "bases.import_reports": PRODUCERS,
    "bases.report_template": PRODUCERS,
    "api_docs.docs": PUBLIC,
    "dispatch.index": CARRIERS, "dispatch.start": CARRIERS, "dispatch.plan": CARRIERS,
    "dispatch.plan_status": CARRIERS, "dispatch.plan_routes": CARRIERS,
    "dispatch.accept": CARRIERS, "dispatch.discard": CARRIERS,
    "dispatch.vehicles": CARRIERS, "dispatch.retire_vehicle": CARRIERS, "dispatch.permit": CARRIERS,
    "dispatch.vehicle_hazardous": CARRIERS,
    "shipments.e_manifest": PARTIES | {"carrier", "regulator"},
    "seasonal.plan": VIEWERS, "seasonal.run": VIEWERS, "seasonal.run_data": VIEWERS,
    "seasonal.yards": VIEWERS, "seasonal.delete_yard": VIEWERS, "seasonal.seasons": PARTIES,
}

# Where a route's POST is narrower than its GET.
METHOD_ACCESS = {"POST bases.reports": PRODUCERS, "POST bases.targets": PROVINCE,
                 "POST bases.evaluation_register": PROVINCE}

TOKEN = SIGNED_IN  # any live token, verified or not: reading public data and one's own inbox is not acting
API_ACCESS: dict[str, frozenset[str] | set[str]] = {
    "api.openapi_json": PUBLIC,
    "api.me_me": TOKEN, "api.notifications_inbox": TOKEN, "api.notifications_read": TOKEN,
    "api.notifications_read_all": TOKEN, "api.categories_list_categories": TOKEN,
    "api.lots_list_lots": TOKEN, "api.lots_get_lot": TOKEN, "api.lots_price_guidance": TOKEN,
    "api.lot-documents_list_documents": TOKEN, "api.lot-documents_download_document": TOKEN,
    "api.bids_lot_bid_status": TOKEN, "api.imports_lot_template": TOKEN,
    "api.lots_post_lot": PRODUCERS, "api.lots_edit_lot": PRODUCERS, "api.lots_withdraw_lot": PRODUCERS,
    "api.lots_own_lots": PRODUCERS, "api.lot-documents_upload_document": PRODUCERS,
    "api.imports_import_lots": PRODUCERS, "api.imports_import_reports": PRODUCERS,
    "api.imports_report_template": PRODUCERS, "api.generation-reports_file_report": PRODUCERS,
    "api.shipments_dispatch": PRODUCERS, "api.shipments_list_carriers": PRODUCERS,
    "api.bids_list_bids": RECYCLERS, "api.bids_place_category_bid": RECYCLERS, "api.bids_get_bid": RECYCLERS,
    "api.bids_withdraw_bid": RECYCLERS, "api.bids_place_bid": RECYCLERS,
    "api.demand-profiles_list_profiles": RECYCLERS, "api.demand-profiles_create_profile": RECYCLERS,
    "api.demand-profiles_deactivate_profile": RECYCLERS, "api.shipments_receive": RECYCLERS,
    "api.utilisation_declare": RECYCLERS,
    "api.allocations_list_allocations": PARTIES, "api.allocations_accept": PARTIES,
    "api.allocations_decline": PARTIES, "api.awards_list_awards": PARTIES,
    "api.awards_get_award": PARTIES | {"regulator"}, "api.shipments_list_shipments": PARTIES | {"regulator"},
    "api.shipments_get_shipment": PARTIES | {"regulator"},
    "api.allocations_get_allocation": PARTIES | VIEWERS,
    "api.shipments_list_manifests": {"carrier", "admin"},
    "api.facilities_list_facilities": PARTIES, "api.facilities_create_facility": PARTIES,
    "api.facilities_get_facility": PARTIES, "api.facilities_replace_facility": PARTIES,
    "api.facilities_patch_facility": PARTIES,
    "api.bases_list_bases": VIEWERS, "api.bases_missing_reports": VIEWERS, "api.bases_run_scenario": VIEWERS,
    "api.bases_list_scenarios": VIEWERS, "api.bases_statistics": VIEWERS, "api.bases_list_targets": VIEWERS,
    "api.bases_list_warnings": VIEWERS, "api.bases_set_target": PROVINCE,
    "api.seasonal_list_yards": VIEWERS, "api.seasonal_create_yard": VIEWERS, "api.seasonal_update_yard": VIEWERS,
    "api.seasonal_list_plans": VIEWERS, "api.seasonal_create_plan": VIEWERS, "api.seasonal_get_plan": VIEWERS,
    "api.evaluations_list_evaluations": VIEWERS, "api.evaluations_get_evaluation": VIEWERS,
    "api.evaluations_progress": VIEWERS, "api.evaluations_create_evaluation": PROVINCE,
    "api.evaluations_update_evaluation": PROVINCE,
    "api.match-runs_list_runs": VIEWERS, "api.match-runs_get_run": VIEWERS,
    "api.match-runs_run_allocations": VIEWERS, "api.match-runs_start_run": PROVINCE,
    "api.generation-reports_list_reports": PRODUCERS | {"regulator"},
    "api.utilisation_list_declarations": PARTIES | {"regulator"},
    "api.admin_list_organizations": {"admin"}, "api.admin_set_verification": {"admin"},
    "api.dispatch_accept_plan": CARRIERS, "api.dispatch_add_vehicle": CARRIERS, "api.dispatch_discard_plan": CARRIERS,
    "api.dispatch_get_plan": CARRIERS, "api.dispatch_list_plannable": CARRIERS, "api.dispatch_list_plans": CARRIERS,
    "api.dispatch_list_vehicles": CARRIERS, "api.dispatch_retire_vehicle": CARRIERS,
    "api.dispatch_set_vehicle_hazardous": CARRIERS,
    "api.dispatch_start_plan": CARRIERS, "api.dispatch_get_permit": CARRIERS, "api.dispatch_put_permit": CARRIERS,
    "api.shipments_export_e_manifest": PARTIES | {"carrier", "regulator"},
    "api.questions_list_questions": TOKEN, "api.questions_ask": RECYCLERS, "api.questions_answer": PRODUCERS,
    "api.questions_hide": {"admin"},
    "api.saved-searches_list_searches": RECYCLERS, "api.saved-searches_create_search": RECYCLERS,
    "api.saved-searches_delete_search": RECYCLERS,
}


def web_rules(app) -> list[Rule]:
    """Every rule outside the JSON API (sign-out last: it ends the session)."""
    return sorted((r for r in app.url_map.iter_rules() if not r.rule.startswith("/api/v1")),
                  key=lambda r: (r.endpoint == "auth.logout", r.rule))


def api_rules(app) -> list[Rule]:
    """Every rule of the JSON API."""
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1")), key=lambda r: r.rule)


def test_every_web_route_has_an_access_rule(app):
    missing = sorted({r.endpoint for r in web_rules(app)} - set(ACCESS))
    assert not missing, f"add these endpoints to ACCESS in {__file__}: {missing}"
    stale = sorted(set(ACCESS) - {r.endpoint for r in web_rules(app)})
    assert not stale, f"endpoints no longer exist: {stale}"


def test_every_api_route_has_an_access_rule(app):
    missing = sorted({r.endpoint for r in api_rules(app)} - set(API_ACCESS))
    assert not missing, f"add these endpoints to API_ACCESS in {__file__}: {missing}"
    stale = sorted(set(API_ACCESS) - {r.endpoint for r in api_rules(app)})
    assert not stale, f"endpoints no longer exist: {stale}"


@pytest.fixture
def world(db, reference):
    """One user per role (and an unverified one of each kind); a producer's lot with a sealed bid by an outsider."""
    from tests.factories import resource_base

    def org(role, verified=True):
        kinds = {"base_officer": "base_operator", "admin": "operator"}
        return OrganizationFactory(verified=verified, roles=[OrganizationRole(role=kinds.get(role, role))])

    users = {}
    for name in ROLES[1:]:
        role = name.removeprefix("unverified_")
        users[name] = UserFactory(email=f"{name}@example.com", role=role,
                                  organization=org(role, verified=not name.startswith("unverified_")))
    for name in ("base_officer", "unverified_base_officer"):
        users[name].organization.base = resource_base("daqing")
    db.session.commit()
    plant = FacilityFactory(organization=users["producer"].organization, name="Sealed plant")
    lot = LotFactory(facility=plant, title="Sealed lot")
    other = org("recycler")
    BidFactory(lot=lot, facility=FacilityFactory(organization=other, kind="recycler", lon=126.7, lat=45.8),
               price_yuan_per_t=Decimal(SEALED_PRICE), tonnes=Decimal("123.456"))
    return {"users": users, "lot": lot, "facility": plant}


def url_for_rule(rule: Rule, world) -> str:
    """A concrete URL for a rule: the world's lot and facility, base HRB, csv, else an id that does not exist."""
    values = {}
    for name in rule.arguments:
        if name == "lot_id":
            values[name] = world["lot"].id
        elif name == "facility_id":
            values[name] = world["facility"].id
        elif name == "code":
            values[name] = "daqing"
        elif name == "fmt":
            values[name] = "csv"
        elif name == "what":
            values[name] = "awards"
        elif name == "size":
            values[name] = "thumb"
        elif name == "filename":
            values[name] = "css/app.css"
        else:
            values[name] = 999999
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", str(value))
        path = re.sub(rf"<[^<>]*:{name}>", str(value), path)
    return path


def signed_in_client(app, user):
    """A test client whose session already holds the user (Flask-Login's session key)."""
    client = app.test_client()
    if user is not None:
        sign_in(client, user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_web_route_answers_each_role_as_its_access_rule_says(app, world, role, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # guards, not CSRF, are under test here
    client = signed_in_client(app, world["users"].get(role))
    wrong = []
    for rule in web_rules(app):
        url = url_for_rule(rule, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            status, location = response.status_code, response.headers.get("Location", "")
            body = response.get_data(as_text=True) if response.mimetype and "text" in response.mimetype or \
                response.is_json else ""
            sent_to_login = status == 302 and "/login" in location
            if role in METHOD_ACCESS.get(f"{method} {rule.endpoint}", ACCESS.get(rule.endpoint, ())):
                # past the role guard a view may still refuse an object the user's organisation does not own
                ok = status < 500 and not sent_to_login and (status != 403 or _names_an_object(rule))
            elif role == "anonymous":
                ok = sent_to_login
            else:
                ok = status == 403
            if not ok:
                wrong.append(f"{method} {url} → {status} {location}")
            if SEALED_PRICE in body:
                wrong.append(f"{method} {url} shows the sealed bid price {SEALED_PRICE}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def _names_an_object(rule: Rule) -> bool:
    """Whether the route addresses one object (lot, bid, award …) whose view checks who owns it."""
    return any(name.endswith("_id") for name in rule.arguments)


@pytest.mark.parametrize("role", ROLES)
def test_every_api_route_answers_each_role_as_its_access_rule_says(app, client, db, world, role, monkeypatch):
    monkeypatch.setitem(app.config, "API_BAD_TOKEN_RATE_LIMIT", "100000/minute")  # guards, not limits, here
    limiter.reset()
    user = world["users"].get(role)
    headers = {"Authorization": f"Bearer {api_tokens.create(db.session, user, 'matrix').secret}"} if user else {}
    wrong = []
    for rule in api_rules(app):
        url = url_for_rule(rule, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, headers=headers,
                                   json={} if method in ("POST", "PUT", "PATCH") else None)
            status = response.status_code
            if role in API_ACCESS[rule.endpoint]:
                ok = status < 500 and status not in (401, 403) or (status == 403 and _names_an_object(rule))
            elif role == "anonymous":
                ok = status == 401 and response.mimetype == "application/problem+json"
            else:
                ok = status == 403 and response.mimetype == "application/problem+json"
            if not ok:
                wrong.append(f"{method} {url} → {status} {response.get_data()[:120]!r}")
            if SEALED_PRICE.encode() in response.get_data():
                wrong.append(f"{method} {url} shows the sealed bid price {SEALED_PRICE}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
