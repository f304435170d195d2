"""Request and response schemas (pydantic v2); their JSON Schema (2020-12) goes into the OpenAPI document."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.api.types import Code, DecimalOut, Id, MoneyIn, MoneyOut, Timestamp, TonnesIn, TonnesOut
from models.facilities import COORDINATE_SYSTEMS, FACILITY_KINDS
from models.shipments import PRODUCTS


def _clean_text(value: str) -> str:
    """Refuse text a database cannot store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode") from exc
    return value


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - a type factory
    """A string of bounded length that a database can store."""
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_clean_text)]


class Input(BaseModel):
    """Base of request bodies and queries: unknown fields refused, no NaN or infinity."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Output(BaseModel):
    """Base of response bodies."""

    model_config = ConfigDict(from_attributes=True)


Bounds = tuple[Optional[float], Optional[float]]
QualityLimits = Annotated[dict[Annotated[str, Field(max_length=40)], Bounds], Field(max_length=20)]
Cursor = Annotated[Optional[str], Field(default=None, max_length=200, description="next_cursor of the previous page")]
Limit = Annotated[int, Field(default=25, ge=1, le=100, description="Items per page (1–100).")]


# ----------------------------------------------------------------------------- common


class FieldError(Output):
    """One invalid field of a request."""

    field: str
    message: str
    line: Optional[int] = Field(default=None, description="Line of an imported file (its header is line 1)")


class Problem(Output):
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: Optional[list[FieldError]] = None


class PageQuery(Input):
    """Cursor pagination parameters."""

    limit: Limit = 25
    cursor: Cursor = None


class Organization(Output):
    """The organisation a user belongs to."""

    id: int
    name: str
    verified: bool
    base_id: Optional[int]


class TokenInfo(Output):
    """An API token as shown after creation: never its secret."""

    id: int
    name: str
    prefix: str
    created_at: Timestamp
    last_used_at: Optional[Timestamp]


class Me(Output):
    """The token's user, organisation and what it may do."""

    id: int
    email: str
    name: str
    role: str
    can_trade: bool
    organization: Organization
    token: TokenInfo


# ----------------------------------------------------------------------------- catalogue and facilities


class Category(Output):
    """A waste category of the catalogue."""

    id: int
    code: str
    name_zh: str
    name_en: str
    family: str
    hazardous: bool
    national_code: Optional[str] = Field(default=None, description=(
        "Class code (S01–S59) of the 2024 固体废物分类与代码目录; which class a category belongs to is the "
        "platform's reading, not yet checked against the catalogue's table (app/data/README.md)."))
    hw_code: Optional[str] = Field(default=None, description="国家危险废物名录 class and, where known, waste code.")
    env_tax_yuan_per_t: MoneyOut
    freight_class: str
    co2_avoided_t_per_t: DecimalOut
    quality_fields: list[dict[str, Any]]


class CategoryPage(Output):
    """A page of categories."""

    items: list[Category]
    next_cursor: Optional[str]


class CapacityIn(Input):
    """An accepted category of a recycler facility."""

    category: Code
    tonnes_per_month: TonnesIn
    quality_limits: QualityLimits = Field(default_factory=dict)


# What a licence covers: a catalogue category code or a whole HW class of the 国家危险废物名录 (e.g. HW08).
LicenceCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^([a-z0-9_]+|HW[0-9]{2})$")]


class LicenceIn(Input):
    """A licence of a facility."""

    number: Text(60, 1)
    categories: Annotated[list[LicenceCode], Field(max_length=40)] = Field(default_factory=list)
    valid_until: Optional[dt.date] = None


class FacilityIn(Input):
    """A facility to create; lon/lat in `system` (WGS84, GCJ-02 or BD-09), within China's extent."""

    name: Text(200, 1)
    kind: Literal[FACILITY_KINDS]  # type: ignore[valid-type]
    lon: float = Field(ge=73, le=136)
    lat: float = Field(ge=3, le=54)
    system: Literal[COORDINATE_SYSTEMS] = "wgs84"  # type: ignore[valid-type]
    address: Optional[Text(300)] = None
    max_haul_km: Optional[int] = Field(default=None, ge=1, le=5000)
    capacities: Annotated[list[CapacityIn], Field(max_length=50)] = Field(default_factory=list)
    licences: Annotated[list[LicenceIn], Field(max_length=20)] = Field(default_factory=list)


