"""Forms of the facilities blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.services.facilities import parse_quality_limits
from app.validators import IntRange

CAPACITY_ROWS = 4
LICENCE_ROWS = 2


def _limits_syntax(_form, field) -> None:
    try:
        parse_quality_limits(field.data)
    except ValueError as exc:
        raise ValidationError(_l("Write limits as moisture_pct<=12; cao_pct>=40; so3_pct=1..3")) from exc


class CapacityForm(Form):
    """One accepted category: capacity per month and quality limits."""

    category = SelectField(_l("Category"), validators=[Optional()])
    tonnes_per_month = DecimalField(_l("Tonnes per month"), places=3,
                                    validators=[Optional(), NumberRange(min=0.001, max=100_000_000)])
    quality_limits = StringField(_l("Quality limits"), validators=[Optional(), Length(max=300), _limits_syntax],
                                 description=_l("e.g. moisture_pct<=12; cao_pct>=40"))


class LicenceForm(Form):
    """One licence: number, categories covered, expiry."""

    number = StringField(_l("Licence number"), validators=[Optional(), Length(max=60)])
    categories = SelectMultipleField(_l("Categories covered"), validators=[Optional()])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])


class FacilityForm(FlaskForm):
    """A facility: name, role, location with its coordinate system, and what a recycler accepts."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("What happens here"), choices=[
        SelectChoice("producer", _l("Produces waste")), SelectChoice("recycler", _l("Uses waste (recycler)")),
        SelectChoice("both", _l("Both")),
    ])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    lon = FloatField(_l("Longitude"), validators=[DataRequired(message=_l("Give a longitude or click the map.")),
                                                  NumberRange(min=-180, max=180)])
    lat = FloatField(_l("Latitude"), validators=[DataRequired(message=_l("Give a latitude or click the map.")),
                                                 NumberRange(min=-90, max=90)])
    system = SelectField(_l("Coordinate system"), choices=[
        SelectChoice("wgs84", _l("WGS84 (GPS, this map)")), SelectChoice("gcj02", _l("GCJ-02 (Amap, Tencent)")),
        SelectChoice("bd09", _l("BD-09 (Baidu)")),
    ], default="wgs84")
    max_haul_km = IntegerField(_l("Maximum haul (km)"), validators=[Optional(), IntRange(min=1, max=3000)])
    capacities = FieldList(FormField(CapacityForm), min_entries=CAPACITY_ROWS)
    licences = FieldList(FormField(LicenceForm), min_entries=LICENCE_ROWS)
    submit = SubmitField(_l("Save facility"))

    def set_category_choices(self, choices: list[SelectChoice], hw_classes: tuple[str, ...] = ()) -> None:
        """Fill every category select from the catalogue; licences may also cover whole HW classes."""
        for entry in self.capacities:
            entry.form.category.choices = [SelectChoice("", "—"), *choices]
        hw = [SelectChoice(code, _l("All of %(hw)s (国家危险废物名录)", hw=code)) for code in hw_classes]
        for entry in self.licences:
            entry.form.categories.choices = [*choices, *hw]
