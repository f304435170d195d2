"""Schemas of the operations that mirror the remaining web pages: facility edits, lot documents and imports,
notifications, utilisation declarations, targets, warnings, scenarios and the evaluation register.

They live apart from `schemas.py` (which they build on) so each resource's models stay together.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import Field, PlainValidator, StrictBool, WithJsonSchema, model_validator
from werkzeug.datastructures import FileStorage

from app.api.schemas import CapacityIn, Input, LicenceIn, Lot, Output, PageQuery, Text, UtilisationDeclaration
from app.api.types import Code, DecimalOut, Id, MoneyIn, MoneyOut, Timestamp, TonnesIn, TonnesOut
from app.services import periods
from models.bases import EVALUATION_STATUSES
from models.catalogue import FAMILIES
from models.facilities import COORDINATE_SYSTEMS, FACILITY_KINDS

MONTH_PATTERN = periods.MONTH_PATTERN
RATE_PATTERN = r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$"


def _upload(value: Any) -> FileStorage:
    if not isinstance(value, FileStorage):
        raise ValueError("a file part is required")
    return value


UploadFile = Annotated[Any, PlainValidator(_upload),
                       WithJsonSchema({"type": "string", "format": "binary", "description": "The file's bytes"})]


def _rate(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not re.match(RATE_PATTERN, value):
        raise ValueError(f"a rate must be a decimal string between 0 and 1 (pattern {RATE_PATTERN})")
    return Decimal(value)


RateIn = Annotated[Decimal, PlainValidator(_rate),
                   WithJsonSchema({"type": "string", "pattern": RATE_PATTERN, "examples": ["0.57"]})]


# ----------------------------------------------------------------------------- facilities


class FacilityPatch(Input):
    """The fields of a facility to change; the others keep their values.

    Coordinates come as a pair (`lon` and `lat`) in `system` (WGS84, GCJ-02 or BD-09; default WGS84).
    `capacities` and `licences`, when given, replace the whole list.
    """

    name: Optional[Text(200, 1)] = None
    kind: Optional[Literal[FACILITY_KINDS]] = None  # type: ignore[valid-type]
    lon: Optional[float] = Field(default=None, ge=73, le=136)
    lat: Optional[float] = Field(default=None, ge=3, le=54)
    system: Optional[Literal[COORDINATE_SYSTEMS]] = None  # type: ignore[valid-type]
    address: Optional[Text(300)] = None
    max_haul_km: Optional[int] = Field(default=None, ge=1, le=5000)
    capacities: Optional[Annotated[list[CapacityIn], Field(max_length=50)]] = None
    licences: Optional[Annotated[list[LicenceIn], Field(max_length=20)]] = None

    @model_validator(mode="after")
    def _coordinates_as_a_pair(self) -> FacilityPatch:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat must be given together")
        if self.system is not None and self.lon is None:
            raise ValueError("system applies to lon and lat: give them too")
        return self


# ----------------------------------------------------------------------------- lots: own, guidance, documents, import


class OwnLotPage(Output):
    """A page of your organisation's lots (any status) with their sealed-bid counts."""

    items: list[Lot]
    next_cursor: Optional[str]


class PriceGuidance(Output):
    """Price guidance for a lot as a band (never one bidder's price), or why there is none.

    `state` is `open`, or with nothing left `matched`, `sold` or `withdrawn`. The band is null (with
    `reason` `too_few_buyers`) unless enough organisations other than yours compete; see the README.
    """

    lot_id: int
    state: str
    reason: Optional[str]
    competing_buyers: Optional[int]
    low_yuan_per_t: Optional[MoneyOut]
    high_yuan_per_t: Optional[MoneyOut]
    prefectures: list[Optional[str]]


class DocumentUpload(Input):
    """A photo (JPEG, PNG) or PDF for a lot; its type is read from its content, not its name."""

    file: UploadFile


class LotDocument(Output):
    """A photo or document of a lot."""

    id: int
    lot_id: int
    filename: str
    content_type: str
    size_bytes: int
    uploaded_at: Timestamp
    download_path: str


class LotDocumentPage(Output):
    """A page of a lot's documents."""

    items: list[LotDocument]
    next_cursor: Optional[str]


