"""Views of the admin blueprint."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.extensions import db
from app.permissions import roles_required
from app.services import accounts
from app.services.errors import ServiceError

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.route("/organizations")
@roles_required("admin")
def organizations():
    """Organisations, unverified first."""
    orgs = accounts.organizations_for_review(db.session)
    return render_template("admin/organizations.html", orgs=orgs, form=FlaskForm())


@blueprint.route("/organizations/<int:org_id>/verification", methods=["POST"])
@roles_required("admin")
def set_verification(org_id: int):
    """Verify or un-verify an organisation."""
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("admin.organizations"))
    verified = request.form.get("verified") == "1"
    try:
        org = accounts.set_verified(db.session, current_user.row, org_id, verified)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s is now verified.", name=org.name) if verified
              else _("%(name)s is no longer verified.", name=org.name), "success")
    return redirect(url_for("admin.organizations"))
