"""Freight rates, emission factors and freight classes: the one table the cost model reads."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The four freight classes of the app's waste catalogue.
FREIGHT_CLASSES: tuple[str, ...] = ("bulk", "general", "hazardous", "oversize")

# The app's waste catalogue is the one source of categories; geo reads the file itself (no Flask, no database).
CATALOGUE_CSV = Path(__file__).resolve().parent.parent / "app" / "data" / "catalogue.csv"


def _category_freight_classes() -> dict[str, str]:
    with CATALOGUE_CSV.open(encoding="utf-8") as fh:
        return {row["code"]: row["freight_class"] for row in csv.DictReader(fh)}


# Waste-category code → freight class, as the catalogue says.
CATEGORY_FREIGHT_CLASS: dict[str, str] = _category_freight_classes()


@dataclass(frozen=True)
class ClassRates:
    """Resolved rates for one freight class (yuan per tonne or tonne-km; kg CO2 per tonne-km)."""

    freight_class: str
    road_yuan_per_tkm: float
    rail_yuan_per_tkm: float | None  # None: rail not offered for this class
    handling_yuan_per_t: float
    # Charged at each end of a rail leg; includes half the tariff's fixed part per tonne (基价1), so a model
    # that charges two transfers per rail leg charges the fixed part exactly once.
    railhead_transfer_yuan_per_t: float
    road_co2_kg_per_tkm: float
    rail_co2_kg_per_tkm: float
    rail_fixed_yuan_per_t: float = 0.0

    @property
    def rail_allowed(self) -> bool:
        """Whether rail is an option for this class."""
        return self.rail_yuan_per_tkm is not None


def _default_road_premium() -> dict[str, float]:
    return {"bulk": 1.0, "general": 1.1, "hazardous": 1.6, "oversize": 1.5}


def _default_rail_premium() -> dict[str, float | None]:
    return {"bulk": 1.0, "general": 1.1, "hazardous": None, "oversize": None}


@dataclass(frozen=True)
class FreightRates:
    """Freight rates and emission factors per mode, with per-class premiums. Defaults a deployment overrides.

    Sources and status of each default:
    - rail_fixed_yuan_per_t 16.30 and rail_yuan_per_tkm 0.0980: the FIGURES ARE UNVERIFIED; the frame around them
      is confirmed. Claimed: the national railway freight tariff (铁路货物运价率表) as adjusted with effect from
      2015-02-01 (发改价格〔2015〕183号), full wagonload (整车), rate number 4 (运价号 4): 基价1 16.30 yuan/t,
      charged once per consignment, and 基价2 0.0980 yuan/t·km. Cost of a rail leg = fixed + per-km × km.
      Confirmed by two independent reports of the notice (Xinhua, "China lifts railway benchmark freight rate",
      2015-01-30, en.chinagate.cn/2015-01/30/content_34698975.htm; Caixin, 发改委再次上调铁路货运价格, 2015-01-31,
      companies.caixin.com/2015-01-31/100780429.html): from 2015-02-01 the national unified rate rose by 1 fen to
      an average 15.51 fen/t·km (from 14.51, set 2014-02-15 by 发改价格〔2014〕210号) and became a benchmark that
      may be raised by at most 10 % (from 2015-08-01) and lowered without limit. Since 2018-01-01
      (发改价格〔2017〕2163号, Economic Daily report of 2017-12; copy at a1killmaster.com/newspd/lyxw/
      2018122379294.shtml) the benchmark of wagonload goods under government guidance is unchanged, may be raised
      by at most 15 % and lowered without limit, the electrification surcharge is merged into it, and wagonload
      rates of 12 goods classes — among them 矿物性建筑材料 (mineral building materials), 金属制品, 工业机械 — are
      set by the railway freely. Not found in any source we could search (2026-12-01): the per-rate-number table
      after 2015 (the latest one found is the 2008 table: rate 4 = 9.60 yuan/t + 0.0484 yuan/t·km, NDRC/MOR
      2008-06-23), a later change of 基价, and the rate number of slag, fly ash or gangue in the 铁路货物运输品名
      检查表. If a waste is classed under 矿物性建筑材料 its rail rate is a market price, not this tariff. One public
      model config uses 16.30 yuan/t as the class-4 fixed part, calibrated on 12306 quotes; it is no source for
      0.0980. Check both figures and each waste's rate number against the published tariff (or a 95306 quote)
      before a rail cost is relied on; override them per what-if run (below) or per deployment. The December
      2009 level was 10.31 fen/t·km in total (7.01 operating + 3.3 construction fund).
    - road_yuan_per_tkm 0.40: road freight is several times rail per t·km (design doc reference figures);
      an ESTIMATE of the full-truckload contract rate for bulk in Heilongjiang. No official road tariff exists
      (road freight prices are market prices); replace it with quotes.
    - railhead_transfer_yuan_per_t 20: loading or unloading one tonne between truck and wagon at
      a railhead, including yard fees. ESTIMATE (range 15–25 yuan/t); charged at each end of a rail leg.
    - handling_yuan_per_t 5: loading at the producer and unloading at the user, both modes. ESTIMATE.
    - rail_co2_kg_per_tkm 0.03: UK DEFRA (2007) freight rail intensity.
    - road_co2_kg_per_tkm 0.05: laden articulated truck, DEFRA litres/km × 2.63 kg CO2/L diesel at
      a 25 t payload. The GLEC Framework v3 (Smart Freight Centre, 2023) has current intensities.
    - road_premium: multiplier on the road rate per freight class. general 1.1 (lighter, bulkier
      loads); hazardous 1.6 (licensed carriers, escorts, manifests); oversize 1.5 (special
      trailers, permits for blades and module stacks). ESTIMATES.
    - rail_premium: multiplier on both rail parts, or None where rail is not offered. Hazardous
      waste goes by road only here: rail carriage of dangerous goods needs designated stations
      and per-shipment approval, so a marketplace default should not assume it. Oversize loads
      (wind blades) exceed the loading gauge, so road only.

    Every field can be overridden for a what-if run: ``resolve_rates({"rail_yuan_per_tkm": 0.12})``.
    """

    road_yuan_per_tkm: float = 0.40
    rail_yuan_per_tkm: float = 0.0980
    rail_fixed_yuan_per_t: float = 16.30
    railhead_transfer_yuan_per_t: float = 20.0
    handling_yuan_per_t: float = 5.0
    road_co2_kg_per_tkm: float = 0.05
    rail_co2_kg_per_tkm: float = 0.03
    road_premium: Mapping[str, float] = field(default_factory=_default_road_premium)
    rail_premium: Mapping[str, float | None] = field(default_factory=_default_rail_premium)

    def for_class(self, freight_class: str) -> ClassRates:
        """Resolve the rates that apply to one freight class."""
        fc = check_freight_class(freight_class)
        rail_mult = self.rail_premium.get(fc)
        rail_fixed = 0.0 if rail_mult is None else self.rail_fixed_yuan_per_t * rail_mult
        return ClassRates(
            freight_class=fc,
            road_yuan_per_tkm=self.road_yuan_per_tkm * self.road_premium.get(fc, 1.0),
            rail_yuan_per_tkm=None if rail_mult is None else self.rail_yuan_per_tkm * rail_mult,
            handling_yuan_per_t=self.handling_yuan_per_t,
            railhead_transfer_yuan_per_t=self.railhead_transfer_yuan_per_t + rail_fixed / 2,
            road_co2_kg_per_tkm=self.road_co2_kg_per_tkm,
            rail_co2_kg_per_tkm=self.rail_co2_kg_per_tkm,
            rail_fixed_yuan_per_t=rail_fixed,
        )


DEFAULT_RATES = FreightRates()


def resolve_rates(rates: FreightRates | Mapping[str, object] | None) -> FreightRates:
    """Accept None (defaults), a FreightRates, or a dict of fields overriding the defaults."""
    if rates is None:
        return DEFAULT_RATES
    if isinstance(rates, FreightRates):
        return rates
    if isinstance(rates, Mapping):
        names = {f.name for f in dataclasses.fields(FreightRates)}
        unknown = set(rates) - names
        if unknown:
            raise ValueError(f"unknown freight-rate field(s) {sorted(unknown)}; known: {sorted(names)}")
        return dataclasses.replace(DEFAULT_RATES, **rates)  # type: ignore[arg-type]
    raise TypeError(f"rates must be a FreightRates, a dict or None, not {type(rates).__name__}")


def check_freight_class(freight_class: str) -> str:
    """Return the freight class code, or raise ValueError listing the valid ones."""
    fc = str(freight_class).strip().lower()
    if fc not in FREIGHT_CLASSES:
        raise ValueError(f"unknown freight class {freight_class!r}: expected one of {', '.join(FREIGHT_CLASSES)}")
    return fc


def freight_class_for_category(code: str) -> str:
    """Freight class of a known waste-category code, or ValueError listing the freight classes."""
    key = str(code).strip().lower()
    if key not in CATEGORY_FREIGHT_CLASS:
        raise ValueError(
            f"unknown category code {code!r}: pass --freight-class with one of {', '.join(FREIGHT_CLASSES)} "
            f"(known categories: {', '.join(sorted(CATEGORY_FREIGHT_CLASS))})"
        )
    return CATEGORY_FREIGHT_CLASS[key]
