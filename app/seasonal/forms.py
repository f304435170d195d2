"""Forms of the seasonal pages; they parse, the seasonal service checks limits."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from app.services import periods

MONTH = Regexp(periods.MONTH_PATTERN, message=_l("Enter a month as YYYY-MM."))
MONTH_NAMES = [SelectChoice(str(m), str(m)) for m in range(1, 13)]


class PlanForm(FlaskForm):
    """The first month of the plan and an optional what-if."""

    start = StringField(_l("First month (YYYY-MM)"), validators=[DataRequired(), MONTH])
    yard_category = SelectField(_l("What-if yard: category"), validators=[Optional()])
    yard_lon = DecimalField(_l("What-if yard: longitude"), places=6, validators=[Optional()])
    yard_lat = DecimalField(_l("What-if yard: latitude"), places=6, validators=[Optional()])
    yard_capacity_t = DecimalField(_l("What-if yard: capacity (t)"), places=3, validators=[Optional()])
    yard_cost = DecimalField(_l("What-if yard: cost (yuan per t and month)"), places=2, validators=[Optional()])
    kiln = SelectField(_l("What-if kiln"), coerce=lambda v: int(v) if v else None, validators=[Optional()])
    kiln_stopped = SelectMultipleField(_l("Months the kiln stops in instead"), choices=MONTH_NAMES,
                                       validators=[Optional()])
    submit = SubmitField(_l("Plan the year"))


class YardForm(FlaskForm):
    """A storage yard of a base."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    lon = DecimalField(_l("Longitude (WGS84)"), places=6, validators=[DataRequired()])
    lat = DecimalField(_l("Latitude (WGS84)"), places=6, validators=[DataRequired()])
    capacity_t = DecimalField(_l("Capacity (t)"), places=3, validators=[DataRequired()])
    cost_yuan_per_t_month = DecimalField(_l("Storage cost (yuan per t and month)"), places=2,
                                         validators=[Optional()])
    loss_pct_per_month = DecimalField(_l("Monthly loss (%)"), places=3, default=0, validators=[Optional()])
    submit = SubmitField(_l("Add yard"))


class SeasonsForm(FlaskForm):
    """A facility's operating months and generation profile, twelve numbers each, January first."""

    operating_months = StringField(_l("Share of each month the plant runs (12 numbers, 0–1, January first)"),
                                   validators=[Optional(), Length(max=200)])
    generation_profile = StringField(_l("Relative generation per month (12 numbers, January first)"),
                                     validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Save"))
    kiln_default = SubmitField(_l("Use the cement-kiln staggered-production calendar"))
    heating_default = SubmitField(_l("Use the heating-season generation profile"))
