"""The API tokens page: create a token (shown once), see prefixes and last use, revoke."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from app.extensions import db
from app.services import api_tokens
from app.services.errors import PermissionDenied, ServiceError

blueprint = Blueprint("tokens", __name__, url_prefix="/account/tokens")


class TokenForm(FlaskForm):
    """Name a new token."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=api_tokens.MAX_NAME)])


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    return render_template("api/tokens.html", form=form, action_form=FlaskForm(), secret=secret,
                           tokens=api_tokens.of_user(db.session, current_user.row)), status


@blueprint.route("", methods=["GET"])
@login_required
def index():
    """The user's tokens and the form that creates one."""
    return _page(TokenForm(formdata=None))


@blueprint.route("", methods=["POST"])
@login_required
def create():
    """Create a token and show its secret once."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        new = api_tokens.create(db.session, current_user.row, form.name.data)
    except ServiceError as exc:
        db.session.rollback()
        form.name.errors = [*form.name.errors, exc.message]
        return _page(form, status=400)
    flash(_("Token created. Copy it now: it will not be shown again."), "success")
    return _page(TokenForm(formdata=None), secret=new.secret)


@blueprint.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke one of the user's tokens."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        api_tokens.revoke(db.session, current_user.row, token_id)
    except PermissionDenied:
        abort(404)
    flash(_("Token revoked."), "info")
    return redirect(url_for("tokens.index"))
