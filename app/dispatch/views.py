"""Views of the dispatch blueprint: trucks, planning, a plan's map and run sheets, accepting a plan."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import policy
from app.actions import perform, show_error
from app.dispatch.forms import PermitForm, PlanForm, VehicleForm, parse_windows
from app.extensions import db
from app.labels import label
from app.permissions import allowed
from app.services import dispatch
from app.services.errors import PermissionDenied, ServiceError
from models import utcnow

blueprint = Blueprint("dispatch", __name__, url_prefix="/dispatch")
PLAN_STATUS = {"queued": _l("Queued"), "running": _l("Planning"), "ready": _l("Ready to accept"),
               "failed": _l("Failed"), "accepted": _l("Accepted"), "discarded": _l("Discarded")}
UNSERVED_REASON = {
    "too_heavy": _l("Heavier than every truck and cannot be split"),
    "out_of_range": _l("The round trip from every depot able to carry it exceeds that truck's km a day"),
    "no_road": _l("No road between its pickup, drop-off and a depot"),
    "time_window": _l("Its ready and due dates leave no day of the plan to carry it"),
    "fleet_full": _l("No truck-day left to carry it within its km a day and its dates"),
}


@blueprint.app_context_processor
def dispatch_labels() -> dict:
    """Translated plan statuses and unserved reasons for the templates."""
    return {"plan_status_label": lambda c: label(PLAN_STATUS, c),
            "unserved_reason_label": lambda c: label(UNSERVED_REASON, c)}


def _plan_form(form: PlanForm | None = None) -> PlanForm:
    form = form or PlanForm(formdata=None, start_date=utcnow().date())
    form.shipment_ids.choices = [(s.id, s.manifest_no) for s in dispatch.plannable_shipments(db.session,
                                                                                             current_user.row)]
    form.vehicle_ids.choices = [(v.id, v.plate) for v in dispatch.vehicles(db.session, current_user.row)]
    form.time_limit_s.choices = [(s, _("%(s)d s", s=s)) for s in dispatch.TIME_LIMITS_S]
    return form


def _index(form: PlanForm | None = None, status: int = 200):
    form = _plan_form(form)
    return render_template("dispatch/index.html", form=form,
                           loads=dispatch.plannable_shipments(db.session, current_user.row),
                           trucks=dispatch.vehicles(db.session, current_user.row),
                           plans=dispatch.plans(db.session, current_user.row),
                           last_windows={} if request.method == "POST" else dispatch.last_windows(
                               db.session, current_user.row)), status


@blueprint.route("/")
@allowed(policy.may_see_manifests)
def index():
    """Choose loads and trucks and plan; earlier plans."""
    return _index()


@blueprint.route("/plans", methods=["POST"])
@allowed(policy.may_see_manifests)
def start():
    """Queue a plan; the plan page shows its progress."""
    form = _plan_form(PlanForm())
    if form.validate_on_submit():
        try:
            windows = parse_windows(request.form, form.shipment_ids.data)
            plan = dispatch.start_plan(db.session, current_user.row, form.shipment_ids.data, form.vehicle_ids.data,
                                       form.start_date.data, form.days.data, form.time_limit_s.data,
                                       windows=windows)
        except ValueError as exc:
            form.form_errors.append(str(exc))
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            return redirect(url_for("dispatch.plan", plan_id=plan.id))
    return _index(form, 400)


def _plan_or_403(plan_id: int):
    try:
        return dispatch.plan_for(db.session, current_user.row, plan_id)
    except PermissionDenied:
        abort(403)


@blueprint.route("/plans/<int:plan_id>")
@allowed(policy.may_see_manifests)
def plan(plan_id: int):
    """A plan: progress while it runs; then figures against the baseline, the map and one run sheet per truck-day."""
    plan = _plan_or_403(plan_id)
    shown = plan.status in ("ready", "accepted")
    return render_template("dispatch/plan.html", plan=plan, progress=dispatch.progress_pct(plan),
                           routes=dispatch.routes(db.session, plan) if shown else [],
                           manifests=dispatch.plan_manifests(db.session, plan),
                           windows=dispatch.plan_windows(plan), stop_facility=dispatch.stop_facility,
                           co2_source=dispatch.CO2_SOURCE)


@blueprint.route("/plans/<int:plan_id>/status")
@allowed(policy.may_see_manifests)
def plan_status(plan_id: int):
    """Progress for the poller."""
    plan = _plan_or_403(plan_id)
    done = plan.status not in ("queued", "running")
    return jsonify({"status": plan.status, "progress_pct": dispatch.progress_pct(plan), "done": done,
                    "message": ""})


@blueprint.route("/plans/<int:plan_id>/routes.geojson")
@allowed(policy.may_see_manifests)
def plan_routes(plan_id: int):
    """The plan's routes as GeoJSON lines."""
    plan = _plan_or_403(plan_id)
    return Response(json.dumps(dispatch.routes_geojson(db.session, plan)), mimetype="application/geo+json")


