"""Views of the notifications blueprint: the inbox and the unread count in the nav."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from app.extensions import db
from app.services import notifications
from app.services.errors import ServiceError

blueprint = Blueprint("notifications", __name__, url_prefix="/notifications")


@blueprint.app_context_processor
def inject_unread_count():
    """The signed-in user's unread count for the nav."""
    if current_user and current_user.is_authenticated:
        return {"unread_notifications": notifications.unread_count(db.session, current_user.id)}
    return {"unread_notifications": 0}


@blueprint.route("")
@login_required
def inbox():
    """The user's notifications, newest first."""
    return render_template("notifications/inbox.html", items=notifications.inbox(db.session, current_user.id),
                           message=notifications.message, form=FlaskForm())


@blueprint.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    """Mark one notification read."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        if notifications.mark_read(db.session, current_user.id, notification_id) == 0:
            abort(404)
    except ServiceError:
        abort(404)
    return redirect(url_for("notifications.inbox"))


@blueprint.route("/read-all", methods=["POST"])
@login_required
def read_all():
    """Mark every notification read."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    notifications.mark_read(db.session, current_user.id)
    return redirect(url_for("notifications.inbox"))
