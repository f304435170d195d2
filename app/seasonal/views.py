"""Views of the seasonal pages: plan a year, read a plan month by month, manage yards, set a plant's seasons."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app import policy
from app.actions import perform, show_error
from app.bases.views import _scope_or_403
from app.extensions import db
from app.permissions import allowed
from app.seasonal.forms import PlanForm, SeasonsForm, YardForm
from app.services import catalogue, facilities, seasonal
from app.services.errors import PermissionDenied, ServiceError
from app.services.utilisation import Scope
from models import Facility, utcnow

blueprint = Blueprint("seasonal", __name__)


def _locale() -> str:
    return str(get_locale())


def _next_month() -> str:
    today = utcnow().date()
    return f"{today.year + today.month // 12:04d}-{today.month % 12 + 1:02d}"


def _kilns(scope: Scope) -> list:
    """Recycler facilities of the scope, the ones a what-if may reschedule."""
    stmt = (sa.select(Facility).where(Facility.kind.in_(("recycler", "both")), scope.facility_filter())
            .order_by(Facility.name))
    return list(db.session.scalars(stmt))


def _plan_form(scope: Scope) -> PlanForm:
    form = PlanForm()
    form.yard_category.choices = catalogue.with_blank(catalogue.category_choices(db.session, _locale()))
    form.kiln.choices = [SelectChoice("", "—")] + [SelectChoice(str(f.id), f.name) for f in _kilns(scope)]
    if not form.start.data:
        form.start.data = _next_month()
    return form


def _what_if(form: PlanForm) -> seasonal.WhatIf:
    yard = None
    if form.yard_category.data:
        yard = {"category": form.yard_category.data, "lon": form.yard_lon.data, "lat": form.yard_lat.data,
                "capacity_t": form.yard_capacity_t.data, "cost_yuan_per_t_month": form.yard_cost.data}
    stopped = tuple(sorted(int(m) for m in form.kiln_stopped.data or ()))
    return seasonal.WhatIf(yard=yard, kiln_facility_id=form.kiln.data or None, kiln_stopped_months=stopped)


@blueprint.route("/bases/<code>/seasonal", methods=["GET", "POST"])
@allowed(policy.may_view_statistics)
def plan(code: str):
    """Plan the year month by month; optionally try a yard or a moved kiln stop."""
    scope = _scope_or_403(code)
    form = _plan_form(scope)
    if form.validate_on_submit():
        try:
            what_if = seasonal.check_what_if(db.session, _what_if(form))
            run = seasonal.run_plan(db.session, current_user.row, scope, form.start.data, what_if, locale=_locale())
        except ServiceError as exc:
            show_error(form, exc)
        else:
            return redirect(url_for("seasonal.run", code=scope.code, run_id=run.id))
    status = 422 if form.errors or form.form_errors else 200
    kilns = [f for f in _kilns(scope) if f.operating_months]
    return render_template("seasonal/plan.html", scope=scope, scope_name=scope.name(_locale()), form=form,
                           recent=seasonal.recent(db.session, current_user.row), kilns=kilns), status


def _run_or_404(run_id: int):
    run = seasonal.get_run(db.session, current_user.row, run_id)
    if run is None:
        abort(404)
    return run


@blueprint.route("/bases/<code>/seasonal/<int:run_id>")
@allowed(policy.may_view_statistics)
def run(code: str, run_id: int):
    """A plan month by month: deliveries, yard levels, landfill, base rates, a map per month, the what-if."""
    scope = _scope_or_403(code)
    plan_run = _run_or_404(run_id)
    return render_template("seasonal/run.html", scope=scope, scope_name=scope.name(_locale()), run=plan_run,
                           results=plan_run.results,
                           boundaries_url=url_for("facilities.prefectures_geojson"),
                           tile_url=current_app.config.get("MAP_TILE_URL") or "")


@blueprint.route("/bases/<code>/seasonal/<int:run_id>.json")
@allowed(policy.may_view_statistics)
def run_data(code: str, run_id: int):
    """The plan's numbers for the chart and the monthly map."""
    _scope_or_403(code)
    plan_run = _run_or_404(run_id)
    which = "scenario" if request.args.get("which") == "scenario" and "scenario" in plan_run.results else "baseline"
    data = plan_run.results[which]
    codes = {f["category"] for lines in data["flows"].values() for f in lines}
    return jsonify({"periods": data["periods"], "yards": data["yards"], "flows": data["flows"],
                    "category_names": catalogue.category_names(db.session, codes, _locale()),
                    "labels": {"level": _("Month-end stock (t)")}})


@blueprint.route("/bases/<code>/yards", methods=["GET", "POST"])
@allowed(policy.may_view_statistics)
def yards(code: str):
    """The base's storage yards; officers add them in their own base, the regulator anywhere."""
    scope = _scope_or_403(code)
    form = YardForm()
    form.category.choices = catalogue.category_choices(db.session, _locale())
    if form.validate_on_submit():
        data = {k: getattr(form, k).data for k in ("name", "category", "lon", "lat", "capacity_t",
                                                   "cost_yuan_per_t_month", "loss_pct_per_month")}
        try:
            seasonal.add_yard(db.session, current_user.row, scope, data)
        except PermissionDenied:
            abort(403)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            return redirect(url_for("seasonal.yards", code=scope.code))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("seasonal/yards.html", scope=scope, scope_name=scope.name(_locale()), form=form,
                           yards=seasonal.yards(db.session, scope),
                           can_manage=seasonal.may_manage_yards(current_user.row, scope), locale=_locale()), status


@blueprint.route("/bases/<code>/yards/<int:yard_id>/delete", methods=["POST"])
@allowed(policy.may_view_statistics)
def delete_yard(code: str, yard_id: int):
    """Remove a yard of the base."""
    scope = _scope_or_403(code)
    return perform(lambda: seasonal.delete_yard(db.session, current_user.row, scope, yard_id), _("Yard removed."),
                   url_for("seasonal.yards", code=scope.code))


def _as_text(values) -> str:
    return " ".join(f"{v:g}" for v in values) if values else ""


@blueprint.route("/facilities/<int:facility_id>/seasons", methods=["GET", "POST"])
@allowed(policy.may_manage_facility)
def seasons(facility_id: int):
    """A plant's operating months and generation profile."""
    try:
        facility = facilities.get_editable(db.session, current_user.row, facility_id)
    except PermissionDenied:
        abort(403)
    if facility is None:
        abort(404)
    form = SeasonsForm()
    if request.method == "GET":
        form.operating_months.data = _as_text(facility.operating_months)
        form.generation_profile.data = _as_text(facility.generation_profile)
    elif form.validate_on_submit():
        if form.kiln_default.data:
            form.operating_months.data = _as_text(seasonal.KILN_STAGGERED_MONTHS)
        if form.heating_default.data:
            form.generation_profile.data = _as_text(seasonal.HEATING_SEASON_PROFILE)
        try:
            seasonal.set_seasons(db.session, current_user.row, facility, form.operating_months.data,
                                 form.generation_profile.data)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            return redirect(url_for("seasonal.seasons", facility_id=facility.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("seasonal/seasons.html", facility=facility, form=form,
                           kiln_default=_as_text(seasonal.KILN_STAGGERED_MONTHS)), status