class Capacity(Output):
    """An accepted category and its monthly capacity."""

    category: str
    tonnes_per_month: TonnesOut
    quality_limits: dict[str, Any]


class Licence(Output):
    """A licence of a facility."""

    number: str
    categories: list[str]
    valid_until: Optional[dt.date]


class Facility(Output):
    """A located plant or yard (stored in WGS84) with its prefecture and base."""

    id: int
    organization_id: int
    name: str
    kind: str
    address: Optional[str]
    lon: float
    lat: float
    input_crs: str
    prefecture_code: Optional[str]
    base_id: Optional[int]
    in_province: bool
    max_haul_km: Optional[int]
    capacities: list[Capacity]
    licences: list[Licence]
    created_at: Timestamp


class FacilityPage(Output):
    """A page of facilities."""

    items: list[Facility]
    next_cursor: Optional[str]


# ----------------------------------------------------------------------------- lots


SORTS = Literal["relevance", "newest", "tonnes_desc", "tonnes_asc", "reserve_asc", "available", "distance"]


class LotQuery(PageQuery):
    """Filters of the lot search, as on the lots page."""

    category: Optional[Code] = None
    prefecture: Optional[Annotated[str, Field(pattern=r"^[0-9]{6}$")]] = None
    base_id: Optional[Id] = None
    min_tonnes: Optional[TonnesIn] = None
    max_tonnes: Optional[TonnesIn] = None
    available_by: Optional[dt.date] = Field(default=None, description="Available from this date or earlier.")
    available_until: Optional[dt.date] = Field(default=None, description="Still available on this date.")
    near_facility_id: Optional[Id] = Field(default=None, description="One of your facilities: road distance origin.")
    max_km: Optional[float] = Field(default=None, gt=0, le=5000)
    q: Optional[Text(100)] = Field(default=None, description="Keywords: title, description, organisation, category.")
    min_price: Optional[MoneyIn] = Field(default=None, description="Lowest reserve price, yuan per tonne.")
    max_price: Optional[MoneyIn] = Field(default=None, description="Highest reserve price, yuan per tonne.")
    sort: SORTS = Field(default="relevance", description="relevance: best keyword match first (newest first "
                        "without keywords).")


class LotIn(Input):
    """A lot to post or the full new state of one to edit."""

    facility_id: Id
    category: Code
    tonnes: TonnesIn
    reserve_yuan_per_t: MoneyIn
    available_from: dt.date
    available_to: Optional[dt.date] = None
    min_shipment_t: Optional[TonnesIn] = None
    title: Optional[Text(200)] = None
    description: Optional[Text(5000)] = None
    settle_on: Literal["received", "awarded"] = Field(
        default="received", description="Bill on the tonnes weighed in (default) or on the awarded tonnes.")
    quality: Annotated[dict[Annotated[str, Field(max_length=40)], float | Text(60)], Field(max_length=20)] = \
        Field(default_factory=dict)
    transfer_approval_ref: Optional[Text(60)] = Field(default=None, description=(
        "Hazardous lots: cross-province transfer approval/filing number (跨省转移审批/备案); without it the lot "
        "only goes to receivers in Heilongjiang."))
    waste_form: Optional[Literal["solid", "semi_solid", "liquid", "gas"]] = Field(
        default=None, description="Hazardous lots: form (形态) on the e-manifest.")
    hazard_characteristics: Optional[Text(20)] = Field(
        default=None, description="Hazardous lots: letters of T, C, I, R, In separated by commas (危险特性).")
    packaging_type: Optional[Text(40)] = Field(default=None, description="Hazardous lots: packaging (包装方式).")


