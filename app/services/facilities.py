"""Facilities: create and edit located plants and yards, with recyclers' capacities and licences."""
from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from decimal import Decimal

import shapely
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

import geo
from app import policy
from app.services import audit, hazardous, quantities
from app.services.errors import PermissionDenied, ServiceError
from geo.boundaries import PREFECTURE_NAMES_EN, prefectures
from models import Facility, FacilityCapacity, Licence, ResourceBase, User, WasteCategory
from models.facilities import COORDINATE_SYSTEMS, FACILITY_KINDS


@dataclass(frozen=True)
class CapacityInput:
    """One accepted category of a recycler facility."""

    category: str
    tonnes_per_month: Decimal
    quality_limits: dict = field(default_factory=dict)


@dataclass(frozen=True)
class LicenceInput:
    """One licence: number, covered category codes, expiry."""

    number: str
    categories: tuple[str, ...]
    valid_until: dt.date | None


@dataclass(frozen=True)
class FacilityInput:
    """What the facility form collects; lon/lat are in `system`."""

    name: str
    kind: str
    lon: float
    lat: float
    system: str = "wgs84"
    address: str | None = None
    max_haul_km: int | None = None
    capacities: tuple[CapacityInput, ...] = ()
    licences: tuple[LicenceInput, ...] = ()


def can_edit(user: User, facility: Facility) -> bool:
    """Whether the user may edit the facility (app.policy.may_manage_facility)."""
    return policy.may_manage_facility(user, facility)


def mine(session: so.Session, user: User) -> list[Facility]:
    """The facilities of the user's organisation, by name."""
    return list(session.scalars(
        sa.select(Facility).where(Facility.organization_id == user.organization_id).order_by(Facility.name)
    ))


def my_places(session: so.Session, user: User) -> list[sa.Row]:
    """The facilities of the user's organisation as (id, name, lon, lat) rows, by name: what the lot pages use of
    them (distance filters and distances), without reading whole rows on every page."""
    return list(session.execute(
        sa.select(Facility.id, Facility.name, Facility.lon, Facility.lat)
        .where(Facility.organization_id == user.organization_id).order_by(Facility.name)
    ))


def get_editable(session: so.Session, user: User, facility_id: int) -> Facility | None:
    """The facility if it exists (None) and the user may edit it (else PermissionDenied)."""
    facility = session.get(Facility, facility_id)
    if facility is not None and not can_edit(user, facility):
        raise PermissionDenied(_("Only the owner organisation can change this facility."))
    return facility


def parse_quality_limits(text: str | None) -> dict[str, list]:
    """Parse 'moisture_pct<=12; cao_pct>=40; so3_pct=1..3' into {key: [min, max]}; ValueError if malformed."""
    limits: dict[str, list] = {}
    for part in (text or "").replace("；", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        if "<=" in part:
            key, high = part.split("<=", 1)
            bounds = [None, float(high)]
        elif ">=" in part:
            key, low = part.split(">=", 1)
            bounds = [float(low), None]
        elif "=" in part and ".." in part:
            key, span = part.split("=", 1)
            low, high = span.split("..", 1)
            bounds = [float(low), float(high)]
        else:
            raise ValueError(part)
        key = key.strip()
        if not key or (bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]):
            raise ValueError(part)
        limits[key] = bounds
    return limits


def format_quality_limits(limits: dict | None) -> str:
    """The inverse of parse_quality_limits, for editing."""
    parts = []
    for key, (low, high) in (limits or {}).items():
        if low is not None and high is not None:
            parts.append(f"{key}={low:g}..{high:g}")
        elif high is not None:
            parts.append(f"{key}<={high:g}")
        elif low is not None:
            parts.append(f"{key}>={low:g}")
    return "; ".join(parts)


def _located(session: so.Session, data: FacilityInput) -> dict:
    """WGS84 position and spatial join of the input point; ServiceError(field='lon') outside the region."""
    if data.system not in COORDINATE_SYSTEMS:
        raise ServiceError(_("Choose a coordinate system."), field="system")
    lon, lat = geo.to_wgs84(data.lon, data.lat, data.system)
    lon, lat = float(lon), float(lat)
    try:
        where = geo.locate(lon, lat)
    except geo.OutOfRegionError as exc:
        raise ServiceError(
            _("This point (%(lon).5f, %(lat).5f WGS84) is outside Heilongjiang and its service area. "
              "Check the coordinates and their system (are longitude and latitude swapped?).", lon=lon, lat=lat),
            field="lon") from exc
    except ValueError as exc:
        raise ServiceError(_("These are not valid coordinates."), field="lon") from exc
    base = None
    if where.prefecture_code:
        base = session.scalar(sa.select(ResourceBase).where(ResourceBase.prefecture_code == where.prefecture_code))
    return {"lon": round(lon, 6), "lat": round(lat, 6), "prefecture_code": where.prefecture_code,
            "county_code": where.county_code, "in_province": where.in_province, "base": base}


