"""Views of the admin blueprint."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app import policy
from app.actions import show_error
from app.admin.forms import InviteForm
from app.extensions import db
from app.labels import ORG_ROLE
from app.permissions import allowed
from app.services import accounts
from app.services.errors import ServiceError
from models import ResourceBase

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


PER_PAGE = 50
VERIFIED_CHOICES = {"yes": True, "no": False}


@blueprint.route("/organizations")
@allowed(policy.may_administer)
def organizations():
    """Organisations, unverified first, with search, role and verification filters and pages."""
    role = request.args.get("role") or None
    filters = accounts.OrganizationFilters(
        q=(request.args.get("q") or "").strip()[:100] or None,
        role=role if role in ORG_ROLE else None,
        verified=VERIFIED_CHOICES.get(request.args.get("verified", "")),
    )
    orgs, total, number = accounts.search_organizations(db.session, filters, request.args.get("page", 1, type=int),
                                                        PER_PAGE)
    return render_template("admin/organizations.html", orgs=orgs, form=FlaskForm(), filters=filters, roles=ORG_ROLE,
                           page=Pager(number, PER_PAGE, total), protected=lambda o: accounts.is_protected(
                               current_user.row, o))


@dataclass(frozen=True)
class Pager:
    """Page number, size and total for the shared pagination bar."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the results fill (at least one)."""
        return max(1, -(-self.total // self.per_page))


@blueprint.route("/organizations/<int:org_id>/verification", methods=["POST"])
@allowed(policy.may_administer)
def set_verification(org_id: int):
    """Verify or un-verify an organisation."""
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("admin.organizations"))
    back = url_for("admin.organizations", **{k: v for k, v in request.args.items() if k in ("q", "role", "verified",
                                                                                          "page")})
    verified = request.form.get("verified") == "1"
    try:
        org = accounts.set_verified(db.session, current_user.row, org_id, verified)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s is now verified.", name=org.name) if verified
              else _("%(name)s is no longer verified.", name=org.name), "success")
    return redirect(back)



@blueprint.route("/officials", methods=["GET", "POST"])
@allowed(policy.may_administer)
def invite_official():
    """Invite a regulator or base officer: the account is made in a verified agency with a one-time password."""
    form = InviteForm()
    form.base_code.choices = [("", "—")] + [(b.code, b.name_zh) for b in db.session.scalars(
        sa.select(ResourceBase).order_by(ResourceBase.id))]
    password = None
    if form.validate_on_submit():
        try:
            user, password = accounts.invite_official(db.session, current_user.row, accounts.Invitation(
                organization_name=form.organization_name.data, credit_code=form.credit_code.data,
                role=form.role.data, user_name=form.user_name.data, email=form.email.data,
                base_code=form.base_code.data or None))
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("%(email)s is invited. Pass the one-time password on privately; it is shown only now.",
                    email=user.email), "success")
    status = 400 if form.is_submitted() and password is None else 200
    return render_template("admin/invite.html", form=form, password=password), status
