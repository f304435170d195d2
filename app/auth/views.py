"""Views of the auth blueprint."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user

from app.auth.forms import LoginForm, RegisterForm
from app.extensions import db
from app.permissions import SessionUser
from app.services import accounts
from app.services.errors import ServiceError, Throttled

blueprint = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow local redirects."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("public.home")


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Sign in."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                db.session, form.email.data, form.password.data, request.remote_addr or "-",
                current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_WINDOW_MINUTES"],
            )
        except Throttled as exc:
            form.email.errors.append(exc.message)
            response = current_app.make_response((render_template("auth/login.html", form=form), 429))
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if user is None:
            form.password.errors.append(_("Wrong e-mail or password."))
        else:
            login_user(SessionUser(user))
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST, so a link elsewhere cannot sign you out)."""
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.home"))


@blueprint.route("/register", methods=["GET", "POST"])
def register():
    """Register an organisation and its first user."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(db.session, accounts.Registration(
                organization_name=form.organization_name.data, credit_code=form.credit_code.data,
                role=form.role.data, user_name=form.user_name.data, email=form.email.data,
                password=form.password.data,
            ))
        except ServiceError as exc:
            db.session.rollback()
            getattr(form, exc.field or "organization_name").errors.append(exc.message)
        else:
            login_user(SessionUser(user))
            flash(_("Registered. An administrator will verify your organisation before it can trade."), "info")
            return redirect(url_for("public.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status

