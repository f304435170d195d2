"""Views of the public blueprint."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from app.extensions import db
from app.services import catalogue, stats, utilisation
from models.catalogue import FAMILIES

blueprint = Blueprint("public", __name__)


@blueprint.route("/")
def home():
    """Home page: headline figures, what is on offer, and the province's utilisation rate."""
    year = utilisation.latest_report_year(db.session)
    province = None
    if year is not None:
        province = utilisation.year_table(db.session, utilisation.Scope("province"), year, str(get_locale()),
                                          family="bulk_industrial").total
    by_category = stats.open_tonnes_by_category(db.session)
    return render_template("public/home.html", counts=stats.counts(db.session),
                           open_tonnes=stats.open_tonnes(db.session), by_category=by_category[:10],
                           largest=by_category[0][1] if by_category else 0, year=year, province=province,
                           locale=str(get_locale()))


@blueprint.route("/categories")
def categories():
    """The waste catalogue: what the market trades, with national codes, tax, freight and carbon facts."""
    rows = sorted(catalogue.categories(db.session), key=lambda c: c.code)
    by_family = {family: [c for c in rows if c.family == family] for family in FAMILIES}
    by_family = {family: members for family, members in by_family.items() if members}
    return render_template("public/categories.html", by_family=by_family, locale=str(get_locale()))