def _apply(session: so.Session, facility: Facility, data: FacilityInput) -> None:
    if data.kind not in FACILITY_KINDS:
        raise ServiceError(_("Choose what the facility does."), field="kind")
    if not data.name.strip():
        raise ServiceError(_("Give the facility a name."), field="name")
    if data.max_haul_km is not None and data.max_haul_km <= 0:
        raise ServiceError(_("The maximum haul must be positive."), field="max_haul_km")
    where = _located(session, data)
    categories = {c.code: c for c in session.scalars(sa.select(WasteCategory))}
    seen = set()
    for cap in data.capacities:
        if cap.category not in categories:
            raise ServiceError(_("Unknown category %(code)s.", code=cap.category), field="capacities")
        if cap.category in seen:
            raise ServiceError(_("Each category may be listed once."), field="capacities")
        if cap.tonnes_per_month is None or cap.tonnes_per_month <= 0:
            raise ServiceError(_("Capacity must be positive."), field="capacities")
        if problem := quantities.tonnes_problem(cap.tonnes_per_month):  # the same bound for page and API
            raise ServiceError(problem, field="capacities")
        seen.add(cap.category)
    # A licence names catalogue categories or whole HW classes (e.g. HW08) of the 国家危险废物名录.
    licensable = set(hazardous.licence_codes(session))
    for lic in data.licences:
        unknown = [c for c in lic.categories if c not in licensable]
        if unknown:
            raise ServiceError(_("Unknown category %(code)s.", code=", ".join(unknown)), field="licences")
    facility.name = data.name.strip()
    facility.kind = data.kind
    facility.address = (data.address or "").strip() or None
    facility.input_crs = data.system
    facility.max_haul_km = data.max_haul_km if data.kind != "producer" else None
    facility.lon, facility.lat = where["lon"], where["lat"]
    facility.prefecture_code, facility.county_code = where["prefecture_code"], where["county_code"]
    facility.in_province, facility.base = bool(where["in_province"]), where["base"]
    accepting = data.kind != "producer"
    existing = {c.category.code: c for c in facility.capacities}
    facility.capacities = [
        _capacity(existing.get(cap.category), categories[cap.category], cap) for cap in data.capacities
    ] if accepting else []
    facility.licences = [Licence(number=lic.number.strip(), category_codes=list(lic.categories),
                                 valid_until=lic.valid_until) for lic in data.licences]


def _capacity(row: FacilityCapacity | None, category: WasteCategory, cap: CapacityInput) -> FacilityCapacity:
    row = row or FacilityCapacity(category=category)
    row.tonnes_per_month = quantities.tonnes(cap.tonnes_per_month)
    row.quality_limits = dict(cap.quality_limits)
    return row


def _summary(facility: Facility) -> dict:
    return {"name": facility.name, "kind": facility.kind, "lon": facility.lon, "lat": facility.lat,
            "input_crs": facility.input_crs, "prefecture": facility.prefecture_code,
            "capacities": {c.category.code: str(c.tonnes_per_month) for c in facility.capacities},
            "licences": [lic.number for lic in facility.licences]}


def create(session: so.Session, user: User, data: FacilityInput, organization_id: int | None = None) -> Facility:
    """Create a facility of the user's organisation (admins may name another); commit and audit."""
    org_id = organization_id if (organization_id and policy.is_admin(user)) else user.organization_id
    facility = Facility(organization_id=org_id)
    try:
        _apply(session, facility, data)
        session.add(facility)
        session.flush()
        audit.record(session, user.id, "facility", facility.id, "created", _summary(facility))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return facility


def update(session: so.Session, user: User, facility: Facility, data: FacilityInput) -> Facility:
    """Change a facility the user may edit; commit and audit, or roll everything back."""
    if not can_edit(user, facility):
        raise PermissionDenied(_("Only the owner organisation can change this facility."))
    try:
        with session.no_autoflush:
            _apply(session, facility, data)
        audit.record(session, user.id, "facility", facility.id, "updated", _summary(facility))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return facility


@functools.cache
def prefectures_geojson() -> str:
    """The prefecture boundaries as a simplified GeoJSON FeatureCollection (the offline base map)."""
    gdf = prefectures()
    features = []
    for row in gdf.itertuples():
        geometry = shapely.simplify(row.geometry, 0.01, preserve_topology=True)
        features.append({
            "type": "Feature",
            "properties": {"code": row.adcode, "name": row.name, "name_en": PREFECTURE_NAMES_EN.get(row.adcode, "")},
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geometry, 0.0001))),
        })
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":"))
