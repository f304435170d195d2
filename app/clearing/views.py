"""Views of the clearing blueprint: start a run, follow its progress, see allocations on a flow map."""
from __future__ import annotations

import dataclasses
import json

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional

from app import policy
from app.extensions import db
from app.labels import ALLOCATION_STATUS
from app.permissions import allowed
from app.services import catalogue, clearing
from app.services.errors import ServiceError
from models import MatchRun

blueprint = Blueprint("clearing", __name__, url_prefix="/clearing")


class ClearingForm(FlaskForm):
    """Start a clearing, optionally for one category."""

    category = SelectField(_l("Category"), validators=[Optional()])


def _form(held: list[clearing.HeldCategory]) -> ClearingForm:
    """The start form; categories a running clearing holds say so in the select (starting one would be refused)."""
    form = ClearingForm()
    by_code = {h.category.code: h.run_id for h in held}
    form.category.choices = catalogue.with_blank([
        dataclasses.replace(c, label=_("%(category)s — being cleared by run %(run)d", category=c.label,
                                       run=by_code[c.value])) if c.value in by_code else c
        for c in catalogue.category_choices(db.session, str(get_locale()))])
    return form


def _index(form: ClearingForm | None = None, status: int = 200):
    """The runs page, with the categories running clearings hold now (one query, not one per run)."""
    held = clearing.held_categories(db.session)
    if form is None:
        form = _form(held)
    return render_template("clearing/index.html", runs=clearing.list_runs(db.session), form=form, held=held,
                           may_start=policy.may_start_clearing(current_user.row), locale=str(get_locale())), status


@blueprint.route("")
@allowed(policy.may_see_clearing)
def index():
    """Recent runs, the categories being cleared now and the button that starts one."""
    return _index()


@blueprint.route("/runs", methods=["POST"])
@allowed(policy.may_start_clearing)
def start():
    """Queue a clearing of the whole province (regulator or admin)."""
    form = _form(clearing.held_categories(db.session))
    if not form.validate_on_submit():
        return _index(form, 400)
    try:
        run = clearing.start_clearing(db.session, current_user.row, form.category.data or None,
                                      locale=str(get_locale()))
    except clearing.ClearingBusy as exc:
        form.category.errors = [exc.message]
        return _index(form, 409)
    except ServiceError as exc:
        db.session.rollback()
        form.category.errors = [exc.message]
        return _index(form, 400)
    flash(_("Clearing run %(id)d started.", id=run.id), "info")
    return redirect(url_for("clearing.run", run_id=run.id))


def _run_or_404(run_id: int) -> MatchRun:
    run = db.session.get(MatchRun, run_id)
    if run is None:
        abort(404)
    return run


@blueprint.route("/runs/<int:run_id>")
@allowed(policy.may_see_clearing)
def run(run_id: int):
    """A run: progress while it runs, then allocations, flow map, totals and unmatched lots."""
    run = _run_or_404(run_id)
    locale = str(get_locale())
    status_filter = request.args.get("status") or None
    category_filter = request.args.get("category") or None
    page = clearing.allocation_page(db.session, run.id, request.args.get("page", 1, type=int) or 1,
                                    status=status_filter if status_filter in ALLOCATION_STATUS else None,
                                    category=category_filter)
    # Officers of a base see the allocations touching their base; the province sees all.
    page = dataclasses.replace(page, items=[a for a in page.items if policy.may_see_allocation(current_user.row, a)])
    return render_template("clearing/run.html", run=run, status=clearing.run_status(run, db.session, locale),
                           summary=clearing.summary_figures(run), allocations=page, locale=locale,
                           status_filter=status_filter, category_filter=category_filter,
                           categories=catalogue.category_choices(db.session, locale),
                           allocation_statuses=ALLOCATION_STATUS)


@blueprint.route("/runs/<int:run_id>/status.json")
@allowed(policy.may_see_clearing)
def status(run_id: int):
    """The run's status and progress for the poller."""
    return jsonify(clearing.run_status(_run_or_404(run_id), db.session, str(get_locale())))


@blueprint.route("/runs/<int:run_id>/flows.geojson")
@allowed(policy.may_see_clearing)
def flows(run_id: int):
    """Producer → recycler lines of the run."""
    _run_or_404(run_id)
    return Response(json.dumps(clearing.flows_geojson(db.session, run_id)), mimetype="application/geo+json")

