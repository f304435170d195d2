"""Forms of the lots blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional


class LotFilterForm(FlaskForm):
    """The filters above the lots list (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    category = SelectField(_l("Category"), validators=[Optional()])
    prefecture = SelectField(_l("Prefecture"), validators=[Optional()])
    min_tonnes = DecimalField(_l("Min tonnes"), validators=[Optional(), NumberRange(min=0)])
    max_tonnes = DecimalField(_l("Max tonnes"), validators=[Optional(), NumberRange(min=0)])
    available_by = DateField(_l("Available by"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=[
        SelectChoice("newest", _l("Newest")), SelectChoice("tonnes_desc", _l("Most tonnes")), SelectChoice("tonnes_asc", _l("Fewest tonnes")),
        SelectChoice("reserve_asc", _l("Lowest reserve")), SelectChoice("available", _l("Earliest available")),
    ], default="newest", validators=[Optional()])
