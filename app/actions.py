"""View helpers shared by the blueprints: a refused use case shown on its form, and POST-only button actions."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.extensions import db
from app.services.errors import PermissionDenied, ServiceError


def show_error(form: FlaskForm, exc: ServiceError) -> None:
    """Undo the failed transaction and put the service's message on the field it names (or the whole form)."""
    db.session.rollback()
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def perform(action: Callable[[], object], success: str, redirect_to: str) -> Response:
    """Run `action` for a button form; refusals are flashed, forbidden ones are a 403."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        action()
    except PermissionDenied:
        abort(403)
    except ServiceError as exc:
        flash(exc.message, "error")
    else:
        flash(success, "success")
    return redirect(redirect_to)
