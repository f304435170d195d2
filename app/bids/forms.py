"""Forms of the bids blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from app.validators import IntRange


class BidForm(FlaskForm):
    """A sealed bid on one lot."""

    facility_id = SelectField(_l("Receiving facility"), coerce=int, validators=[DataRequired()])
    price_yuan_per_t = DecimalField(_l("Price delivered (yuan/t)"), places=2,
                                    validators=[InputRequired(), NumberRange(min=-1_000_000, max=1_000_000)])
    tonnes = DecimalField(_l("Tonnes"), places=3, validators=[InputRequired(), NumberRange(min=0.001, max=10_000_000)])
    max_haul_km = IntegerField(_l("Maximum haul (km, optional)"), validators=[Optional(), IntRange(min=1, max=5000)])


class CategoryBidForm(BidForm):
    """A sealed bid on every compatible lot of a category within the haul radius."""

    category = SelectField(_l("Category"), validators=[DataRequired()])
    max_haul_km = IntegerField(_l("Maximum haul (km; empty: the facility's)"),
                               validators=[Optional(), IntRange(min=1, max=5000)])


def parse_quality_limits(text: str | None) -> dict[str, list[float | None]]:
    """Lines of `key min max` ('-' for an open bound) as {key: [min, max]}."""
    limits: dict[str, list[float | None]] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise ValueError(line)
        key, *bounds = parts
        values = [None if b == "-" else float(b) for b in bounds]
        if values[0] is not None and values[1] is not None and values[0] > values[1]:
            raise ValueError(line)
        limits[key] = values
    return limits


class DemandProfileForm(FlaskForm):
    """A standing bid for a category over a period."""

    facility_id = SelectField(_l("Receiving facility"), coerce=int, validators=[DataRequired()])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    period_start = DateField(_l("From"), validators=[DataRequired()])
    period_end = DateField(_l("To"), validators=[DataRequired()])
    tonnes = DecimalField(_l("Tonnes in the period"), places=3,
                          validators=[InputRequired(), NumberRange(min=0.001, max=100_000_000)])
    price_yuan_per_t = DecimalField(_l("Price delivered (yuan/t)"), places=2,
                                    validators=[InputRequired(), NumberRange(min=-1_000_000, max=1_000_000)])
    max_haul_km = IntegerField(_l("Maximum haul (km, optional)"), validators=[Optional(), IntRange(min=1, max=5000)])
    quality_limits = TextAreaField(_l("Quality limits, one per line: key min max ('-' when open)"),
                                   validators=[Optional()])

    def validate_quality_limits(self, field):
        """Each line must read `key min max`."""
        try:
            parse_quality_limits(field.data)
        except ValueError as exc:
            raise ValidationError(_l("Cannot read this line: %(line)s", line=str(exc))) from exc

    def validate_period_end(self, field):
        """The period ends after it starts."""
        if self.period_start.data and field.data and field.data < self.period_start.data:
            raise ValidationError(_l("The period must end after it starts."))
