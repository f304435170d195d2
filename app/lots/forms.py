"""Forms of the lots blueprint."""

from __future__ import annotations

import threading

from flask import get_template_attribute
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.labels import QUALITY
from app.services.hazardous import HAZARD_CHARACTERISTICS, WASTE_FORMS
from app.validators import IntRange


class _FieldMarkup:
    """The `field` macro's markup (macros.html) for LotFilterForm's fields, kept per locale and field state.

    Every lot search renders the thirteen filters through WTForms' widgets, which cost more than the list itself.
    The markup depends only on what the key holds — the field (name, id, type), the locale of its label, the
    value shown, the choices and which is selected, and the errors — so it is rendered once for each such state.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size, self.data, self.lock = size, {}, threading.Lock()

    def __call__(self, field) -> Markup:
        """The field's markup, from the macro on first sight of its state."""
        choices = getattr(field, "choices", None)
        key = (str(get_locale()), field.name, field.id, type(field).__name__,
               field._value() if choices is None else str(field.data),
               None if choices is None else tuple(_choice_key(c) for c in choices),
               tuple(str(e) for e in field.errors))
        with self.lock:
            html = self.data.get(key)
        if html is None:
            html = get_template_attribute("macros.html", "field")(field)  # the macro returns Markup
            with self.lock:
                if len(self.data) >= self.size:
                    self.data.clear()  # filter states are few; a rare full reset keeps the bound simple
                self.data[key] = html
        return html


def _choice_key(choice) -> tuple[str, str]:
    """A choice as (value, label) text, whether given as a SelectChoice or a (value, label) pair."""
    if isinstance(choice, SelectChoice):
        return str(choice.value), str(choice.label)
    return str(choice[0]), str(choice[1])


filter_field = _FieldMarkup()


