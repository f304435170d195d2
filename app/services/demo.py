"""The Heilongjiang demo: deterministic organisations, facilities, lots, bids and reports.

Everything here is demo data and labelled so (`Organization.is_demo`). Named enterprises are the ones the
provincial industrial carbon-peak plan (2022) mentions, placed at their real cities; their figures are
invented. Power plants, mines, farms and recyclers are generic and named as demo.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so
from werkzeug.security import generate_password_hash

import geo
from app.services import accounts, reference
from models import (
    Bid,
    DemandProfile,
    EnterpriseEvaluation,
    Facility,
    FacilityCapacity,
    GenerationReport,
    Licence,
    Lot,
    Organization,
    OrganizationRole,
    ResourceBase,
    User,
    WasteCategory,
    Yard,
)
from models.credit_code import make_credit_code

SEED = 20221
# A fixed "today" keeps the demo identical whenever it is generated.
ANCHOR = dt.date(2026, 11, 1)
DEMO_PASSWORD = "gufei-demo-2025"  # noqa: S105 - the published demo password
REPORT_MONTHS = 24


@dataclass(frozen=True)
class Enterprise:
    """A demo organisation with one facility at a county-level seat (adcode)."""

    name: str
    name_en: str
    seat: str
    produces: tuple[str, ...] = ()
    accepts: tuple[str, ...] = ()
    large: bool = False


STEEL = ("steel_slag", "bf_slag", "iron_zinc_dust")
POWER = ("fly_ash", "boiler_slag", "fgd_gypsum")
CEMENT_FEED = ("fly_ash", "bf_slag", "steel_slag", "fgd_gypsum", "coal_gangue", "carbide_slag", "wind_blades",
               "iron_zinc_dust", "gasification_slag", "silicon_calcium_slag", "sludge", "drill_cuttings")
HAZARDOUS_TREATMENT = ("coking_residue", "waste_catalyst", "oil_sludge", "oil_based_cuttings", "incineration_fly_ash")

NAMED = (
    Enterprise("建龙西林钢铁有限公司", "Jianlong Xilin Iron & Steel", "230751", STEEL + ("scrap_steel",), ("scrap_steel",), True),
    Enterprise("建龙北满特殊钢有限责任公司", "Jianlong Beiman Special Steel", "230206", STEEL, ("scrap_steel",), True),
    Enterprise("建龙阿城钢铁有限公司", "Jianlong Acheng Iron & Steel", "230112", STEEL, ("scrap_steel",), True),
    Enterprise("建龙双鸭山钢铁有限公司", "Jianlong Shuangyashan Iron & Steel", "230502", STEEL, ("scrap_steel",), True),
    Enterprise("大庆石化公司", "Daqing Petrochemical", "230603", ("waste_catalyst", "oil_sludge", "byproduct_gypsum"), (), True),
    Enterprise("大庆炼化公司", "Daqing Refining & Chemical", "230604", ("waste_catalyst", "oil_sludge"), (), True),
    Enterprise("哈尔滨石化公司", "Harbin Petrochemical", "230110", ("waste_catalyst", "oil_sludge"), (), True),
    Enterprise("黑龙江龙油石油化工股份有限公司", "Longyou Petrochemical", "230603", ("waste_catalyst", "oil_sludge"), (), True),
    Enterprise("黑龙江华鹤煤化股份有限公司", "Huahe Coal Chemical", "230406", ("coal_gangue", "boiler_slag", "fly_ash", "gasification_slag"), (), True),
    Enterprise("黑龙江黑化集团有限公司", "Heihua Chemical Group", "230206", ("carbide_slag", "boiler_slag"), (), True),
    # The seed plan names 黑河化工 as the carbide-slag producer; its figures here are invented like all others.
    Enterprise("黑河化工（演示）", "Heihe chemical works (demo)", "231102", ("carbide_slag",), (), True),
    Enterprise("七台河焦化厂（演示）", "Qitaihe coking plant (demo)", "230902", ("coking_residue", "fly_ash"), (), True),
    Enterprise("鹤岗焦化厂（演示）", "Hegang coking plant (demo)", "230407", ("coking_residue",), (), True),
    Enterprise("鸡西焦化厂（演示）", "Jixi coking plant (demo)", "230302", ("coking_residue",), (), True),
    Enterprise("七台河宝泰隆新材料股份有限公司", "Baotailong New Materials", "230904", ("coking_residue", "fly_ash", "boiler_slag"), (), True),
    Enterprise("亚泰集团哈尔滨水泥有限公司", "Yatai Group Harbin Cement", "230112", (), CEMENT_FEED),
    Enterprise("冀东水泥黑龙江有限公司", "Jidong Cement Heilongjiang", "230125", (), CEMENT_FEED),
    Enterprise("北方水泥（牡丹江）有限公司", "Beifang Cement (Mudanjiang)", "231085", (), CEMENT_FEED),
    Enterprise("丹林水泥有限公司", "Danlin Cement", "231025", (), CEMENT_FEED),
    Enterprise("中建材佳星玻璃（黑龙江）有限公司", "CNBM Jiaxing Glass (Heilongjiang)", "230805", (), ("waste_glass",)),
    Enterprise("齐齐哈尔陶瓷一厂（演示）", "Qiqihar ceramics works 1 (demo)", "230203", (), ("tailings", "fly_ash", "waste_glass")),
    Enterprise("齐齐哈尔陶瓷二厂（演示）", "Qiqihar ceramics works 2 (demo)", "230204", (), ("tailings", "fly_ash")),
    Enterprise("齐齐哈尔陶瓷三厂（演示）", "Qiqihar ceramics works 3 (demo)", "230202", (), ("tailings", "boiler_slag")),
)

# (city seat adcode, Chinese city, English city) of each prefecture, with Daxing'anling at Jiagedaqi.
CITIES = (
    ("230102", "哈尔滨", "Harbin"), ("230202", "齐齐哈尔", "Qiqihar"), ("230302", "鸡西", "Jixi"),
    ("230403", "鹤岗", "Hegang"), ("230502", "双鸭山", "Shuangyashan"), ("230602", "大庆", "Daqing"),
    ("230717", "伊春", "Yichun"), ("230804", "佳木斯", "Jiamusi"), ("230902", "七台河", "Qitaihe"),
    ("231003", "牡丹江", "Mudanjiang"), ("231102", "黑河", "Heihe"), ("231202", "绥化", "Suihua"),
    ("232718", "大兴安岭", "Daxing'anling"),
)
COAL_MINES = (("230306", "城子河"), ("230304", "滴道"), ("230405", "兴安"), ("230404", "南山"),
              ("230506", "东荣"), ("230505", "四方台"), ("230903", "桃山"), ("230904", "新建"))
METAL_MINES = (("231183", "多宝山铜矿", "Duobaoshan copper mine", "tailings"),
               ("230303", "柳毛石墨矿", "Liumao graphite mine", "tailings"),
               ("230781", "鹿鸣钼矿", "Luming molybdenum mine", "tailings"),
               ("230307", "麻山尾矿库", "Mashan tailings yard", "tailings"))
PV_FARMS = ("230624", "230224", "231282", "230623", "231181", "230881")
WIND_FARMS = ("230227", "230623", "230382", "230521", "230826", "231084")
STRAW = ("231221", "231224", "231283", "230882", "230229", "230281", "231222", "230113", "230184", "231183")
BIOMASS = ("231221", "231224", "231283", "230882", "230229", "230113", "231281", "230223")

# Typical reserve at the gate and delivered price, yuan/t; demo orders of magnitude, not quotes.
PRICES = {
    "steel_slag": (5, 45), "bf_slag": (30, 95), "fly_ash": (15, 80), "boiler_slag": (0, 35),
    "coal_gangue": (-10, 25), "fgd_gypsum": (5, 55), "byproduct_gypsum": (0, 40), "tailings": (-15, 20),
    "smelting_slag": (10, 60), "carbide_slag": (-5, 45), "coking_residue": (150, 420),
    "pv_modules": (600, 1300), "wind_blades": (-300, -80), "spent_batteries": (6000, 9500),
    "waste_glass": (120, 260), "scrap_steel": (2200, 2550), "scrap_nonferrous": (11000, 12500),
    "waste_plastics": (1500, 2200), "waste_tyres": (500, 850), "waste_paper": (1100, 1500),
    "crop_straw": (80, 190), "waste_catalyst": (800, 1600), "oil_sludge": (-1800, -1100),
    "red_mud": (-20, 15), "incineration_fly_ash": (-1600, -1000), "iron_zinc_dust": (20, 120),
    "gasification_slag": (-20, 20), "silicon_calcium_slag": (-10, 30), "coal_slime": (50, 200),
    "sludge": (-150, -50), "drill_cuttings": (-80, -20), "oil_based_cuttings": (-1500, -800),
    "waste_textiles": (300, 900), "end_of_life_vehicles": (1200, 1800), "other_industrial": (-30, 0),
}
# Typical lot size range in tonnes.
LOT_TONNES = {
    "pv_modules": (40, 400), "wind_blades": (60, 600), "spent_batteries": (10, 120), "waste_catalyst": (20, 300),
    "oil_sludge": (50, 800), "coking_residue": (100, 1500), "incineration_fly_ash": (50, 500), "scrap_nonferrous": (20, 300),
    "waste_plastics": (30, 400), "waste_tyres": (50, 600), "waste_paper": (50, 800), "waste_glass": (100, 2000),
    "end_of_life_vehicles": (20, 300), "waste_textiles": (20, 300), "oil_based_cuttings": (50, 800),
    "sludge": (200, 3000), "other_industrial": (100, 1500),
}
DEFAULT_LOT_TONNES = (1000, 20000)
QUALITY_RANGES = {
    "f_cao_pct": (1.0, 6.0), "mgo_pct": (2.0, 10.0), "feo_pct": (10.0, 25.0), "moisture_pct": (2.0, 18.0),
    "cao_pct": (30.0, 65.0), "fineness_pct": (8.0, 30.0), "loi_pct": (1.0, 8.0), "so3_pct": (0.5, 3.0),
    "calorific_mj_kg": (2.0, 12.0), "sulfur_pct": (0.2, 2.0), "al2o3_pct": (15.0, 35.0), "caso4_pct": (85.0, 96.0),
    "cl_pct": (0.01, 0.1), "sio2_pct": (30.0, 70.0), "fe_pct": (5.0, 25.0), "purity_pct": (85.0, 99.0),
    "module_count": (800, 12000), "capacity_retention_pct": (60.0, 85.0), "length_m": (35.0, 75.0),
    "contamination_pct": (0.5, 6.0), "zn_pct": (1.0, 15.0), "ash_pct": (20.0, 50.0), "oil_content_pct": (0.5, 10.0),
    "vehicle_count": (5, 120),
}
DEMO_ACCOUNTS = (
    ("admin@gufei.demo", "admin", None, "演示管理员"),
    ("producer@gufei.demo", "producer", "建龙西林钢铁有限公司", "李明（副产品部·演示）"),
    ("recycler@gufei.demo", "recycler", "亚泰集团哈尔滨水泥有限公司", "张华（原料采购·演示）"),
    ("carrier@gufei.demo", "carrier", "龙运物流有限公司（演示）", "赵强（调度·演示）"),
    ("daqing@gufei.demo", "base_officer", "大庆资源综合利用基地办公室（演示）", "刘洋（大庆基地·演示）"),
    ("jixi@gufei.demo", "base_officer", "鸡西资源综合利用基地办公室（演示）", "陈静（鸡西基地·演示）"),
    ("regulator@gufei.demo", "regulator", "黑龙江省工业和信息化厅（演示）", "周敏（省工信厅·演示）"),
    ("unverified@gufei.demo", "producer", "待审核再生资源有限公司（演示）", "孙磊（演示）"),
)


@dataclass(frozen=True)
class DemoAccount:
    """A demo login printed by the seed command."""

    email: str
    role: str
    organization: str


def _enterprises(rng: random.Random) -> list[Enterprise]:
    """The named enterprises plus generic demo producers and recyclers around the province."""
    firms = list(NAMED)
    for seat, city, city_en in CITIES:
        firms.append(Enterprise(f"{city}热电厂（演示）", f"{city_en} CHP plant (demo)", seat, POWER, ("coal_slime",), True))
        firms.append(Enterprise(f"{city}新型建材厂（演示）", f"{city_en} building materials (demo)", seat, (),
                                ("fly_ash", "coal_gangue", "boiler_slag", "fgd_gypsum", "steel_slag", "tailings")))
        firms.append(Enterprise(f"{city}路桥工程公司（演示）", f"{city_en} road & bridge (demo)", seat, (),
                                ("steel_slag", "tailings", "boiler_slag", "coal_gangue")))
        firms.append(Enterprise(f"{city}再生资源回收站（演示）", f"{city_en} recycling yard (demo)", seat,
                                ("scrap_steel", "waste_paper", "waste_plastics", "waste_glass", "waste_tyres",
                                 "waste_textiles"), ()))
        firms.append(Enterprise(f"{city}商品混凝土公司（演示）", f"{city_en} ready-mix concrete (demo)", seat, (),
                                ("fly_ash", "bf_slag", "steel_slag")))
    for seat, mine in COAL_MINES:
        firms.append(Enterprise(f"龙煤{mine}煤矿（演示）", f"Longmay {mine} colliery (demo)", seat, ("coal_gangue", "coal_slime"), (), True))
    for seat, name, name_en, cat in METAL_MINES:
        firms.append(Enterprise(f"{name}（演示）", f"{name_en} (demo)", seat, (cat,), (), True))
    for i, seat in enumerate(PV_FARMS, 1):
        firms.append(Enterprise(f"光伏电站{i}号（演示）", f"PV farm no. {i} (demo)", seat, ("pv_modules",)))
    for i, seat in enumerate(WIND_FARMS, 1):
        firms.append(Enterprise(f"风电场{i}号（演示）", f"Wind farm no. {i} (demo)", seat, ("wind_blades",)))
    for i, seat in enumerate(STRAW, 1):
        firms.append(Enterprise(f"农机合作社{i}号（演示）", f"Farm co-operative no. {i} (demo)", seat, ("crop_straw",)))
    for i, seat in enumerate(BIOMASS, 1):
        # Biomass ash is not fly ash (GB/T 1596 covers coal-fired fly ash): reported as other industrial waste.
        firms.append(Enterprise(f"生物质电厂{i}号（演示）", f"Biomass power plant no. {i} (demo)", seat, ("other_industrial",), ("crop_straw",)))
    firms += [
        Enterprise("哈尔滨光伏组件回收有限公司（演示）", "Harbin PV module recycling (demo)", "230108", (), ("pv_modules",)),
        Enterprise("大庆光伏组件回收有限公司（演示）", "Daqing PV module recycling (demo)", "230605", (), ("pv_modules",)),
        Enterprise("哈尔滨动力电池回收有限公司（演示）", "Harbin battery recycling (demo)", "230108", (), ("spent_batteries",)),
        Enterprise("黑龙江危险废物处置中心（演示）", "Heilongjiang hazardous waste centre (demo)", "230111", (), HAZARDOUS_TREATMENT),
        Enterprise("大庆危废综合处置有限公司（演示）", "Daqing hazardous waste treatment (demo)", "230606", (), HAZARDOUS_TREATMENT),
        Enterprise("佳木斯纸业有限公司（演示）", "Jiamusi paper mill (demo)", "230811", ("sludge",), ("waste_paper",)),
        Enterprise("牡丹江纸业有限公司（演示）", "Mudanjiang paper mill (demo)", "231005", (), ("waste_paper",)),
        Enterprise("哈尔滨再生塑料有限公司（演示）", "Harbin recycled plastics (demo)", "230104", (), ("waste_plastics",)),
        Enterprise("齐齐哈尔橡胶再生有限公司（演示）", "Qiqihar rubber recycling (demo)", "230205", (), ("waste_tyres",)),
        Enterprise("哈尔滨石膏板有限公司（演示）", "Harbin gypsum board (demo)", "230113", (), ("fgd_gypsum", "byproduct_gypsum")),
        Enterprise("大庆石膏建材有限公司（演示）", "Daqing gypsum products (demo)", "230621", (), ("fgd_gypsum", "byproduct_gypsum")),
        Enterprise("哈尔滨有色金属再生有限公司（演示）", "Harbin non-ferrous recycling (demo)", "230111", (), ("scrap_nonferrous",)),
        Enterprise("哈尔滨汽车零部件厂（演示）", "Harbin auto parts works (demo)", "230108",
                   ("scrap_steel", "scrap_nonferrous"), ()),
        Enterprise("佳木斯联合收割机厂（演示）", "Jiamusi combine harvester works (demo)", "230803",
                   ("scrap_steel", "scrap_nonferrous"), ()),
        Enterprise("哈尔滨新能源汽车运营公司（演示）", "Harbin EV fleet operator (demo)", "230109", ("spent_batteries", "end_of_life_vehicles"), ()),
        Enterprise("哈尔滨报废机动车回收拆解有限公司（演示）", "Harbin end-of-life vehicle dismantling (demo)", "230111", (), ("end_of_life_vehicles",)),
        Enterprise("哈尔滨再生纤维有限公司（演示）", "Harbin recycled fibre (demo)", "230184", (), ("waste_textiles",)),
        Enterprise("大庆油田钻井废弃物处理站（演示）", "Daqing oilfield drilling-waste station (demo)", "230606", ("drill_cuttings", "oil_based_cuttings"), (), True),
        Enterprise("黑龙江铝业有限公司（演示）", "Heilongjiang aluminium (demo)", "230881", ("smelting_slag",), ()),
        Enterprise("鸡西煤矸石砖厂（演示）", "Jixi gangue brickworks (demo)", "230304", (), ("coal_gangue", "fly_ash")),
        Enterprise("鹤岗煤矸石砖厂（演示）", "Hegang gangue brickworks (demo)", "230404", (), ("coal_gangue", "fly_ash")),
        Enterprise("双鸭山煤矸石砖厂（演示）", "Shuangyashan gangue brickworks (demo)", "230505", (), ("coal_gangue",)),
        Enterprise("七台河煤矸石砖厂（演示）", "Qitaihe gangue brickworks (demo)", "230903", (), ("coal_gangue", "boiler_slag")),
        Enterprise("大庆钢渣微粉有限公司（演示）", "Daqing steel-slag powder (demo)", "230605", (), ("steel_slag", "bf_slag")),
        Enterprise("齐齐哈尔矿渣粉磨站（演示）", "Qiqihar slag grinding station (demo)", "230205", (), ("bf_slag", "steel_slag")),
        Enterprise("大庆废轮胎热解有限公司（演示）", "Daqing tyre pyrolysis (demo)", "230606", (), ("waste_tyres",)),
        Enterprise("绥化再生塑料颗粒厂（演示）", "Suihua plastic pellets (demo)", "231202", (), ("waste_plastics",)),
        Enterprise("大庆动力电池梯次利用有限公司（演示）", "Daqing battery second-life (demo)", "230603", (), ("spent_batteries",)),
        Enterprise("哈尔滨玻璃棉制品厂（演示）", "Harbin glass wool works (demo)", "230125", (), ("waste_glass",)),
    ]
    rng.shuffle(firms)
    return firms


def _jitter(rng: random.Random, lon: float, lat: float) -> tuple[float, float]:
    """Move a seat a few kilometres so facilities in one town do not coincide."""
    return lon + rng.uniform(-0.06, 0.06), lat + rng.uniform(-0.04, 0.04)


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def _tonnes(value: float) -> Decimal:
    return Decimal(str(round(value, 1)))  # exact to 0.1 t, so sums of report figures balance exactly


def _quality(rng: random.Random, category: WasteCategory) -> dict:
    quality = {}
    for spec in category.quality_fields:
        low, high = QUALITY_RANGES.get(spec["key"], (None, None))
        if low is None:
            continue
        quality[spec["key"]] = int(rng.uniform(low, high)) if isinstance(low, int) else round(rng.uniform(low, high), 2)
    return quality


def seed_demo(session: so.Session) -> list[DemoAccount]:
    """Fill an empty database with the demo; return the demo accounts."""
    rng = random.Random(SEED)
    reference.load_catalogue(session)
    reference.load_bases(session)
    categories = {c.code: c for c in session.scalars(sa.select(WasteCategory))}
    bases = {b.prefecture_code: b for b in session.scalars(sa.select(ResourceBase))}
    firms = _enterprises(rng)

    seats = {p.code: p for p in geo.places()}
    points = [_jitter(rng, seats[f.seat].lon, seats[f.seat].lat) for f in firms]
    # A jittered seat near the border may land across it (in Jilin, or in Russia over the Amur); such a facility
    # stays at the seat itself.
    lon, lat = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    inside = geo.in_service_area(lon, lat)
    inside[inside] = geo.locate_many(lon[inside], lat[inside])["in_province"].to_numpy(dtype=bool)
    for index in np.flatnonzero(~inside):
        points[index] = (seats[firms[index].seat].lon, seats[firms[index].seat].lat)
    located = geo.locate_many(np.array([p[0] for p in points]), np.array([p[1] for p in points]))

    facilities: list[tuple[Facility, Enterprise]] = []
    for index, (firm, (lon, lat)) in enumerate(zip(firms, points, strict=True)):
        where = located.iloc[index]
        roles = [OrganizationRole(role=r) for r in (("producer",) if firm.produces else ()) + (("recycler",) if firm.accepts else ())]
        org = Organization(name=firm.name, name_en=firm.name_en, verified=True, verified_at=None, is_demo=True,
                           credit_code=make_credit_code(f"91{firm.seat}MA{index + 1:07d}"), roles=roles)
        kind = "both" if firm.produces and firm.accepts else "producer" if firm.produces else "recycler"
        facility = Facility(
            organization=org, name=firm.name.replace("有限公司", "").replace("股份", "") + "厂区", kind=kind,
            lon=round(lon, 6), lat=round(lat, 6), input_crs="wgs84", prefecture_code=where.prefecture_code,
            county_code=where.county_code, in_province=bool(where.in_province),
            base=bases.get(where.prefecture_code), large_producer=firm.large,
            max_haul_km=rng.choice((150, 200, 250, 300, 400)) if firm.accepts else None,
        )
        for code in firm.accepts:
            facility.capacities.append(FacilityCapacity(
                category=categories[code], quality_limits={},
                tonnes_per_month=_tonnes(rng.uniform(*LOT_TONNES.get(code, DEFAULT_LOT_TONNES)) * rng.uniform(0.5, 1.5)),
            ))
        hazardous = [c for c in firm.accepts if categories[c].hazardous]
        if hazardous:
            facility.licences.append(Licence(number=f"HW-23-{index + 1:04d}", category_codes=hazardous,
                                             valid_until=dt.date(2029, 12, 31)))
        session.add(facility)
        facilities.append((facility, firm))
    session.flush()

    _daqing_yard(session, rng, facilities, bases)
    _support_organizations(session, bases)
    lots = _lots(session, rng, facilities, categories)
    _demand(session, rng, facilities, categories, lots)
    _generation_reports(session, rng, facilities, categories)
    _evaluations(session, rng, facilities)
    seed_seasons(session, categories, bases)
    created = _accounts(session)
    session.commit()
    return created


def _support_organizations(session: so.Session, bases: dict[str, ResourceBase]) -> None:
    """Carrier, base offices, the regulator and one unverified applicant."""
    extra = [
        ("龙运物流有限公司（演示）", "Longyun Logistics (demo)", "carrier", None, True),
        ("黑龙江省工业和信息化厅（演示）", "Heilongjiang Dept. of Industry and IT (demo)", "regulator", None, True),
        ("待审核再生资源有限公司（演示）", "Pending Recycling Co. (demo)", "producer", None, False),
    ]
    for base in bases.values():
        extra.append((f"{base.name_zh}资源综合利用基地办公室（演示）", f"{base.name_en} resource-utilisation base office (demo)",
                      "base_operator", base, True))
    for i, (name, name_en, role, base, verified) in enumerate(extra, 1):
        org = Organization(name=name, name_en=name_en, verified=verified, is_demo=True, base=base,
                           credit_code=make_credit_code(f"12230000MB{i:07d}"), roles=[OrganizationRole(role=role)])
        if role == "carrier":
            # An invented, demo-marked permit so the demo carrier can move the demo's hazardous lots.
            org.dg_permit_no = "黑交运危（演示）230100000001"
            org.dg_permit_valid_until = dt.date.today().replace(month=12, day=31) + dt.timedelta(days=730)
        session.add(org)
    session.flush()


def _lots(session: so.Session, rng: random.Random, facilities, categories) -> list[Lot]:
    lots = []
    for facility, firm in facilities:
        for code in firm.produces:
            category = categories[code]
            reserve_low = PRICES[code][0]
            for _ in range(rng.randint(2, 4)):
                tonnes = _tonnes(rng.uniform(*LOT_TONNES.get(code, DEFAULT_LOT_TONNES)))
                start = ANCHOR + dt.timedelta(days=rng.randint(-30, 45))
                lot = Lot(
                    facility=facility, category=category, tonnes=tonnes, remaining_tonnes=tonnes,
                    title=f"{category.name_zh} {tonnes:,.0f} 吨 · {facility.name}",
                    reserve_yuan_per_t=_money(reserve_low + rng.uniform(-0.1, 0.1) * abs(reserve_low or 10)),
                    available_from=start, available_to=start + dt.timedelta(days=rng.choice((90, 180, 365))),
                    quality=_quality(rng, category), status="open",
                    min_shipment_t=Decimal("30") if rng.random() < 0.2 else None,
                    description="演示数据 / demo data",
                )
                session.add(lot)
                lots.append(lot)
    session.flush()
    return lots


def _demand(session: so.Session, rng: random.Random, facilities, categories, lots: list[Lot]) -> None:
    """A standing demand profile per accepted category, and sealed bids on nearby lots."""
    by_category: dict[str, list[Lot]] = {}
    for lot in lots:
        by_category.setdefault(lot.category.code, []).append(lot)
    for facility, firm in facilities:
        for code in firm.accepts:
            low, high = PRICES[code]
            session.add(DemandProfile(
                facility=facility, category=categories[code], max_haul_km=facility.max_haul_km,
                tonnes=_tonnes(rng.uniform(*LOT_TONNES.get(code, DEFAULT_LOT_TONNES)) * 2),
                price_yuan_per_t=_money(high + rng.uniform(-0.1, 0.15) * (abs(high - low) + 10)),
                period_start=ANCHOR, period_end=dt.date(ANCHOR.year + 1, ANCHOR.month, 1) - dt.timedelta(days=1),
            ))
            candidates = [lot for lot in by_category.get(code, []) if lot.facility is not facility]
            candidates.sort(key=lambda lot: (lot.facility.lon - facility.lon) ** 2 + (lot.facility.lat - facility.lat) ** 2)
            for lot in candidates[: rng.randint(1, 3)]:
                session.add(Bid(
                    lot=lot, category=categories[code], facility=facility, max_haul_km=facility.max_haul_km,
                    tonnes=_tonnes(float(lot.tonnes) * rng.uniform(0.3, 1.0)),
                    price_yuan_per_t=_money(high + rng.uniform(-0.05, 0.25) * (abs(high - low) + 10)),
                ))
    session.flush()


def _month(offset: int) -> dt.date:
    """The first day of the month `offset` months before the anchor month."""
    index = ANCHOR.year * 12 + ANCHOR.month - 1 - offset
    return dt.date(index // 12, index % 12 + 1, 1)


def _generation_reports(session: so.Session, rng: random.Random, facilities, categories) -> None:
    """24 months of balanced reports per producer facility and category, rates drifting up towards the target.

    Each month balances exactly (docs/statistics.md): generated + from storage = self-utilised + supplied +
    disposed + stored.
    """
    for facility, firm in facilities:
        for code in firm.produces:
            monthly = rng.uniform(*LOT_TONNES.get(code, DEFAULT_LOT_TONNES)) / 3
            rate = rng.uniform(0.35, 0.6)
            growing_storage = firm.large and rng.random() < 0.15
            for offset in range(REPORT_MONTHS, 0, -1):
                generated = _tonnes(monthly * rng.uniform(0.8, 1.2))
                progress = (REPORT_MONTHS - offset) / REPORT_MONTHS
                used_rate = min(0.9, rate + 0.12 * progress + rng.uniform(-0.05, 0.05))
                if growing_storage and offset <= 3:
                    used_rate *= 0.5
                used = _tonnes(float(generated) * used_rate)
                supplied = _tonnes(float(used) * rng.uniform(0.0, 0.3))
                disposed = min(_tonnes(float(generated) * rng.uniform(0.0, 0.1)), generated - used)
                from_storage = _tonnes(float(generated) * rng.uniform(0.0, 0.08))
                session.add(GenerationReport(
                    facility=facility, category=categories[code], period=_month(offset), generated_t=generated,
                    self_utilised_t=used - supplied + from_storage, supplied_t=supplied, disposed_t=disposed,
                    stored_t=generated - used - disposed, dumped_t=Decimal(0), from_storage_t=from_storage,
                ))
    session.flush()


def _daqing_yard(session: so.Session, rng: random.Random, facilities, bases: dict[str, ResourceBase]) -> None:
    """The demo producer account's second facility, inside the Daqing base, so a demo trade moves a dashboard."""
    owner = next(f.organization for f, firm in facilities if firm.name == DEMO_ACCOUNTS[1][2])
    seat = next(p for p in geo.places() if p.code == "230602")
    lon, lat = _jitter(rng, seat.lon, seat.lat)
    where = geo.locate_many(np.array([lon]), np.array([lat])).iloc[0]
    yard = Facility(organization=owner, name="建龙西林大庆钢渣处理厂区（演示）", kind="producer", lon=round(lon, 6),
                    lat=round(lat, 6), input_crs="wgs84", prefecture_code=where.prefecture_code,
                    county_code=where.county_code, in_province=True, base=bases["230600"], large_producer=True)
    session.add(yard)
    facilities.append((yard, Enterprise(yard.name, "Jianlong Xilin Daqing slag yard (demo)", "230602",
                                        ("steel_slag",), (), True)))
    session.flush()