class Lot(Output):
    """A lot on offer: public facts and the number of sealed bids (never their amounts)."""

    id: int
    facility_id: int
    category: str
    title: str
    description: Optional[str]
    tonnes: TonnesOut
    remaining_tonnes: TonnesOut
    reserve_yuan_per_t: MoneyOut
    available_from: dt.date
    available_to: Optional[dt.date]
    min_shipment_t: Optional[TonnesOut]
    quality: dict[str, Any]
    status: str
    state: str = Field(description="open, partly_matched, matched, sold, withdrawn or expired.")
    settle_on: str
    prefecture_code: Optional[str]
    base_id: Optional[int]
    lon: float
    lat: float
    active_bids: Optional[int] = Field(description="Sealed bids on the lot: shown to its producer only, else null.")
    road_km: Optional[float] = None
    hw_code: Optional[str] = Field(default=None, description="国家危险废物名录 class and code of a hazardous lot.")
    transfer_approval_ref: Optional[str] = None
    waste_form: Optional[str] = None
    hazard_characteristics: Optional[str] = None
    packaging_type: Optional[str] = None
    created_at: Timestamp
    updated_at: Timestamp


class LotPage(Output):
    """A page of lots."""

    items: list[Lot]
    next_cursor: Optional[str]
    total: int


# ----------------------------------------------------------------------------- bids and demand


class BidIn(Input):
    """A sealed bid: price per tonne delivered and tonnes, from one of your recycling facilities."""

    facility_id: Id
    price_yuan_per_t: MoneyIn
    tonnes: TonnesIn
    max_haul_km: Optional[int] = Field(default=None, ge=1, le=5000)


class CategoryBidIn(Input):
    """A sealed bid on every compatible lot of a category within the haul radius of one of your recycling facilities.

    Leave out max_haul_km to use the facility's; one of the two is required.
    """

    facility_id: Id
    category: Code
    price_yuan_per_t: MoneyIn
    tonnes: TonnesIn
    max_haul_km: Optional[int] = Field(default=None, ge=1, le=5000)


class Bid(Output):
    """One of your organisation's sealed bids: on one lot, or category-wide when lot_id is null."""

    id: int
    lot_id: Optional[int] = Field(description="The lot bid on; null for a category-wide bid.")
    category: str
    facility_id: int
    price_yuan_per_t: MoneyOut
    tonnes: TonnesOut
    max_haul_km: Optional[int] = Field(description="Haul limit in km; a category-wide bid always has one.")
    status: str
    created_at: Timestamp


class BidPage(Output):
    """A page of bids."""

    items: list[Bid]
    next_cursor: Optional[str]


class LotBidStatus(Output):
    """Bids on a lot as you may see them: the count for its producer, your own bids for a bidder."""

    lot_id: int
    active_bids: Optional[int]
    own_bids: list[Bid]


class DemandProfileIn(Input):
    """A standing bid for a category over a period."""

    facility_id: Id
    category: Code
    period_start: dt.date
    period_end: dt.date
    tonnes: TonnesIn
    price_yuan_per_t: MoneyIn
    max_haul_km: Optional[int] = Field(default=None, ge=1, le=5000)
    quality_limits: QualityLimits = Field(default_factory=dict)


class DemandProfile(Output):
    """A standing demand profile."""

    id: int
    facility_id: int
    category: str
    period_start: dt.date
    period_end: dt.date
    tonnes: TonnesOut
    price_yuan_per_t: MoneyOut
    max_haul_km: Optional[int]
    quality_limits: dict[str, Any]
    active: bool
    created_at: Timestamp


class DemandProfilePage(Output):
    """A page of demand profiles."""

    items: list[DemandProfile]
    next_cursor: Optional[str]


# ----------------------------------------------------------------------------- clearing


class MatchRunIn(Input):
    """Start a clearing, of every category or of one."""

    category: Optional[Code] = None


class MatchRun(Output):
    """A clearing run: status, progress and totals once it succeeded."""

    id: int
    status: str
    done: bool
    category: Optional[str]
    progress_pct: int
    message: Optional[str]
    job_id: Optional[str]
    allocations: int
    tonnes_matched: Optional[TonnesOut]
    transport_cost_yuan: Optional[MoneyOut]
    objective_yuan: Optional[MoneyOut]
    co2_t: Optional[TonnesOut]
    surplus_yuan: Optional[MoneyOut]
    seconds: Optional[float]
    failure_reason: Optional[str] = None
    timings: Optional[dict[str, float]] = None
    locked_categories: list[str] = Field(default_factory=list, description=(
        "Codes of the categories this run holds now: no other clearing of them can start until it ends "
        "(empty once it has ended)."))
    created_at: Timestamp
    started_at: Optional[Timestamp]
    finished_at: Optional[Timestamp]


