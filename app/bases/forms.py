"""Forms of the bases blueprint."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.validators import IntRange
from models.catalogue import FAMILIES

TONNES = [InputRequired(), NumberRange(min=0, max=99999999999)]
MONTH = Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Enter a month as YYYY-MM."))


class ReportForm(FlaskForm):
    """One month's generation report of a facility and category."""

    facility = SelectField(_l("Facility"), coerce=int, validators=[DataRequired()])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    period = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), MONTH])
    generated_t = DecimalField(_l("Generated (t)"), places=3, validators=TONNES)
    stored_t = DecimalField(_l("Stored (t)"), places=3, validators=TONNES)
    self_utilised_t = DecimalField(_l("Self-utilised, including from earlier storage (t)"), places=3,
                                   validators=TONNES)
    supplied_t = DecimalField(_l("Supplied to others for utilisation, on or off the platform (t)"), places=3,
                              default=0, validators=TONNES)
    disposed_t = DecimalField(_l("Disposed (t)"), places=3, validators=TONNES)
    dumped_t = DecimalField(_l("Dumped (t)"), places=3, default=0, validators=TONNES)
    from_storage_t = DecimalField(_l("Of which utilised from earlier storage (t)"), places=3, default=0,
                                  validators=TONNES)
    # Left out (older clients, most months): none of the disposed tonnes came from storage.
    disposed_from_storage_t = DecimalField(_l("Of the disposed, taken from earlier storage (t)"), places=3,
                                           default=0, validators=[Optional(), NumberRange(min=0, max=99999999999)])
    submit = SubmitField(_l("Save report"))


class ImportForm(FlaskForm):
    """Upload a spreadsheet of reports."""

    file = FileField(_l("Spreadsheet (XLSX or CSV)"), validators=[
        FileRequired(), FileAllowed(["xlsx", "csv"], _l("Upload an XLSX or CSV file."))])
    submit = SubmitField(_l("Import"))


class MonthForm(FlaskForm):
    """Choose a month (GET)."""

    class Meta:
        csrf = False

    month = StringField(_l("Month (YYYY-MM)"), validators=[Optional(), MONTH])


class TargetForm(FlaskForm):
    """A base's target rate for a category family and year."""

    family = SelectField(_l("Category family"), choices=[SelectChoice(f, f) for f in FAMILIES],
                         validators=[DataRequired()])
    year = IntegerField(_l("Year"), validators=[InputRequired(), IntRange(min=2000, max=2100)])
    target_pct = DecimalField(_l("Target rate (%)"), places=2,
                              validators=[InputRequired(), NumberRange(min=0, max=100)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Save target"))


class SubsidyForm(Form):
    """One category's subsidy (a sub-form without its own CSRF token)."""

    category = SelectField(_l("Category"), validators=[Optional()])
    yuan_per_t = DecimalField(_l("Subsidy (yuan/t)"), places=2, validators=[Optional(), NumberRange(min=0, max=10000)])


class ScenarioForm(FlaskForm):
    """The levers of a what-if scenario."""

    subsidies = FieldList(FormField(SubsidyForm), min_entries=3, max_entries=10)
    carbon_price = DecimalField(_l("Carbon price (yuan per t CO2)"), places=2, default=0,
                                validators=[InputRequired(), NumberRange(min=0, max=10000)])
    freight_change_pct = DecimalField(_l("Freight rate change (%)"), places=1, default=0,
                                      validators=[InputRequired(), NumberRange(min=-90, max=500)])
    haul_limit_km = IntegerField(_l("Haul limit (km, blank for none)"),
                                 validators=[Optional(), IntRange(min=1, max=5000)])
    submit = SubmitField(_l("Run scenario"))


class EvaluationForm(FlaskForm):
    """An entry of the evaluation register."""

    organization = SelectField(_l("Enterprise"), coerce=int, validators=[DataRequired()])
    status = SelectField(_l("Status"), validators=[DataRequired()])
    evaluated_on = DateField(_l("Evaluated on"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Save"))
