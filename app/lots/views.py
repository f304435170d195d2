"""Views of the lots blueprint."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import get_locale

from app.extensions import db
from app.lots.forms import LotFilterForm
from app.services import catalogue, lots
from models import Lot

blueprint = Blueprint("lots", __name__, url_prefix="/lots")


@blueprint.route("")
def index():
    """Browse open lots with filters, sorting and pagination."""
    locale = str(get_locale())
    form = LotFilterForm(request.args)
    form.category.choices = catalogue.with_blank(catalogue.category_choices(db.session, locale))
    form.prefecture.choices = catalogue.with_blank(catalogue.prefecture_choices(locale))
    filters = lots.LotFilters()
    if form.validate():
        filters = lots.LotFilters(
            category=form.category.data or None, prefecture=form.prefecture.data or None,
            min_tonnes=form.min_tonnes.data, max_tonnes=form.max_tonnes.data,
            available_by=form.available_by.data, sort=form.sort.data or "newest",
        )
    page = lots.search(db.session, filters, request.args.get("page", 1, type=int),
                       current_app.config["LOTS_PER_PAGE"])
    return render_template("lots/index.html", form=form, page=page, locale=locale,
                           prefecture_name=catalogue.prefecture_name)


@blueprint.route("/<int:lot_id>")
def detail(lot_id: int):
    """One lot: quantity, quality, place, and the number of sealed bids."""
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.status == "draft":
        abort(404)
    locale = str(get_locale())
    return render_template("lots/detail.html", lot=lot, locale=locale,
                           bid_count=lots.active_bid_count(db.session, lot.id),
                           prefecture_name=catalogue.prefecture_name)
