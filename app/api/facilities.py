"""API resource: facilities of your organisation (producers and recyclers, like the facilities pages)."""
from __future__ import annotations

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user, require
from app.api.blueprint import get_or_404, op
from app.api.errors import ApiError
from app.api.registry import validate_model
from app.api.types import format_decimal
from app.extensions import db
from app.services import facilities
from models import Facility


def facility_out(facility: Facility) -> schemas.Facility:
    """A facility as the API shows it."""
    return schemas.Facility(
        id=facility.id, organization_id=facility.organization_id, name=facility.name, kind=facility.kind,
        address=facility.address, lon=facility.lon, lat=facility.lat, input_crs=facility.input_crs,
        prefecture_code=facility.prefecture_code, base_id=facility.base_id, in_province=facility.in_province,
        max_haul_km=facility.max_haul_km,
        capacities=[schemas.Capacity(category=c.category.code, tonnes_per_month=c.tonnes_per_month,
                                     quality_limits=c.quality_limits or {}) for c in facility.capacities],
        licences=[schemas.Licence(number=lic.number, categories=list(lic.category_codes or []),
                                  valid_until=lic.valid_until) for lic in facility.licences],
        created_at=facility.created_at)


def facility_input(body: schemas.FacilityIn) -> facilities.FacilityInput:
    """The service input of a facility body."""
    return facilities.FacilityInput(
        name=body.name, kind=body.kind, lon=body.lon, lat=body.lat, system=body.system, address=body.address,
        max_haul_km=body.max_haul_km,
        capacities=tuple(facilities.CapacityInput(c.category, c.tonnes_per_month, dict(c.quality_limits))
                         for c in body.capacities),
        licences=tuple(facilities.LicenceInput(lic.number, tuple(lic.categories), lic.valid_until)
                       for lic in body.licences))


@op("GET", "/facilities", summary="List your organisation's facilities", tag="facilities",
    query=schemas.PageQuery, response=schemas.FacilityPage, allow=policy.may_manage_facility)
def list_facilities(query: schemas.PageQuery):
    """The facilities of the token's organisation."""
    user = current_user()
    rows = sorted(facilities.mine(db.session, user), key=lambda f: f.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return schemas.FacilityPage(items=[facility_out(f) for f in page], next_cursor=cursor)


@op("POST", "/facilities", summary="Create a facility", tag="facilities", body=schemas.FacilityIn,
    response=schemas.Facility, status=201, allow=policy.may_manage_facility)
def create_facility(body: schemas.FacilityIn):
    """Create a facility of your organisation; prefecture and base are found from its location."""
    user = current_user()
    return facility_out(facilities.create(db.session, user, facility_input(body)))


@op("GET", "/facilities/<int:facility_id>", summary="Read one of your facilities", tag="facilities",
    response=schemas.Facility, allow=policy.may_manage_facility)
def get_facility(facility_id: int):
    """One facility of your organisation (403 for another's)."""
    user = current_user()
    get_or_404(Facility, facility_id)
    facility = facilities.get_editable(db.session, user, facility_id)
    if facility is None:
        raise ApiError(404)
    return facility_out(facility)


def _editable(facility_id: int) -> Facility:
    """A facility the user may edit, as the edit page: 404 unknown, 403 another organisation's."""
    user = current_user()
    require(policy.may_manage_facility(user))
    get_or_404(Facility, facility_id)
    facility = facilities.get_editable(db.session, user, facility_id)
    if facility is None:  # pragma: no cover - get_or_404 found it
        raise ApiError(404)
    return facility


@op("PUT", "/facilities/<int:facility_id>", summary="Replace one of your facilities", tag="facilities",
    body=schemas.FacilityIn, response=schemas.Facility, allow=policy.may_manage_facility)
def replace_facility(facility_id: int, body: schemas.FacilityIn):
    """Replace a facility of your organisation with the body: name, kind, location (in `system`: WGS84, GCJ-02
    or BD-09; stored as WGS84 and located again), capacities and licences (lists replaced as a whole)."""
    facility = _editable(facility_id)
    return facility_out(facilities.update(db.session, current_user(), facility, facility_input(body)))


def _current_input(facility: Facility) -> dict:
    """The facility's stored state as FacilityIn fields (location in WGS84, as the edit page shows it)."""
    return {
        "name": facility.name, "kind": facility.kind, "lon": facility.lon, "lat": facility.lat, "system": "wgs84",
        "address": facility.address, "max_haul_km": facility.max_haul_km,
        "capacities": [{"category": c.category.code, "tonnes_per_month": format_decimal(c.tonnes_per_month),
                        "quality_limits": c.quality_limits or {}} for c in facility.capacities],
        "licences": [{"number": lic.number, "categories": list(lic.category_codes or []),
                      "valid_until": lic.valid_until} for lic in facility.licences],
    }


@op("PATCH", "/facilities/<int:facility_id>", summary="Change fields of one of your facilities", tag="facilities",
    body=more_schemas.FacilityPatch, response=schemas.Facility, allow=policy.may_manage_facility)
def patch_facility(facility_id: int, body: more_schemas.FacilityPatch):
    """Change only the fields given; coordinates come as a lon/lat pair in `system` (default WGS84).
    Given `capacities` or `licences` replace the whole list."""
    facility = _editable(facility_id)
    changes = body.model_dump(exclude_unset=True, mode="json")
    if "lon" in changes:
        changes.setdefault("system", "wgs84")
    merged = validate_model(schemas.FacilityIn, _current_input(facility) | changes)
    return facility_out(facilities.update(db.session, current_user(), facility, facility_input(merged)))
