"""Authorisation matrix: every web route × every role → allowed, sent to sign in, or forbidden; sealed bids stay sealed.

Built from app.url_map: a new route without an entry in ACCESS fails test_every_web_route_has_an_access_rule.
The JSON API (/api/v1) has its own tests.
"""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from werkzeug.routing import Rule

from models import OrganizationRole
from tests.factories import BidFactory, FacilityFactory, LotFactory, OrganizationFactory, UserFactory

ROLES = ("anonymous", "producer", "recycler", "carrier", "base_officer", "regulator", "admin", "unverified")
PUBLIC = frozenset(ROLES)
SIGNED_IN = PUBLIC - {"anonymous"}
VIEWERS = {"base_officer", "regulator", "admin"}
SEALED_PRICE = "87.65"  # the other recycler's bid: no page any matrix role loads may show it

# endpoint → roles that pass its guard (admins pass every role guard; "unverified" is a producer of an
# unverified organisation and fails every trader guard). Everyone else: anonymous → sign-in, others → 403.
ACCESS: dict[str, frozenset[str] | set[str]] = {
    "static": PUBLIC, "public.home": PUBLIC, "auth.login": PUBLIC, "auth.register": PUBLIC,
    "auth.logout": SIGNED_IN,
    "lots.index": PUBLIC, "lots.detail": PUBLIC, "lots.map_view": PUBLIC, "lots.map_json": PUBLIC,
    "facilities.prefectures_geojson": PUBLIC,
    "lots.create": {"producer", "admin"}, "lots.edit": {"producer", "admin"}, "lots.withdraw": {"producer", "admin"},
    "lots.import_lots": {"producer", "admin"}, "lots.upload_document": {"producer", "admin"},
    "lots.import_template": SIGNED_IN, "lots.document": SIGNED_IN, "lots.photo": SIGNED_IN,
    "lots.mine": {"producer", "admin", "unverified"},
    "lots.ask": {"recycler", "admin"}, "lots.answer": {"producer", "admin"}, "lots.hide_question": {"admin"},
    "searches.index": {"recycler", "admin"}, "exports.download": {"producer", "recycler", "admin", "unverified"},
    "searches.delete": {"recycler", "admin"},
    "facilities.index": {"producer", "recycler", "admin", "unverified"},
    "facilities.create": {"producer", "recycler", "admin", "unverified"},
    "facilities.detail": {"producer", "recycler", "admin", "unverified"},
    "facilities.edit": {"producer", "recycler", "admin", "unverified"},
    "admin.organizations": {"admin"}, "admin.set_verification": {"admin"},
    "bids.index": {"recycler", "admin"}, "bids.new": {"recycler", "admin"}, "bids.withdraw": {"recycler", "admin"},
    "bids.received": {"producer", "admin", "unverified"}, "bids.lot_status": SIGNED_IN,
    "bids.new_profile": {"recycler", "admin"}, "bids.new_category_bid": {"recycler", "admin"},
    "bids.deactivate_profile": {"recycler", "admin"},
    "clearing.index": VIEWERS, "clearing.start": {"base_officer", "admin"}, "clearing.run": VIEWERS,
    "clearing.status": VIEWERS, "clearing.flows": VIEWERS,
    "awards.index": {"producer", "recycler", "admin", "unverified"}, "awards.decide": {"producer", "recycler", "admin"},
    "awards.detail": {"producer", "recycler", "regulator", "admin", "unverified"},
    "shipments.dispatch": {"producer", "admin"}, "shipments.receive": {"recycler", "admin"},
    "shipments.utilisation": {"recycler", "admin"}, "shipments.manifests": {"carrier", "admin"},
    "notifications.inbox": SIGNED_IN, "notifications.read": SIGNED_IN, "notifications.read_all": SIGNED_IN,
    "tokens.index": SIGNED_IN, "tokens.create": SIGNED_IN, "tokens.revoke": SIGNED_IN,
    "bases.index": VIEWERS, "bases.dashboard": VIEWERS, "bases.chart_data": VIEWERS, "bases.flows_geojson": VIEWERS,
    "bases.export": VIEWERS, "bases.warnings": VIEWERS, "bases.missing": VIEWERS, "bases.targets": VIEWERS,
    "bases.scenario": VIEWERS, "bases.evaluation_register": VIEWERS,
    "bases.edit_evaluation": {"regulator", "admin"},
    "bases.reports": {"producer", "regulator", "admin", "unverified"},
    "bases.import_reports": {"producer", "admin", "unverified"},
    "bases.report_template": {"producer", "admin", "unverified"},
    "seasonal.plan": VIEWERS, "seasonal.run": VIEWERS, "seasonal.run_data": VIEWERS, "seasonal.yards": VIEWERS,
    "seasonal.delete_yard": VIEWERS, "seasonal.seasons": {"producer", "recycler", "admin", "unverified"},
    "dispatch.index": {"carrier", "admin"}, "dispatch.start": {"carrier", "admin"},
    "dispatch.plan": {"carrier", "admin"},
    "dispatch.plan_status": {"carrier", "admin"}, "dispatch.plan_routes": {"carrier", "admin"},
    "dispatch.accept": {"carrier", "admin"}, "dispatch.discard": {"carrier", "admin"},
    "dispatch.vehicles": {"carrier", "admin"}, "dispatch.retire_vehicle": {"carrier", "admin"},
}

# Where a route's POST is narrower than its GET.
METHOD_ACCESS = {"POST bases.reports": {"producer", "admin", "unverified"},
                 "POST bases.targets": {"regulator", "admin"}, "POST bases.evaluation_register": {"regulator", "admin"}}


def web_rules(app) -> list[Rule]:
    """Every rule outside the JSON API."""
    return sorted((r for r in app.url_map.iter_rules() if not r.rule.startswith("/api/")),
                  key=lambda r: (r.endpoint == "auth.logout", r.rule))


def test_every_web_route_has_an_access_rule(app):
    missing = sorted({r.endpoint for r in web_rules(app)} - set(ACCESS))
    assert not missing, f"add these endpoints to ACCESS in {__file__}: {missing}"
    stale = sorted(set(ACCESS) - {r.endpoint for r in web_rules(app)})
    assert not stale, f"endpoints no longer exist: {stale}"


@pytest.fixture
def world(db, reference):
    """One user per role, a producer's lot with a sealed bid by a recycler outside the matrix."""
    def org(role, verified=True):
        kinds = [OrganizationRole(role=role)] if role in ("producer", "recycler", "carrier") else []
        return OrganizationFactory(verified=verified, roles=kinds)

    from tests.factories import resource_base

    users = {}
    for role in ROLES[1:]:
        users[role] = UserFactory(email=f"{role}@example.com", role="producer" if role == "unverified" else role,
                                  organization=org("producer" if role == "unverified" else role,
                                                   verified=role != "unverified"))
    users["base_officer"].organization.base = resource_base("daqing")
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
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
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
