"""Views of the bases blueprint: dashboards, exports, reports, targets, warnings, scenarios, evaluations."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app import policy
from app.actions import show_error
from app.bases.forms import EvaluationForm, ImportForm, MonthForm, ReportForm, ScenarioForm, TargetForm
from app.extensions import db
from app.labels import EVALUATION_STATUS, FAMILY
from app.permissions import allowed, check
from app.services import catalogue, evaluations, generation_reports, reference, scenarios, spreadsheets, utilisation
from app.services import dispatch as dispatch_plans
from app.services.errors import ServiceError
from app.services.spreadsheets import ImportRejected
from app.services.utilisation import Scope
from models import Organization, ResourceBase
from models.bases import EVALUATION_STATUSES

blueprint = Blueprint("bases", __name__, url_prefix="/bases")


def _locale() -> str:
    return str(get_locale())


def _scope_or_403(code: str) -> Scope:
    """The scope named in the URL, if the signed-in user may see it (404 unknown, 403 not theirs)."""
    scope = utilisation.scope_named(db.session, code)
    if scope is None:
        abort(404)
    check(policy.may_oversee(current_user.row, scope.base))
    return scope


def _year() -> int:
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else utilisation.default_year(db.session)


def _chosen_month(form: MonthForm) -> dt.date:
    """The month the form asks for, else the latest reported month of the chosen year."""
    if form.validate() and form.month.data:
        return utilisation.month_start(form.month.data)
    return utilisation.latest_month(db.session, _year())


# ----------------------------------------------------------------------------- dashboards


@blueprint.route("")
@allowed(policy.may_view_statistics)
def index():
    """Bases the user may see; an officer goes straight to their base."""
    if current_user.role == policy.BASE_OFFICER:
        base = current_user.organization.base
        if base is None:
            abort(403)
        return redirect(url_for("bases.dashboard", code=base.code))
    bases = db.session.scalars(sa.select(ResourceBase).order_by(ResourceBase.id)).all()
    return render_template("bases/index.html", bases=bases, locale=_locale())


@blueprint.route("/<code>")
@allowed(policy.may_view_statistics)
def dashboard(code: str):
    """A base's (or the province's) rate against target, tonnes, flows, rankings and avoided CO2 and tax."""
    scope = _scope_or_403(code)
    year = _year()
    locale = _locale()
    session = db.session
    table = utilisation.year_table(session, scope, year, locale)
    month = utilisation.latest_month(db.session, year)
    return render_template(
        "bases/dashboard.html",
        scope=scope,
        scope_name=scope.name(locale),
        year=year,
        table=table,
        warnings=utilisation.warnings(session, scope, month.year, month.month, locale),
        month=month,
        producers=utilisation.top_producers(session, scope, year),
        recyclers=utilisation.top_recyclers(session, scope, year),
        boundaries_url=url_for("facilities.prefectures_geojson"),
        tile_url=current_app.config.get("MAP_TILE_URL") or "",
        locale=locale,
        consolidation=dispatch_plans.co2_saved_in_scope(session, scope, year),
        target_assumed=utilisation.target_assumed(session, scope),
    )


@blueprint.route("/<code>/data.json")
@allowed(policy.may_view_statistics)
def chart_data(code: str):
    """Chart data: monthly bulk-waste rate with the target trajectory, and tonnes by category for the year."""
    scope = _scope_or_403(code)
    year = _year()
    locale = _locale()
    family = request.args.get("family", "bulk_industrial")
    family = family if family in FAMILY else None
    data = utilisation.series(db.session, scope, dt.date(year - 1, 1, 1), dt.date(year + 1, 1, 1), "month", family)
    data["target"] = utilisation.trajectory(
        utilisation.targets(db.session, scope, family or "bulk_industrial"), data["periods"]
    )
    table = utilisation.year_table(db.session, scope, year, locale)
    data["by_category"] = {
        "labels": [r["category_name"] for r in table.rows],
        "generated_t": [r["generated_t"] for r in table.rows],
        "utilised_t": [r["utilised_t"] for r in table.rows],
    }
    data["labels"] = {
        "rate": _("Utilisation rate"),
        "target": (_("Target trajectory (the province's, assumed for the base)")
                   if utilisation.target_assumed(db.session, scope, family or "bulk_industrial")
                   else _("Target trajectory")),
        "generated": _("Generated (t)"),
        "utilised": _("Utilised (t)"),
    }
    if data["demo"] or table.demo:
        # Charts are screenshotted on their own: the mark goes into every series label.
        data["labels"] = {k: _("%(label)s (demo data)", label=v) for k, v in data["labels"].items()}
    return jsonify(utilisation.as_json(data))


@blueprint.route("/<code>/flows.geojson")
@allowed(policy.may_view_statistics)
def flows_geojson(code: str):
    """Marketplace deliveries from the scope's producers to recyclers, as GeoJSON lines."""
    scope = _scope_or_403(code)
    year = _year()
    rows = utilisation.flows(db.session, scope, year, _locale())
    body = json.dumps(utilisation.flows_geojson(rows), ensure_ascii=False)
    response = Response(body, mimetype="application/geo+json")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f"attachment; filename=flows-{scope.code}-{year}.geojson"
    return response


