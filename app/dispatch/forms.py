"""Forms of the dispatch blueprint (they parse; the dispatch service owns the limits)."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, FloatField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class PermitForm(FlaskForm):
    """The carrier organisation's road dangerous-goods transport permit (道路危险货物运输许可证)."""

    dg_permit_no = StringField(_l("Permit number"), validators=[Optional(), Length(max=40)])
    dg_permit_valid_until = DateField(_l("Valid until"), validators=[Optional()])


class VehicleForm(FlaskForm):
    """A truck: plate, capacity, cost per km, km a day and its depot (a place or coordinates)."""

    plate = StringField(_l("Vehicle plate"), validators=[DataRequired(), Length(max=16)])
    capacity_t = DecimalField(_l("Payload (t)"), places=3, validators=[InputRequired()])
    cost_yuan_per_km = DecimalField(_l("Cost (yuan/km)"), places=2, validators=[InputRequired()])
    max_km = IntegerField(_l("Maximum km a day"), validators=[InputRequired()])
    depot_place = StringField(_l("Depot: county or city"), validators=[Optional(), Length(max=50)])
    depot_lon = FloatField(_l("…or depot longitude (WGS84)"), validators=[Optional()])
    depot_lat = FloatField(_l("…and latitude"), validators=[Optional()])


class PlanForm(FlaskForm):
    """Which loads onto which trucks, from which day, over how many days, searching how long."""

    shipment_ids = SelectMultipleField(_l("Loads"), coerce=int, validators=[DataRequired()])
    vehicle_ids = SelectMultipleField(_l("Vehicles"), coerce=int, validators=[DataRequired()])
    start_date = DateField(_l("First day"), validators=[InputRequired()])
    days = IntegerField(_l("Days"), default=1, validators=[InputRequired()])
    time_limit_s = SelectField(_l("Planning time"), coerce=int, default=10)


def parse_windows(formdata, shipment_ids) -> dict[int, tuple[dt.date | None, dt.date | None]]:
    """Each chosen load's optional "ready from" (ready_on-<id>) and "due by" (due_by-<id>) dates.

    Raises ValueError with a translated message for a date that is not a date; limits are the service's."""
    out = {}
    for shipment_id in shipment_ids or []:
        pair = []
        for name in ("ready_on", "due_by"):
            raw = (formdata.get(f"{name}-{shipment_id}") or "").strip()
            try:
                pair.append(dt.date.fromisoformat(raw) if raw else None)
            except ValueError:
                raise ValueError(_l("Give dates as YYYY-MM-DD.")) from None
        if pair != [None, None]:
            out[shipment_id] = tuple(pair)
    return out