class LotFilterForm(FlaskForm):
    """The filters above the lots list (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    # Keywords are bounded by the search service (app/services/keywords.py), which says why.
    q = StringField(_l("Keywords"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    prefecture = SelectField(_l("Prefecture"), validators=[Optional()])
    min_price = DecimalField(_l("Min reserve (yuan/t)"), validators=[Optional(), NumberRange(min=-1e5, max=1e5)])
    max_price = DecimalField(_l("Max reserve (yuan/t)"), validators=[Optional(), NumberRange(min=-1e5, max=1e5)])
    min_tonnes = DecimalField(_l("Min tonnes"), validators=[Optional(), NumberRange(min=0)])
    max_tonnes = DecimalField(_l("Max tonnes"), validators=[Optional(), NumberRange(min=0)])
    available_by = DateField(_l("Available by"), validators=[Optional()])
    available_until = DateField(_l("Still available on"), validators=[Optional()])
    base = SelectField(_l("Resource-utilisation base"), validators=[Optional()])
    near = SelectField(_l("Distance from my facility"), validators=[Optional()])
    max_km = IntegerField(_l("Max road km"), validators=[Optional(), IntRange(min=1, max=5000)])
    sort = SelectField(
        _l("Sort by"),
        choices=[
            SelectChoice("relevance", _l("Best match")),
            SelectChoice("newest", _l("Newest")),
            SelectChoice("tonnes_desc", _l("Most tonnes")),
            SelectChoice("tonnes_asc", _l("Fewest tonnes")),
            SelectChoice("reserve_asc", _l("Lowest reserve")),
            SelectChoice("available", _l("Earliest available")),
            SelectChoice("distance", _l("Nearest by road")),
        ],
        default="relevance",
        validators=[Optional()],
    )


class LotForm(FlaskForm):
    """Post or edit a lot; quality inputs exist for every catalogue key and only the category's are kept."""

    facility = SelectField(_l("Facility"), coerce=int, validators=[DataRequired()])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    title = StringField(_l("Title (optional)"), validators=[Optional(), Length(max=200)])
    tonnes = DecimalField(_l("Tonnes"), places=3, validators=[DataRequired(), NumberRange(min=0.001, max=10_000_000)])
    reserve_yuan_per_t = DecimalField(
        _l("Reserve price at the gate (yuan/t)"),
        places=2,
        description=_l("Negative when you pay to have it taken away."),
        validators=[InputRequired(), NumberRange(min=-100000, max=1000000)],
    )
    available_from = DateField(_l("Available from"), validators=[DataRequired()])
    available_to = DateField(_l("Available to"), validators=[Optional()])
    min_shipment_t = DecimalField(
        _l("Minimum shipment (t)"), places=3, validators=[Optional(), NumberRange(min=0.001, max=10_000_000)]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    settle_on = SelectField(
        _l("Settle on"),
        choices=[SelectChoice("received", _l("Tonnes weighed in at the buyer (net weight received)")),
                 SelectChoice("awarded", _l("Awarded tonnes"))],
        default="received",
        validators=[DataRequired()],
    )
    # Hazardous lots only: what the e-manifest (危险废物电子转移联单) states and the cross-province approval.
    transfer_approval_ref = StringField(
        _l("Cross-province transfer approval or filing number (跨省转移审批/备案)"),
        description=_l("Without it the lot only goes to receivers in Heilongjiang."),
        validators=[Optional(), Length(max=60)])
    waste_form = SelectField(_l("Form (形态)"), choices=[SelectChoice("", "—"), *(
        SelectChoice(k, v) for k, v in WASTE_FORMS.items())], validators=[Optional()])
    hazard_characteristics = SelectMultipleField(_l("Hazard characteristics (危险特性)"), choices=[
        SelectChoice(k, v) for k, v in HAZARD_CHARACTERISTICS.items()], validators=[Optional()])
    packaging_type = StringField(_l("Packaging (包装方式)"), description=_l("e.g. 吨袋, 200 L 钢桶"),
                                 validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Save lot"))

    quality_keys: tuple[str, ...] = ()

    def quality_fields(self) -> list:
        """The quality inputs, in catalogue order (see lot_form_class)."""
        return [getattr(self, f"q_{key}") for key in self.quality_keys]

    def validate_available_to(self, field) -> None:
        """The window may not end before it starts."""
        if field.data and self.available_from.data and field.data < self.available_from.data:
            raise ValidationError(_l("The availability window ends before it starts."))


def lot_form_class(specs: dict[str, dict]) -> type[LotForm]:
    """LotForm with one input per quality key of the catalogue (`specs`: key → {"type", "unit"}), so a new
    catalogue row needs no code here. The label is app.labels' translation, else the key and its unit; values
    are checked by type in the lots service (forms only parse)."""
    attrs: dict = {"quality_keys": tuple(specs)}
    for key, spec in specs.items():
        unit = spec.get("unit") or ""
        text = QUALITY.get(key) or (f"{key} ({unit})" if unit else key)
        kw = {} if spec["type"] == "text" else {"inputmode": "decimal" if spec["type"] != "count" else "numeric"}
        attrs[f"q_{key}"] = StringField(text, validators=[Optional(), Length(max=60)], render_kw=kw)
    return type("CatalogueLotForm", (LotForm,), attrs)


class LotImportForm(FlaskForm):
    """A CSV or XLSX file of lots."""

    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])
    submit = SubmitField(_l("Import"))


class DocumentForm(FlaskForm):
    """A photo (JPEG, PNG) or PDF document for a lot."""

    file = FileField(_l("Photo or document (JPEG, PNG, PDF)"), validators=[FileRequired()])
    submit = SubmitField(_l("Upload"))


class QuestionForm(FlaskForm):
    """A public question about a lot."""

    question = TextAreaField(_l("Your question"), validators=[DataRequired(), Length(min=5, max=1000)],
                             description=_l("Everyone who can see the lot reads it; prices belong in a sealed bid."))
    submit = SubmitField(_l("Ask"))


class AnswerForm(FlaskForm):
    """The producer's public answer."""

    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(min=5, max=1000)])
    submit = SubmitField(_l("Answer"))


class SavedSearchForm(FlaskForm):
    """A saved search: the lot filters a buyer wants to hear about."""

    name = StringField(_l("Name of the search"), validators=[DataRequired(), Length(max=100)])
    category = SelectField(_l("Category"), validators=[Optional()])
    keyword = StringField(_l("Keywords"), validators=[Optional()])  # bounded by app/services/keywords.py
    min_tonnes = DecimalField(_l("Min tonnes"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    max_tonnes = DecimalField(_l("Max tonnes"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    max_price = DecimalField(_l("Max reserve (yuan/t)"), validators=[Optional(), NumberRange(min=-1e5, max=1e6)])
    near = SelectField(_l("Distance from my facility"), validators=[Optional()])
    max_km = IntegerField(_l("Max road km"), validators=[Optional(), IntRange(min=1, max=5000)])
    submit = SubmitField(_l("Save search"))