class MatchRunPage(Output):
    """A page of clearing runs."""

    items: list[MatchRun]
    next_cursor: Optional[str]


class Allocation(Output):
    """Tonnes of a lot proposed to a recycler facility; both parties accept or decline."""

    id: int
    run_id: int
    lot_id: int
    producer_facility_id: int
    facility_id: int
    tonnes: TonnesOut
    price_yuan_per_t: MoneyOut
    reserve_yuan_per_t: MoneyOut
    transport_yuan_per_t: MoneyOut
    transport_cost_yuan: MoneyOut
    surplus_yuan: MoneyOut
    road_km: Optional[float]
    rail_km: Optional[float]
    status: str
    producer_decision: Optional[str]
    recycler_decision: Optional[str]
    deadline: Optional[Timestamp]
    award_id: Optional[int]
    your_sides: list[str]


class AllocationPage(Output):
    """A page of allocations."""

    items: list[Allocation]
    next_cursor: Optional[str]


class Award(Output):
    """An accepted allocation with its netback settlement and chain-of-custody totals."""

    id: int
    allocation_id: int
    lot_id: int
    tonnes: TonnesOut
    dispatched_tonnes: TonnesOut
    received_tonnes: TonnesOut
    declared_tonnes: TonnesOut
    price_yuan_per_t: MoneyOut
    freight_yuan_per_t: MoneyOut
    netback_yuan_per_t: MoneyOut
    recycler_pays_yuan: MoneyOut
    freight_yuan: MoneyOut
    producer_receives_yuan: MoneyOut
    settle_on: str = Field(description="received: billed on weighed-in tonnes; awarded: on the awarded tonnes.")
    billed_tonnes: TonnesOut
    billed_recycler_pays_yuan: MoneyOut
    billed_freight_yuan: MoneyOut
    billed_producer_receives_yuan: MoneyOut
    status: str
    awarded_at: Timestamp


class AwardPage(Output):
    """A page of awards."""

    items: list[Award]
    next_cursor: Optional[str]


# ----------------------------------------------------------------------------- shipments and utilisation


class DispatchIn(Input):
    """A load dispatched against an award."""

    tonnes: TonnesIn
    vehicle_plate: Text(16, 1)
    carrier_organization_id: Optional[Id] = Field(default=None, description=(
        "Required for hazardous lots: a carrier with a valid road dangerous-goods transport permit."))
    packaging_count: Optional[int] = Field(default=None, ge=1, le=100_000,
                                           description="Hazardous lots (required): packages on the load.")


class ReceiveIn(Input):
    """Tonnes weighed in at the recycler's weighbridge."""

    received_tonnes: TonnesIn
    disposal_method: Optional[Text(8)] = Field(default=None, description=(
        "Hazardous lots (required): utilisation/disposal method code as on the licence, e.g. R4 or D10."))


class Shipment(Output):
    """A chain-of-custody manifest (联单) of one load."""

    id: int
    award_id: int
    manifest_no: str
    carrier_organization_id: Optional[int]
    vehicle_plate: str
    dispatched_tonnes: TonnesOut
    dispatched_at: Timestamp
    received_tonnes: Optional[TonnesOut]
    received_at: Optional[Timestamp]
    discrepancy_pct: Optional[DecimalOut]
    discrepancy_flagged: bool
    status: str
    packaging_count: Optional[int] = None
    carrier_permit_no: Optional[str] = None
    receiver_licence_no: Optional[str] = None
    disposal_method: Optional[str] = None


class ShipmentPage(Output):
    """A page of shipments."""

    items: list[Shipment]
    next_cursor: Optional[str]


class UtilisationIn(Input):
    """What received material of an award became."""

    award_id: Id
    product: Literal[PRODUCTS]  # type: ignore[valid-type]
    tonnes: TonnesIn
    period: Optional[dt.date] = Field(default=None, description="Month of use (any day of it); default this month.")


