"""Views of the saved-searches blueprint: list, save (from the lots page's filters) and delete."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from app import policy
from app.actions import perform, show_error
from app.extensions import db
from app.lots.forms import SavedSearchForm
from app.permissions import allowed
from app.services import catalogue, facilities, saved_searches
from app.services.errors import ServiceError

blueprint = Blueprint("searches", __name__, url_prefix="/searches")
# The lots page's query arguments that a saved search keeps, under the form's field names.
FROM_LOT_FILTERS = {"category": "category", "q": "keyword", "min_tonnes": "min_tonnes", "max_tonnes": "max_tonnes",
                    "max_price": "max_price", "near": "near", "max_km": "max_km"}


def _form() -> SavedSearchForm:
    if request.method == "POST":
        form = SavedSearchForm()
    else:
        # The filters arrive as text, exactly as a submitted form would; they are checked on saving.
        form = SavedSearchForm(formdata=MultiDict(
            {field: request.args[arg] for arg, field in FROM_LOT_FILTERS.items() if request.args.get(arg)}))
    form.category.choices = catalogue.with_blank(catalogue.category_choices(db.session, str(get_locale())))
    form.near.choices = catalogue.with_blank(
        [(str(f.id), f.name) for f in facilities.mine(db.session, current_user.row)])
    return form


def _render(form: SavedSearchForm, status: int = 200):
    return render_template("searches/index.html", form=form, searches=saved_searches.of_user(
        db.session, current_user.row), action_form=FlaskForm(), locale=str(get_locale())), status


@blueprint.route("", methods=["GET", "POST"])
@allowed(policy.may_recycle)
def index():
    """My saved searches, and a form to save one (pre-filled from the lots page's filters)."""
    form = _form()
    if request.method == "GET" or not form.validate_on_submit():
        return _render(form, 400 if request.method == "POST" else 200)
    try:
        saved_searches.create(db.session, current_user.row, saved_searches.SearchInput(
            name=form.name.data, category=form.category.data or None, keyword=form.keyword.data,
            min_tonnes=form.min_tonnes.data, max_tonnes=form.max_tonnes.data, max_price_yuan_per_t=form.max_price.data,
            facility_id=int(form.near.data) if form.near.data else None, max_km=form.max_km.data))
    except ServiceError as exc:
        if exc.field == "facility":
            exc.field = "near"
        show_error(form, exc)
        return _render(form, 400)
    flash(_("Search saved: new lots that match it will appear in your inbox."), "success")
    return redirect(url_for("searches.index"))


@blueprint.route("/<int:search_id>/delete", methods=["POST"])
@allowed(policy.may_recycle)
def delete(search_id: int):
    """Stop a saved search."""
    if search_id <= 0:
        abort(404)
    return perform(lambda: saved_searches.delete(db.session, current_user.row, search_id), _("Search deleted."),
                   url_for("searches.index"))
