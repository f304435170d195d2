"""Views of the public blueprint."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.extensions import db
from app.services import stats

blueprint = Blueprint("public", __name__)


@blueprint.route("/")
def home():
    """Home page with headline figures."""
    return render_template("public/home.html", counts=stats.counts(db.session),
                           open_tonnes=stats.open_tonnes(db.session))
