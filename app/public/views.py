"""Views of the public blueprint."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from app.extensions import db
from app.services import stats, utilisation

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