EXPORT_COLUMNS = (
    "category",
    "category_name",
    "generated_t",
    "from_storage_t",
    "self_utilised_t",
    "supplied_t",
    "market_utilised_t",
    "utilised_t",
    "stored_t",
    "disposed_t",
    "dumped_t",
    "rate",
    "co2_avoided_t",
    "env_tax_exemption_yuan",
)


def _export_rows(scope: Scope, year: int) -> list[list]:
    table = utilisation.year_table(db.session, scope, year, _locale())
    rows = [[r[k] for k in EXPORT_COLUMNS] for r in table.rows]
    rows.append([_("Total"), ""] + [table.total[k] for k in EXPORT_COLUMNS[2:]])
    if table.demo:
        rows.append([_("DEMO DATA: these figures include invented demo data and are not official statistics.")])
    return rows


@blueprint.route("/<code>/export.<fmt>")
@allowed(policy.may_view_statistics)
def export(code: str, fmt: str):
    """The year's table by category as CSV or XLSX."""
    scope = _scope_or_403(code)
    year = _year()
    rows = _export_rows(scope, year)
    name = f"utilisation-{scope.code}-{year}"
    if fmt == "csv":
        return Response(
            spreadsheets.csv_bytes([EXPORT_COLUMNS, *rows]),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={name}.csv"},
        )
    if fmt == "xlsx":
        body = spreadsheets.xlsx_bytes(str(year), [EXPORT_COLUMNS, *([float(v) if isinstance(v, Decimal) else v
                                                                      for v in row] for row in rows)])
        return Response(
            body,
            headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    abort(404)


@blueprint.route("/<code>/warnings")
@allowed(policy.may_view_statistics)
def warnings(code: str):
    """Early warnings for a month: behind the trajectory, and large producers' storage growing."""
    scope = _scope_or_403(code)
    form = MonthForm(request.args)
    month = _chosen_month(form)
    found = utilisation.warnings(db.session, scope, month.year, month.month, _locale())
    return render_template(
        "bases/warnings.html", scope=scope, scope_name=scope.name(_locale()), form=form, month=month, warnings=found
    )


@blueprint.route("/<code>/missing")
@allowed(policy.may_view_statistics)
def missing(code: str):
    """Producer facilities of the base that have not reported for a month."""
    scope = _scope_or_403(code)
    form = MonthForm(request.args)
    month = _chosen_month(form)
    facilities = generation_reports.missing_reporters(db.session, scope.base.id if scope.base else None, month)
    return render_template(
        "bases/missing.html",
        scope=scope,
        scope_name=scope.name(_locale()),
        form=form,
        month=month,
        facilities=facilities,
    )


@blueprint.route("/<code>/targets", methods=["GET", "POST"])
@allowed(policy.may_view_statistics)
def targets(code: str):
    """A base's targets: everyone who sees the base reads them; the regulator and admin set them."""
    scope = _scope_or_403(code)
    form = TargetForm()
    form.family.choices = [SelectChoice(k, str(v)) for k, v in FAMILY.items()]
    if request.method == "POST":
        check(policy.may_set_targets(current_user.row))
        if form.validate_on_submit():
            utilisation.save_target(
                db.session,
                current_user.row,
                scope,
                form.family.data,
                form.year.data,
                form.target_pct.data / 100,
                form.source.data,
            )
            flash(_("Target saved."), "success")
            return redirect(url_for("bases.targets", code=code))
    return render_template(
        "bases/targets.html",
        scope=scope,
        scope_name=scope.name(_locale()),
        form=form,
        rows=utilisation.target_rows(db.session, scope),
        can_edit=policy.may_set_targets(current_user.row),
        recovery_target=reference.RENEWABLE_RECOVERY_2025,
        recovery_source=reference.RENEWABLE_SOURCE,
    )


# ----------------------------------------------------------------------------- scenarios


def _scenario_form() -> ScenarioForm:
    form = ScenarioForm()
    choices = catalogue.with_blank(catalogue.category_choices(db.session, _locale()))
    for entry in form.subsidies:
        entry.form.category.choices = choices
    return form


@blueprint.route("/<code>/scenarios", methods=["GET", "POST"])
@allowed(policy.may_view_statistics)
def scenario(code: str):
    """What-if: subsidies, carbon price, freight change and haul limit against the baseline clearing."""
    scope = _scope_or_403(code)
    form = _scenario_form()
    comparison = None
    if form.validate_on_submit():
        subsidies = {
            e.form.category.data: e.form.yuan_per_t.data
            for e in form.subsidies
            if e.form.category.data and e.form.yuan_per_t.data
        }
        params = scenarios.ScenarioParams(
            subsidies=subsidies,
            carbon_price_yuan_per_t=form.carbon_price.data or Decimal(0),
            freight_change_pct=form.freight_change_pct.data or Decimal(0),
            haul_limit_km=form.haul_limit_km.data,
        )
        try:
            _run, comparison = scenarios.run_scenario(
                db.session, current_user.row, params, scope, utilisation.default_year(db.session)
            )
        except ServiceError as exc:
            flash(exc.message, "error")
    category_names = {c.code: c.display_name(_locale()) for c in catalogue.categories(db.session)}
    return render_template(
        "bases/scenarios.html",
        scope=scope,
        scope_name=scope.name(_locale()),
        form=form,
        comparison=comparison,
        recent=scenarios.recent(db.session, current_user.row),
        category_names=category_names,
    )


# ----------------------------------------------------------------------------- generation reports


def _report_form() -> ReportForm:
    form = ReportForm()
    form.facility.choices = [
        SelectChoice(f.id, f.name) for f in generation_reports.reporting_facilities(db.session, current_user.row)
    ]
    form.category.choices = catalogue.category_choices(db.session, _locale())
    return form


@blueprint.route("/reports", methods=["GET", "POST"])
@allowed(policy.may_read_reports)
def reports():
    """File a month's report for one of the producer's facilities; list the latest reports."""
    form = _report_form()
    import_form = ImportForm(formdata=None)
    if request.method == "POST":
        check(policy.may_file_reports(current_user.row))
    if form.validate_on_submit():
        category = catalogue.categories(db.session)
        category_id = next(c.id for c in category if c.code == form.category.data)
        data = generation_reports.ReportInput(
            facility_id=form.facility.data,
            category_id=category_id,
            period=utilisation.month_start(form.period.data),
            **{k: getattr(form, k).data for k in generation_reports.TONNE_FIELDS}
            | {"disposed_from_storage_t": form.disposed_from_storage_t.data or Decimal(0)},
        )
        try:
            generation_reports.file_report(db.session, current_user.row, data)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Report saved."), "success")
            return redirect(url_for("bases.reports"))
    return _render_reports(form, import_form, status=400 if request.method == "POST" else 200)


def _render_reports(form, import_form, import_errors=None, status=200):
    rows = generation_reports.reports_of(db.session, current_user.row)
    return render_template(
        "bases/reports.html",
        form=form,
        import_form=import_form,
        rows=rows,
        import_errors=import_errors or [],
        locale=_locale(),
    ), status


@blueprint.route("/reports/import", methods=["POST"])
@allowed(policy.may_file_reports)
def import_reports():
    """Import a spreadsheet of reports: all rows or none, every bad row listed."""
    form = _report_form()
    import_form = ImportForm()
    if not import_form.validate_on_submit():
        return _render_reports(form, import_form, status=400)
    upload = import_form.file.data
    try:
        count = generation_reports.import_reports(db.session, current_user.row, upload.filename, upload.read())
    except ImportRejected as exc:
        db.session.rollback()
        import_form.file.errors.append(exc.message)
        return _render_reports(form, import_form, exc.errors, status=400)
    except ServiceError as exc:
        db.session.rollback()
        import_form.file.errors.append(exc.message)
        return _render_reports(form, import_form, status=400)
    flash(_("%(n)d reports imported.", n=count), "success")
    return redirect(url_for("bases.reports"))


@blueprint.route("/reports/template.xlsx")
@allowed(policy.may_file_reports)
def report_template():
    """The XLSX import template, pre-filled with the user's facilities."""
    body = generation_reports.template_xlsx(db.session, current_user.row, _locale())
    return Response(
        body,
        headers={"Content-Disposition": "attachment; filename=generation-reports.xlsx"},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# ----------------------------------------------------------------------------- evaluation register


def _evaluation_form(obj=None) -> EvaluationForm:
    form = EvaluationForm(obj=obj)
    orgs = db.session.scalars(sa.select(Organization).order_by(Organization.name)).all()
    form.organization.choices = [SelectChoice(o.id, o.name) for o in orgs]
    form.status.choices = [SelectChoice(s, str(EVALUATION_STATUS[s])) for s in EVALUATION_STATUSES]
    return form


@blueprint.route("/evaluations", methods=["GET", "POST"])
@allowed(policy.may_view_statistics)
def evaluation_register():
    """The register and progress against 300 evaluated enterprises by 2025; the regulator adds entries."""
    form = _evaluation_form()
    can_edit = policy.may_edit_register(current_user.row)
    if request.method == "POST":
        check(can_edit)
        if _save_evaluation(form, None):
            return redirect(url_for("bases.evaluation_register"))
    return _register_page(form, can_edit, None)


@blueprint.route("/evaluations/<int:evaluation_id>", methods=["GET", "POST"])
@allowed(policy.may_edit_register)
def edit_evaluation(evaluation_id: int):
    """Edit one entry of the register."""
    from models import EnterpriseEvaluation

    evaluation = db.session.get(EnterpriseEvaluation, evaluation_id) or abort(404)
    form = _evaluation_form(None if request.method == "POST" else evaluation)
    if request.method == "GET":
        form.organization.data = evaluation.organization_id
    if request.method == "POST" and _save_evaluation(form, evaluation_id):
        return redirect(url_for("bases.evaluation_register"))
    return _register_page(form, True, evaluation)


def _register_page(form: EvaluationForm, can_edit: bool, editing) -> str:
    return render_template("bases/evaluations.html", form=form, rows=evaluations.register(db.session),
                           progress=evaluations.progress(db.session), can_edit=can_edit, editing=editing)


def _save_evaluation(form: EvaluationForm, evaluation_id: int | None) -> bool:
    if not form.validate_on_submit():
        return False
    try:
        evaluations.save(
            db.session,
            current_user.row,
            form.organization.data,
            form.status.data,
            form.evaluated_on.data,
            form.note.data,
            evaluation_id,
        )
    except ServiceError as exc:
        show_error(form, exc)
        return False
    flash(_("Evaluation saved."), "success")
    return True