class SpreadsheetUpload(Input):
    """A CSV (UTF-8 or GBK) or XLSX file whose first row is the template's header."""

    file: UploadFile


class ImportResult(Output):
    """How many rows an all-or-nothing import saved."""

    imported: int


class TemplateQuery(Input):
    """Which file format."""

    format: Literal["csv", "xlsx"] = "xlsx"


# ----------------------------------------------------------------------------- demand profiles


class DemandProfileQuery(PageQuery):
    """Filters of your demand profiles."""

    active: Optional[bool] = None
    category: Optional[Code] = None
    facility_id: Optional[Id] = None


# ----------------------------------------------------------------------------- shipments and utilisation


class Carrier(Output):
    """A verified carrier organisation a load can be dispatched with."""

    id: int
    name: str
    carries_hazardous: bool = Field(default=False, description=(
        "Holds a valid road dangerous-goods transport permit today: may be named for hazardous lots."))


class CarrierPage(Output):
    """A page of carriers."""

    items: list[Carrier]
    next_cursor: Optional[str]


class DeclarationQuery(PageQuery):
    """Filters of the utilisation declarations."""

    award_id: Optional[Id] = None


class UtilisationDeclarationPage(Output):
    """A page of utilisation declarations."""

    items: list[UtilisationDeclaration]
    next_cursor: Optional[str]


# ----------------------------------------------------------------------------- notifications


class NotificationQuery(PageQuery):
    """Filters of the inbox."""

    unread: Optional[bool] = Field(default=None, description="true: only unread; false: only read")


class Notification(Output):
    """An inbox message, its sentence in the request's language (Accept-Language)."""

    id: int
    kind: str
    message: str
    params: dict[str, str]
    link: Optional[str]
    created_at: Timestamp
    read_at: Optional[Timestamp]


class NotificationPage(Output):
    """A page of the inbox, with the number of unread messages."""

    items: list[Notification]
    next_cursor: Optional[str]
    unread: int


class MarkedRead(Output):
    """How many notifications were marked read."""

    marked: int


# ----------------------------------------------------------------------------- bases: targets, warnings, missing


class MonthQuery(Input):
    """Which month (default: the latest month with reports)."""

    month: Optional[Annotated[str, Field(pattern=MONTH_PATTERN)]] = Field(default=None, examples=["2026-03"])


class Target(Output):
    """A utilisation-rate target of a base (or the province) for a category family and year."""

    id: int
    base_id: Optional[int]
    family: str
    year: int
    target_rate: DecimalOut
    source: Optional[str]


class TargetList(Output):
    """The targets set for a base (or the province's own)."""

    base: str
    items: list[Target]


class TargetIn(Input):
    """Set (create or replace) the target of a family and year: a rate between 0 and 1."""

    family: Literal[FAMILIES]  # type: ignore[valid-type]
    year: int = Field(ge=2000, le=2100)
    target_rate: RateIn
    source: Optional[Text(300)] = None


class EarlyWarning(Output):
    """Behind the target trajectory by more than 5 points, or a large producer's storage growing 3 months."""

    kind: Literal["behind", "storage"]
    subject: str
    rate: Optional[DecimalOut] = None
    target: Optional[DecimalOut] = None
    gap_points: Optional[DecimalOut] = None
    facility_id: Optional[int] = None
    added_t: Optional[list[TonnesOut]] = None


class WarningList(Output):
    """The early warnings of a base (or the province) for a month."""

    base: str
    month: str
    items: list[EarlyWarning]


class MissingReporter(Output):
    """A producer facility that has not reported for the month."""

    facility_id: int
    name: str
    organization_id: int
    organization_name: str
    prefecture_code: Optional[str]


class MissingReporterList(Output):
    """Producer facilities of a base (or the province) without a report for the month."""

    base: str
    month: str
    items: list[MissingReporter]


# ----------------------------------------------------------------------------- scenarios


Subsidy = Annotated[MoneyIn, Field(description="yuan per tonne utilised, 0–10000")]


