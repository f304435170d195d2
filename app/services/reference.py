"""Reference data every deployment needs: the waste catalogue, the bases and their targets."""
from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import BaseTarget, ResourceBase, WasteCategory

CATALOGUE_CSV = Path(__file__).resolve().parent.parent / "data" / "catalogue.csv"
ENV_TAX_SOURCE = {
    "coal_gangue": "环境保护税法 附表一 固体废物·煤矸石 5 元/吨 (in force 2018-01-01)",
    "tailings": "环境保护税法 附表一 固体废物·尾矿 15 元/吨",
    "hazardous": "环境保护税法 附表一 固体废物·危险废物 1000 元/吨",
    "smelting_slag": "环境保护税法 附表一 固体废物·冶炼渣 25 元/吨",
    "fly_ash": "环境保护税法 附表一 固体废物·粉煤灰 25 元/吨",
    "furnace_slag": "环境保护税法 附表一 固体废物·炉渣 25 元/吨",
    "other": "环境保护税法 附表一 固体废物·其他固体废物（含半固态、液态废物）25 元/吨",
    "agricultural": "环境保护税法 第十二条: 农业生产（不包括规模化养殖）排放应税污染物暂予免征",
    "none": "Not a taxable discharge here: traded as a renewable resource (再生资源), see app/data/README.md",
}
# Codes renamed in the catalogue: the old row is updated in place so lots and reports keep their category.
RENAMED = {"desal_ash": "incineration_fly_ash"}
QUALITY_TYPES = ("pct", "number", "count", "text")

# The four national resource-utilisation bases named in the provincial carbon-peak plan (2022).
BASES = (
    ("daqing", "大庆", "Daqing", "230600"),
    ("jixi", "鸡西", "Jixi", "230300"),
    ("qiqihar", "齐齐哈尔", "Qiqihar", "230200"),
    ("qitaihe", "七台河", "Qitaihe", "230900"),
)
PLAN_SOURCE = "黑龙江省工业领域碳达峰实施方案 (2022): 2025 年大宗工业固废综合利用率达到 60%"
RENEWABLE_SOURCE = "黑龙江省工业领域碳达峰实施方案 (2022): 2025 年再生资源利用率达到 60%（回收率 86%）"
# The plan's renewable-resource recovery target; the platform computes no recovery statistic, so it is shown as
# a reference figure only.
RENEWABLE_RECOVERY_2025 = Decimal("0.8600")
# Only the 2025 figure is in the plan; earlier years are a straight-line trajectory to it.
TRAJECTORY = {2023: Decimal("0.5400"), 2024: Decimal("0.5700"), 2025: Decimal("0.6000")}
# The plan sets no base-specific targets: bases inherit the province's. Rows earlier versions copied to each
# base are kept (an officer may rely on them) but labelled as what they are.
BASE_COPY_LABEL = "ASSUMPTION: the provincial target applied to this base; no base-specific source"


def catalogue_rows() -> list[dict[str, str]]:
    """The rows of catalogue.csv, the one source of the categories."""
    with CATALOGUE_CSV.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# The unit a type implies; a `number` names its own (key:number:MJ/kg).
TYPE_UNITS = {"pct": "%", "count": "", "number": "", "text": ""}


def quality_specs(text: str) -> list[dict[str, str]]:
    """'key:type[:unit];…' → [{"key", "type", "unit"}]; ValueError on an unknown type."""
    specs = []
    for item in filter(None, text.split(";")):
        key, _sep, rest = item.partition(":")
        kind, _sep, unit = rest.partition(":")
        if kind not in QUALITY_TYPES:
            raise ValueError(f"quality field {item!r}: type must be one of {', '.join(QUALITY_TYPES)}")
        specs.append({"key": key, "type": kind, "unit": unit or TYPE_UNITS[kind]})
    return specs


def load_catalogue(session: so.Session) -> int:
    """Insert or update every category of catalogue.csv; return how many rows it has."""
    existing = {c.code: c for c in session.scalars(sa.select(WasteCategory))}
    for old, new in RENAMED.items():
        if old in existing and new not in existing:
            existing[new] = existing.pop(old)
            existing[new].code = new
    rows = catalogue_rows()
    for row in rows:
        category = existing.get(row["code"]) or WasteCategory(code=row["code"])
        category.name_zh = row["name_zh"]
        category.name_en = row["name_en"]
        category.family = row["family"]
        category.hazardous = row["hazardous"] == "1"
        category.national_code = row["national_code"] or None
        category.hw_code = row["hw_code"] or None
        category.env_tax_yuan_per_t = Decimal(row["env_tax_yuan_per_t"])
        category.env_tax_basis = row["env_tax_basis"]
        category.env_tax_source = ENV_TAX_SOURCE[row["env_tax_basis"]]
        category.freight_class = row["freight_class"]
        category.co2_avoided_t_per_t = Decimal(row["co2_avoided_t_per_t"])
        category.co2_is_estimate = row["co2_is_estimate"] == "1"
        category.co2_source = row["co2_basis"] + (" (estimate)" if category.co2_is_estimate else "")
        category.quality_fields = quality_specs(row["quality_fields"])
        session.add(category)
    session.flush()
    return len(rows)


def load_bases(session: so.Session) -> int:
    """Insert the bases and the province's plan targets if missing; label copies of them on bases as assumptions."""
    existing = {b.code: b for b in session.scalars(sa.select(ResourceBase))}
    for code, name_zh, name_en, prefecture in BASES:
        if code not in existing:
            existing[code] = ResourceBase(code=code, name_zh=name_zh, name_en=name_en, prefecture_code=prefecture)
            session.add(existing[code])
    session.flush()
    targets = {(t.base_id, t.family, t.year): t for t in session.scalars(sa.select(BaseTarget))}
    wanted = {("bulk_industrial", year): (rate, PLAN_SOURCE if year == 2025
                                          else PLAN_SOURCE + " (straight-line trajectory)")
              for year, rate in TRAJECTORY.items()}
    wanted[("renewable", 2025)] = (Decimal("0.6000"), RENEWABLE_SOURCE)
    for (family, year), (rate, source) in wanted.items():
        if (None, family, year) not in targets:
            session.add(BaseTarget(base_id=None, family=family, year=year, target_rate=rate, source=source))
    for (base_id, _family, _year), target in targets.items():
        if base_id is not None and (target.source or "").startswith(PLAN_SOURCE):
            target.source = BASE_COPY_LABEL
    session.flush()
    return len(existing)


def load_reference(session: so.Session) -> None:
    """Load catalogue and bases in one transaction."""
    load_catalogue(session)
    load_bases(session)
    session.commit()
