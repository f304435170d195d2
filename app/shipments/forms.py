"""Forms of the shipments blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


class DispatchForm(FlaskForm):
    """A load leaving the producer."""

    tonnes = DecimalField(_l("Tonnes"), places=3, validators=[InputRequired(), NumberRange(min=0.001, max=10_000_000)])
    vehicle_plate = StringField(_l("Vehicle plate"), validators=[DataRequired(), Length(max=16)])
    carrier_organization_id = SelectField(_l("Carrier (optional)"), coerce=lambda v: int(v) if v else None,
                                          validators=[Optional()])
    # Hazardous loads: the packages on the truck, for the e-manifest (range checked in the service).
    packaging_count = IntegerField(_l("Number of packages (包装数量)"), validators=[Optional()])


class ReceiveForm(FlaskForm):
    """Weighbridge tonnes of a load."""

    received_tonnes = DecimalField(_l("Weighbridge tonnes"), places=3,
                                   validators=[InputRequired(), NumberRange(min=0, max=10_000_000)])
    # Hazardous loads: the utilisation/disposal method code as on the receiver's licence (checked in the service).
    disposal_method = StringField(_l("Utilisation/disposal method code"), validators=[Optional(), Length(max=8)])


class UtilisationForm(FlaskForm):
    """What received material became."""

    product = SelectField(_l("Product"), validators=[DataRequired()])
    tonnes = DecimalField(_l("Tonnes"), places=3, validators=[InputRequired(), NumberRange(min=0.001, max=10_000_000)])
    period = DateField(_l("Month (any day in it)"), validators=[Optional()])
