"""Views of the auth blueprint: sign in (throttled), sign out (ending the session everywhere), register."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from app.auth.forms import LoginForm, PasswordForm, RegisterForm
from app.extensions import db
from app.permissions import SessionUser
from app.services import accounts
from app.services.errors import ServiceError, Throttled

blueprint = Blueprint("auth", __name__)
DEVICE_COOKIE = "gufei_device"
DEVICE_COOKIE_DAYS = 180


def safe_next(target: str | None) -> str:
    """A same-origin path to go to after sign-in, else the home page.

    Browsers drop tabs and newlines and read a backslash as a slash, so "/\\t/host" or "/\\\\host" would
    leave the site: anything with control characters or backslashes is refused, then only a path (no scheme,
    no host) starting with a single slash is followed.
    """
    if not target or any(ord(ch) < 32 or ch in "\\\x7f" for ch in target):
        return url_for("public.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("public.home")
    return target


def _devices() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="gufei-known-device")


def _trusted_device(email: str) -> bool:
    """Whether this browser signed in to this account before (a signed cookie the account's attackers lack)."""
    try:
        known = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        return False
    return isinstance(known, list) and (email or "").strip().lower() in known


def _throttle() -> accounts.Throttle:
    config = current_app.config
    return accounts.Throttle(config["LOGIN_MAX_FAILURES"], config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
                             config["LOGIN_WINDOW_MINUTES"])


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    """Sign in."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(db.session, form.email.data, form.password.data, request.remote_addr or "-",
                                         _throttle(), _trusted_device(form.email.data))
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
            response = redirect(safe_next(request.args.get("next")))
            _remember_device(response, user.email)
            return response
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _remember_device(response, email: str) -> None:
    try:
        known = _devices().loads(request.cookies.get(DEVICE_COOKIE, ""))
    except BadSignature:
        known = []
    known = [e for e in (known if isinstance(known, list) else []) if e != email][-4:] + [email]
    response.set_cookie(DEVICE_COOKIE, _devices().dumps(known), max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True,
                        samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (POST, so a link elsewhere cannot sign you out); every copy of the session cookie stops working."""
    accounts.end_sessions(db.session, current_user.row)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.home"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change your password; every other session of yours ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(db.session, current_user.row, form.current_password.data,
                                            form.password.data)
        except ServiceError as exc:
            db.session.rollback()
            getattr(form, exc.field or "password").errors.append(exc.message)
        else:
            login_user(SessionUser(user))  # this browser carries on with the new nonce
            flash(_("Password changed. Your other sessions have ended."), "success")
            return redirect(url_for("public.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


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

