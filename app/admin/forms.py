"""Forms of the admin blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length


class InviteForm(FlaskForm):
    """An official's account: the agency and the person."""

    role = SelectField(_l("Role"), choices=[
        SelectChoice("base_officer", _l("Base officer")),
        SelectChoice("regulator", _l("Regulator")),
    ])
    base_code = SelectField(_l("Base (base officers)"))
    organization_name = StringField(_l("Agency name"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(min=18, max=18)])
    user_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    submit = SubmitField(_l("Invite"))
