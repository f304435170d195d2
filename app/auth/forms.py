"""Forms of the auth blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Sign in"))


class RegisterForm(FlaskForm):
    """An organisation and its first user."""

    organization_name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(min=18, max=18)])
    role = SelectField(_l("Role in the market"), choices=[
        SelectChoice("producer", _l("Producer (generates waste)")),
        SelectChoice("recycler", _l("Recycler (uses waste as feedstock)")),
        SelectChoice("carrier", _l("Carrier")),
    ])  # officials' accounts are invited by an administrator (app.policy.SELF_REGISTERED_ORG_ROLES)
    user_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=128)])
    confirm = PasswordField(_l("Repeat password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
    submit = SubmitField(_l("Register"))


class PasswordForm(FlaskForm):
    """The current password and a new one, twice."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=128)])
    confirm = PasswordField(_l("Repeat new password"), validators=[DataRequired(), EqualTo("password")])
    submit = SubmitField(_l("Change password"))