class ScenarioIn(Input):
    """The levers of a what-if run against the baseline clearing (nothing real changes)."""

    subsidies: Annotated[dict[Code, Subsidy], Field(max_length=10)] = Field(default_factory=dict)
    carbon_price_yuan_per_t: MoneyIn = Field(default=Decimal("0"), json_schema_extra={"default": "0"})
    freight_change_pct: Decimal = Field(default=Decimal("0"), ge=-90, le=500, decimal_places=1,
                                        json_schema_extra={"default": "0"})
    haul_limit_km: Optional[int] = Field(default=None, ge=1, le=5000)
    categories: Annotated[list[Code], Field(max_length=40)] = Field(
        default_factory=list, description="Only these categories (default: every clearable one)")


class ScenarioRow(Output):
    """Baseline and scenario of one category."""

    category: str
    baseline_t: TonnesOut
    scenario_t: TonnesOut
    delta_t: TonnesOut
    scope_delta_t: TonnesOut
    baseline_transport_yuan: MoneyOut
    scenario_transport_yuan: MoneyOut
    baseline_net_co2_t: TonnesOut
    scenario_net_co2_t: TonnesOut
    actual_rate: Optional[DecimalOut]
    projected_rate: Optional[DecimalOut]


class ScenarioTotal(Output):
    """The totals over the categories."""

    baseline_t: TonnesOut = Decimal(0)
    scenario_t: TonnesOut = Decimal(0)
    delta_t: TonnesOut = Decimal(0)
    scope_delta_t: TonnesOut = Decimal(0)
    baseline_transport_yuan: MoneyOut = Decimal(0)
    scenario_transport_yuan: MoneyOut = Decimal(0)
    baseline_net_co2_t: TonnesOut = Decimal(0)
    scenario_net_co2_t: TonnesOut = Decimal(0)


class Scenario(Output):
    """A what-if run: its levers and the comparison with the baseline."""

    id: int
    base: str
    year: int
    parameters: dict[str, Any]
    rows: list[ScenarioRow]
    total: ScenarioTotal
    created_at: Timestamp


class ScenarioPage(Output):
    """The latest scenario runs (officers: their own; regulators: all)."""

    items: list[Scenario]
    next_cursor: Optional[str]


# ----------------------------------------------------------------------------- evaluation register


class EvaluationIn(Input):
    """An entry of the evaluation register (an evaluated enterprise needs its evaluation date)."""

    organization_id: Id
    status: Literal[EVALUATION_STATUSES]  # type: ignore[valid-type]
    evaluated_on: Optional[dt.date] = None
    note: Optional[Text(300)] = None


class Evaluation(Output):
    """An enterprise's comprehensive-utilisation evaluation."""

    id: int
    organization_id: int
    organization_name: str
    demo: bool = Field(default=False, description="the organisation is a demo one: the entry is invented")
    status: str
    evaluated_on: Optional[dt.date]
    note: Optional[str]
    created_at: Timestamp
    updated_at: Timestamp


class EvaluationPage(Output):
    """A page of the register, newest change first."""

    items: list[Evaluation]
    next_cursor: Optional[str]


class EvaluationProgress(Output):
    """Progress against the plan: enterprises evaluated within the plan period (from_year–year), of its target."""

    by_status: dict[str, int]
    evaluated: int = Field(description="enterprises with an evaluation dated within the plan period")
    target: int
    from_year: int
    year: int
    share: DecimalOut
    demo: bool = Field(description="true when some entries are demo organisations' (invented)")



# ----------------------------------------------------------------------------- administration


class OrganizationReview(Output):
    """An organisation as the administrator reviews it."""

    id: int
    name: str
    credit_code: str
    roles: list[str]
    verified: bool
    verified_at: Optional[Timestamp]
    base_id: Optional[int]
    created_at: Timestamp


class OrganizationReviewPage(Output):
    """A page of organisations, unverified first."""

    items: list[OrganizationReview]
    next_cursor: Optional[str]


class VerificationIn(Input):
    """Verify an organisation (it may then trade) or withdraw its verification."""

    verified: StrictBool


# ----------------------------------------------------------------------------- seasonal plans and yards


