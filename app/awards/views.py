"""Views of the awards blueprint: answer allocations, see awards and their settlement."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app import policy
from app.extensions import db
from app.permissions import allowed
from app.services import awards
from app.services.errors import PermissionDenied, ServiceError

blueprint = Blueprint("awards", __name__, url_prefix="/awards")


@blueprint.route("")
@allowed(policy.may_decide_allocation)
def index():
    """Allocations to answer and the organisation's awards."""
    desk = awards.desk(db.session, current_user.row)
    return render_template(
        "awards/index.html",
        desk=desk,
        form=FlaskForm(),
        locale=str(get_locale()),
        answers=lambda a: awards.answers(a, current_user.row),
    )


@blueprint.route("/allocations/<int:allocation_id>/decision", methods=["POST"])
@allowed(policy.may_decide_allocation)
def decide(allocation_id: int):
    """Accept or decline an allocation for the user's side."""
    if not FlaskForm().validate_on_submit() or request.form.get("decision") not in ("accept", "decline"):
        abort(400)
    accept = request.form["decision"] == "accept"
    try:
        allocation = awards.decide(db.session, current_user.row, allocation_id, accept)
    except PermissionDenied:
        abort(403)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        if allocation.award is not None:
            flash(_("Both parties accepted: the award is made."), "success")
        else:
            flash(
                _("Accepted; waiting for the other party.")
                if accept
                else _("Declined; the tonnes went back to the lot."),
                "info",
            )
    return redirect(url_for("awards.index"))


@blueprint.route("/<int:award_id>")
@allowed(policy.may_see_awards)
def detail(award_id: int):
    """An award: settlement, loads and the forms each party uses."""
    from app.shipments.views import render_award

    return render_award(award_id)
