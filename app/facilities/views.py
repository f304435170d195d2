"""Views of the facilities blueprint."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app import policy
from app.extensions import db
from app.facilities.forms import CAPACITY_ROWS, LICENCE_ROWS, FacilityForm
from app.permissions import allowed
from app.services import catalogue, facilities, hazardous
from app.services.errors import PermissionDenied, ServiceError

blueprint = Blueprint("facilities", __name__)
FIELD_ERRORS = ("name", "kind", "lon", "system", "max_haul_km")


def _form(obj=None) -> FacilityForm:
    form = FacilityForm()
    if obj is not None and request.method == "GET":
        form = FacilityForm(obj=_as_form_data(obj))
    while len(form.capacities) < CAPACITY_ROWS:
        form.capacities.append_entry()
    while len(form.licences) < LICENCE_ROWS:
        form.licences.append_entry()
    form.set_category_choices(catalogue.category_choices(db.session, str(get_locale())),
                              tuple(c for c in hazardous.licence_codes(db.session) if hazardous.HW_CLASS.match(c)))
    return form


class _FormData:
    """A facility as the form's `obj`: stored WGS84, capacities and licences as plain rows."""

    def __init__(self, facility) -> None:
        self.name, self.kind, self.address = facility.name, facility.kind, facility.address
        self.lon, self.lat, self.system, self.max_haul_km = facility.lon, facility.lat, "wgs84", facility.max_haul_km
        self.capacities = [
            SimpleNamespace(
                category=c.category.code,
                tonnes_per_month=c.tonnes_per_month,
                quality_limits=facilities.format_quality_limits(c.quality_limits),
            )
            for c in facility.capacities
        ]
        self.licences = [
            SimpleNamespace(number=lic.number, categories=list(lic.category_codes), valid_until=lic.valid_until)
            for lic in facility.licences
        ]


def _as_form_data(facility) -> _FormData:
    return _FormData(facility)


def _input(form: FacilityForm) -> facilities.FacilityInput:
    capacities = tuple(
        facilities.CapacityInput(
            e.category.data, e.tonnes_per_month.data, facilities.parse_quality_limits(e.quality_limits.data)
        )
        for e in (entry.form for entry in form.capacities)
        if e.category.data and e.tonnes_per_month.data
    )
    licences = tuple(
        facilities.LicenceInput(e.number.data.strip(), tuple(e.categories.data or ()), e.valid_until.data)
        for e in (entry.form for entry in form.licences)
        if (e.number.data or "").strip()
    )
    return facilities.FacilityInput(
        name=form.name.data,
        kind=form.kind.data,
        lon=form.lon.data,
        lat=form.lat.data,
        system=form.system.data,
        address=form.address.data,
        max_haul_km=form.max_haul_km.data,
        capacities=capacities,
        licences=licences,
    )


def _render(form: FacilityForm, facility=None, status: int = 200):
    return render_template(
        "facilities/form.html", form=form, facility=facility, tile_url=current_app.config.get("MAP_TILE_URL")
    ), status


def _save(form: FacilityForm, facility=None):
    """Validate, call the service, redirect; re-render with the input and messages on error."""
    if not form.validate_on_submit():
        return _render(form, facility, 400 if request.method == "POST" else 200)
    try:
        data = _input(form)
        if facility is None:
            facility = facilities.create(
                db.session, current_user.row, data, request.args.get("organization_id", type=int)
            )
        else:
            facility = facilities.update(db.session, current_user.row, facility, data)
    except PermissionDenied:
        abort(403)
    except ServiceError as exc:
        if exc.field in FIELD_ERRORS:
            getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, exc.message]
        else:
            form.form_errors.append(exc.message)
        return _render(form, facility if facility and facility.id else None, 400)
    flash(_("Facility saved."), "success")
    return redirect(url_for("facilities.detail", facility_id=facility.id))


@blueprint.route("/facilities")
@allowed(policy.may_manage_facility)
def index():
    """The facilities of my organisation."""
    return render_template(
        "facilities/index.html",
        facilities=facilities.mine(db.session, current_user.row),
        locale=str(get_locale()),
        prefecture_name=catalogue.prefecture_name,
    )


@blueprint.route("/facilities/new", methods=["GET", "POST"])
@allowed(policy.may_manage_facility)
def create():
    """Create a facility of my organisation."""
    return _save(_form())


def _editable(facility_id: int):
    try:
        facility = facilities.get_editable(db.session, current_user.row, facility_id)
    except PermissionDenied:
        abort(403)
    if facility is None:
        abort(404)
    return facility


@blueprint.route("/facilities/<int:facility_id>")
@allowed(policy.may_manage_facility)
def detail(facility_id: int):
    """One of my facilities, on a map."""
    facility = _editable(facility_id)
    return render_template(
        "facilities/detail.html",
        facility=facility,
        locale=str(get_locale()),
        prefecture_name=catalogue.prefecture_name,
        tile_url=current_app.config.get("MAP_TILE_URL"),
    )


@blueprint.route("/facilities/<int:facility_id>/edit", methods=["GET", "POST"])
@allowed(policy.may_manage_facility)
def edit(facility_id: int):
    """Edit one of my facilities."""
    facility = _editable(facility_id)
    return _save(_form(facility), facility)


@blueprint.route("/geo/prefectures.geojson")
def prefectures_geojson():
    """The prefecture boundaries: the offline base layer of every map."""
    response = Response(facilities.prefectures_geojson(), mimetype="application/geo+json")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