class YardIn(Input):
    """A shared storage yard (贮存场) of the base: one category, a WGS84 place, capacity and monthly cost."""

    name: Text(120, 1)
    category: Code
    lon: float
    lat: float
    capacity_t: TonnesIn
    cost_yuan_per_t_month: MoneyIn
    loss_pct_per_month: Optional[TonnesIn] = Field(default=None, description="Stock lost per month, in %")


class YardPatch(Input):
    """The fields of a yard to change; the others keep their values."""

    name: Optional[Text(120, 1)] = None
    category: Optional[Code] = None
    lon: Optional[float] = None
    lat: Optional[float] = None
    capacity_t: Optional[TonnesIn] = None
    cost_yuan_per_t_month: Optional[MoneyIn] = None
    loss_pct_per_month: Optional[TonnesIn] = None


class Yard(Output):
    """A storage yard as the seasonal plan uses it."""

    id: int
    name: str
    base: Optional[str]
    category: str
    lon: float
    lat: float
    capacity_t: TonnesOut
    cost_yuan_per_t_month: MoneyOut
    loss_pct_per_month: DecimalOut
    is_demo: bool


class YardPage(Output):
    """The yards of a base (every yard for `province`)."""

    items: list[Yard]
    next_cursor: Optional[str]


class WhatIfYard(Input):
    """A yard tried in memory only."""

    category: Code
    lon: float
    lat: float
    capacity_t: TonnesIn
    cost_yuan_per_t_month: MoneyIn


class SeasonalPlanIn(Input):
    """Plan twelve months from `start`; optionally try a yard and/or a kiln whose stopped months move."""

    start: Annotated[str, Field(pattern=MONTH_PATTERN, examples=["2026-11"])]
    what_if_yard: Optional[WhatIfYard] = None
    kiln_facility_id: Optional[Id] = None
    kiln_stopped_months: Annotated[list[Annotated[int, Field(ge=1, le=12)]], Field(max_length=12)] = Field(
        default_factory=list, description="Calendar months (1–12) the what-if kiln stops in; it runs the rest")


class PlanMonth(Output):
    """One month of a plan: tonnes offered, delivered, put into yards and landfilled."""

    period: str
    offered_t: TonnesOut
    delivered_t: TonnesOut
    stored_in_t: TonnesOut
    disposed_t: TonnesOut


class PlanYard(Output):
    """A yard's month-end stock through the plan (it ends empty)."""

    id: str
    name: str
    base_id: Optional[int]
    category: str
    capacity_t: TonnesOut
    levels_t: list[TonnesOut]
    loss_t: TonnesOut


class PlanBase(Output):
    """A base's projected annual utilisation rate against its target."""

    code: str
    name: str
    offered_t: TonnesOut
    placed_t: TonnesOut
    rate: Optional[DecimalOut]
    target: Optional[DecimalOut]
    target_year: int


class PlanTotals(Output):
    """The year's tonnes."""

    offered_t: TonnesOut
    delivered_t: TonnesOut
    disposed_t: TonnesOut


class PlanResult(Output):
    """A plan month by month (status `optimal`, or `feasible` when a yard loses stock)."""

    periods: list[str]
    status: str
    objective_yuan: MoneyOut
    storage_cost_yuan: MoneyOut
    months: list[PlanMonth]
    yards: list[PlanYard]
    bases: list[PlanBase]
    totals: PlanTotals


class PlanRateChange(Output):
    """A base's rate in the baseline and in the what-if."""

    code: str
    name: str
    baseline: Optional[DecimalOut]
    scenario: Optional[DecimalOut]
    change: Optional[DecimalOut]


class PlanComparison(Output):
    """What the what-if changes."""

    rates: list[PlanRateChange]
    objective_change_yuan: MoneyOut
    storage_cost_change_yuan: MoneyOut
    disposed_change_t: TonnesOut


class SeasonalPlan(Output):
    """A seasonal plan run: the baseline, and the what-if with its comparison when one was asked for."""

    id: int
    base: str
    start: str
    parameters: dict[str, Any]
    baseline: PlanResult
    scenario: Optional[PlanResult] = None
    comparison: Optional[PlanComparison] = None
    created_at: Timestamp


class SeasonalPlanPage(Output):
    """The latest seasonal plans of a base (officers: their own; regulators: all)."""

    items: list[SeasonalPlan]
    next_cursor: Optional[str]