# ----------------------------------------------------------------------------- seasons (issue 16)

# Two base yards for winter fly ash, at the Daqing and Jixi seats (demo capacities and costs).
DEMO_YARDS = (
    ("230600", "大庆基地粉煤灰贮存场（演示）", 125.03, 46.58, 30000, "3.50"),
    ("230300", "鸡西基地粉煤灰贮存场（演示）", 130.95, 45.28, 20000, "3.00"),
)


def seed_seasons(session: so.Session, categories: dict[str, WasteCategory],
                 bases: dict[str, ResourceBase]) -> None:
    """Kiln calendars for the cement plants, heating-season profiles for the CHP plants, and two base yards."""
    from app.services.seasonal import HEATING_SEASON_PROFILE, KILN_STAGGERED_MONTHS

    for facility in session.scalars(sa.select(Facility).join(Organization)):
        name = facility.organization.name
        if "水泥" in name:
            facility.operating_months = list(KILN_STAGGERED_MONTHS)
        if "热电厂" in name:
            facility.generation_profile = list(HEATING_SEASON_PROFILE)
    for prefecture, name, lon, lat, capacity, cost in DEMO_YARDS:
        session.add(Yard(name=name, base=bases.get(prefecture), category=categories["fly_ash"], lon=lon, lat=lat,
                         capacity_t=Decimal(capacity), cost_yuan_per_t_month=Decimal(cost),
                         loss_pct_per_month=Decimal(0), is_demo=True))
    session.flush()