class UtilisationDeclaration(Output):
    """A utilisation declaration, credited to the base of the source facility."""

    id: int
    award_id: Optional[int]
    facility_id: int
    source_facility_id: Optional[int]
    category: str
    product: str
    tonnes: TonnesOut
    period: dt.date = Field(description="the month the recycler utilised the tonnes")
    supply_period: Optional[dt.date] = Field(default=None, description=(
        "the month the producer supplied them (Beijing month of the load's dispatch): the producer's statistics "
        "count the delivery there; null on older declarations, which count in `period`"))
    declared_at: Timestamp


# ----------------------------------------------------------------------------- reports and statistics


class GenerationReportIn(Input):
    """One month's figures of one facility and category (filing again replaces them)."""

    facility_id: Id
    category: Code
    period: dt.date
    generated_t: TonnesIn
    stored_t: TonnesIn
    self_utilised_t: TonnesIn
    supplied_t: TonnesIn = Field(default=Decimal("0"), json_schema_extra={"default": "0"},
                                 description="外供/委托利用: handed to others for utilisation, on or off the platform")
    disposed_t: TonnesIn
    dumped_t: TonnesIn = Field(default=Decimal("0"), json_schema_extra={"default": "0"})
    from_storage_t: TonnesIn = Field(default=Decimal("0"), json_schema_extra={"default": "0"},
                                     description="of the utilised tonnes, those taken from earlier years' storage")
    disposed_from_storage_t: TonnesIn = Field(
        default=Decimal("0"), json_schema_extra={"default": "0"},
        description="处置往年贮存量: of the disposed tonnes, those taken from earlier years' storage")


class GenerationReport(Output):
    """A monthly generation report."""

    id: int
    facility_id: int
    category: str
    period: dt.date
    generated_t: TonnesOut
    stored_t: TonnesOut
    self_utilised_t: TonnesOut
    supplied_t: TonnesOut
    disposed_t: TonnesOut
    dumped_t: TonnesOut
    from_storage_t: TonnesOut
    disposed_from_storage_t: TonnesOut
    updated_at: Timestamp


class GenerationReportPage(Output):
    """A page of generation reports."""

    items: list[GenerationReport]
    next_cursor: Optional[str]


class Base(Output):
    """A resource-utilisation base."""

    id: int
    code: str
    name_zh: str
    name_en: str
    prefecture_code: str


class BasePage(Output):
    """The bases you may see."""

    items: list[Base]
    next_cursor: Optional[str]


class StatsQuery(Input):
    """Which year's statistics."""

    year: Optional[int] = Field(default=None, ge=2000, le=2100)


class RateRow(Output):
    """Tonnes and utilisation rate of one category (or the total when category is null)."""

    category: Optional[str]
    family: Optional[str]
    generated_t: TonnesOut
    stored_t: TonnesOut
    disposed_t: TonnesOut
    dumped_t: TonnesOut
    from_storage_t: TonnesOut = Field(description="utilised from earlier years' storage, as counted: the reported "
                                      "figure, or the tonnes utilised beyond the month's generation if more")
    self_utilised_t: TonnesOut
    supplied_t: TonnesOut = Field(description="supplied to others, as reported (外供)")
    market_utilised_t: TonnesOut = Field(description="platform deliveries declared utilised (capped at weighed-in)")
    utilised_t: TonnesOut = Field(description="self-utilised + the larger of reported supply and platform tonnes")
    rate: Optional[DecimalOut] = Field(description="utilised / (generated + from storage); null when that is 0")
    co2_avoided_t: TonnesOut
    env_tax_exemption_yuan: Optional[MoneyOut] = Field(description=(
        "Environmental Protection Tax Law Art. 12(1)(4) exemption at the statutory rates on self-utilised coal "
        "gangue, tailings, smelting slag, fly ash and furnace slag; null for categories the figure does not reach "
        "(the total sums the categories it reaches)"))


class BaseStatistics(Output):
    """Utilisation rates of a base (or the province) for a year, by category, with the target."""

    base: str
    year: int
    target_rate: Optional[DecimalOut]
    target_assumed: bool = Field(default=False, description=(
        "true when the base has no target of its own and target_rate is the province's, applied as an assumption"))
    demo: bool = Field(description="true when some figures come from demo organisations (invented)")
    rows: list[RateRow]
    total: RateRow