@blueprint.route("/plans/<int:plan_id>/accept", methods=["POST"])
@allowed(policy.may_see_manifests)
def accept(plan_id: int):
    """Accept a plan: loads get their truck, stop and expected arrival."""
    return perform(lambda: dispatch.accept_plan(db.session, current_user.row, plan_id),
                   _("Plan accepted: producers and recyclers see the expected arrival."),
                   url_for("dispatch.plan", plan_id=plan_id))


@blueprint.route("/plans/<int:plan_id>/discard", methods=["POST"])
@allowed(policy.may_see_manifests)
def discard(plan_id: int):
    """Discard a plan that is not accepted."""
    return perform(lambda: dispatch.discard_plan(db.session, current_user.row, plan_id), _("Plan discarded."),
                   url_for("dispatch.index"))


@blueprint.route("/vehicles", methods=["GET", "POST"])
@allowed(policy.may_see_manifests)
def vehicles():
    """The organisation's trucks; add one."""
    form = VehicleForm()
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            data = dispatch.VehicleInput(form.plate.data, form.capacity_t.data, form.cost_yuan_per_km.data,
                                         form.max_km.data, form.depot_place.data, form.depot_lon.data,
                                         form.depot_lat.data)
            try:
                vehicle = dispatch.add_vehicle(db.session, current_user.row, data)
            except PermissionDenied:
                abort(403)
            except ServiceError as exc:
                show_error(form, exc)
            else:
                flash(_("Vehicle %(plate)s added.", plate=vehicle.plate), "success")
                return redirect(url_for("dispatch.vehicles"))
    return _vehicles_page(form, None, status)


def _vehicles_page(form: VehicleForm | None, permit_form: PermitForm | None, status: int = 200):
    if permit_form is None:
        number, until = dispatch.permit(current_user.row)
        permit_form = PermitForm(formdata=None, dg_permit_no=number, dg_permit_valid_until=until)
    return render_template("dispatch/vehicles.html", form=form or VehicleForm(formdata=None), permit_form=permit_form,
                           permit_valid=policy.carries_hazardous(current_user.row.organization, None),
                           trucks=dispatch.vehicles(db.session, current_user.row)), status


@blueprint.route("/permit", methods=["POST"])
@allowed(policy.may_keep_permit)
def permit():
    """Record the organisation's road dangerous-goods transport permit (hazardous loads need it)."""
    form = PermitForm()
    if form.validate_on_submit():
        try:
            dispatch.set_permit(db.session, current_user.row, form.dg_permit_no.data, form.dg_permit_valid_until.data)
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Dangerous-goods transport permit saved."), "success")
            return redirect(url_for("dispatch.vehicles"))
    return _vehicles_page(None, form, 400)


@blueprint.route("/vehicles/<int:vehicle_id>/retire", methods=["POST"])
@allowed(policy.may_see_manifests)
def retire_vehicle(vehicle_id: int):
    """Take a truck out of planning."""
    return perform(lambda: dispatch.retire_vehicle(db.session, current_user.row, vehicle_id),
                   _("Vehicle retired."), url_for("dispatch.vehicles"))