def _evaluations(session: so.Session, rng: random.Random, facilities) -> None:
    for facility, _firm in facilities:
        if rng.random() < 0.5:
            status = rng.choice(("applied", "under_review", "evaluated", "evaluated"))
            session.add(EnterpriseEvaluation(
                organization_id=facility.organization_id, status=status,
                evaluated_on=_month(rng.randint(1, 30)) if status == "evaluated" else None,
            ))
    session.flush()


def _accounts(session: so.Session) -> list[DemoAccount]:
    """One login per role; the admin sits in the operator organisation."""
    password_hash = generate_password_hash(DEMO_PASSWORD)
    created = []
    for email, role, org_name, person in DEMO_ACCOUNTS:
        if role == "admin":
            user = accounts.add_admin(session, email, person, DEMO_PASSWORD)
            created.append(DemoAccount(email, role, user.organization.name))
            continue
        org = session.scalar(sa.select(Organization).where(Organization.name == org_name))
        session.add(User(email=email, name=person, role=role, password_hash=password_hash, organization=org))
        created.append(DemoAccount(email, role, org.name))
    session.flush()
    return created


def is_empty(session: so.Session) -> bool:
    """True when no organisation exists yet (the demo is only seeded into an empty database)."""
    return session.scalar(sa.select(sa.func.count(Organization.id))) == 0
