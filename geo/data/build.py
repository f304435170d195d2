"""Build geo/data from /work/shared/data/geo: GCJ-02 → WGS84 once, plus road and rail link tables.

Run from the repo root: `python -m geo.data.build [SOURCE_DIR]`. The committed outputs are WGS84.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from geo.boundaries import PREFECTURE_NAMES_EN
from geo.circuity import RAIL_CIRCUITY, ROAD_CIRCUITY
from geo.coords import gcj02_to_wgs84
from geo.distance import haversine_km

OUT = Path(__file__).resolve().parent
DEFAULT_SOURCE = Path("/work/shared/data/geo")


GC = f"great-circle × {ROAD_CIRCUITY} (road circuity, Ballou et al. 2002; see geo/circuity.py)"
SRC_GAZ = (
    "哈大公路 132.9 km (G301/G10 Harbin–Daqing section), "
    "Heilongjiang local gazetteer hljszw.org.cn/home/book/info/get_id/194416"
)
SRC_2009 = "Heilongjiang Transport Dept. via 56885.net 2009-10-12 '黑龙江6段高速公路国庆期间通车'"

# Links with a published length (km): (from, to, route, km, source).
PUBLISHED_LINKS: list[tuple[str, str, str, float, str]] = [
    # 132.9 km between the two cities' edges, + 2 × 10 km urban approach (estimate).
    ("哈尔滨市", "大庆市", "G10", 152.9, SRC_GAZ + " + 2×10 km urban approach (estimate)"),
    # G10 Daqing (Wolitun)–Huangniuchang 43 km + Huangniuchang–Qiqihar 101 km, + 10 km into Qiqihar (estimate).
    ("大庆市", "齐齐哈尔市", "G10", 154.0, SRC_2009 + ": 43 + 101 km, + 10 km urban approach (estimate)"),
    ("齐齐哈尔市", "讷河市", "嫩泰高速 (Nenjiang–Tailai expressway)", 141.0, SRC_2009 + ": Qiqihar–Nehe 141 km"),
    ("佳木斯市", "集贤县", "G1011", 78.0, SRC_2009 + ": Shuangyashan (Jixian)–Jiamusi 78 km"),
    ("牡丹江市", "宁安市", "G11", 22.054, SRC_2009 + ": Mudanjiang–Ning'an 22.054 km"),
]

# Road chains: (route, [seat, seat, ...]); consecutive seats become links of great-circle × ROAD_CIRCUITY.
# Seats are named as in seats.csv, or by adcode where a name is ambiguous (two 向阳区).
ROAD_CHAINS: list[tuple[str, list[str]]] = [
    ("G1 Beijing–Harbin", ["哈尔滨市", "双城区"]),
    ("G10 Suifenhe–Manzhouli", ["哈尔滨市", "阿城区", "尚志市", "海林市", "牡丹江市", "穆棱市", "绥芬河市"]),
    ("G301 Suifenhe–Manzhouli", ["哈尔滨市", "肇东市", "安达市", "大庆市"]),
    ("G301 Suifenhe–Manzhouli", ["齐齐哈尔市", "富拉尔基区", "碾子山区"]),
    ("G45 Daqing–Guangzhou", ["大庆市", "大同区", "肇源县"]),
    ("G1011 Harbin–Tongjiang", ["哈尔滨市", "宾县", "方正县", "依兰县", "佳木斯市"]),
    ("G1011 Harbin–Tongjiang", ["集贤县", "富锦市", "同江市"]),
    ("G11 Hegang–Dalian", ["鹤岗市", "佳木斯市", "桦南县", "七台河市", "鸡西市", "牡丹江市"]),
    ("G201 Hegang–Dalian", ["佳木斯市", "桦南县", "勃利县", "林口县", "牡丹江市"]),
    ("G1111 Hegang–Harbin", ["绥化市", "庆安县", "铁力市", "伊春市", "鹤岗市"]),
    ("G1211 Jilin–Heihe", ["五常市", "哈尔滨市", "呼兰区", "绥化市"]),
    ("G202 Heihe–Dalian", ["绥化市", "海伦市", "北安市", "孙吴县", "黑河市"]),
    ("G111 Beijing–Jiagedaqi", ["齐齐哈尔市", "富裕县", "讷河市", "嫩江市", "加格达奇区"]),
    ("G203 Mingshui–Shenyang", ["明水县", "青冈县", "安达市"]),
    ("G331 Dandong–Altay (border road)", ["东宁市", "绥芬河市"]),
    (
        "G331 Dandong–Altay (border road)",
        [
            "密山市",
            "虎林市",
            "饶河县",
            "抚远市",
            "同江市",
            "绥滨县",
            "萝北县",
            "嘉荫县",
            "逊克县",
            "黑河市",
            "呼玛县",
            "塔河县",
            "漠河市",
        ],
    ),
    ("加漠公路 Jiagedaqi–Mohe road", ["加格达奇区", "塔河县"]),
    ("嫩泰高速 Nenjiang–Tailai expressway", ["齐齐哈尔市", "泰来县"]),
    # Provincial and county roads (S-routes): numbers not verified, so none is given.
    ("provincial road", ["呼兰区", "巴彦县", "木兰县", "通河县", "依兰县"]),
    ("provincial road", ["尚志市", "延寿县", "方正县"]),
    ("provincial road", ["五常市", "尚志市"]),
    ("provincial road", ["宾县", "巴彦县"]),
    ("provincial road", ["齐齐哈尔市", "龙江县", "碾子山区"]),
    ("provincial road", ["齐齐哈尔市", "甘南县"]),
    ("provincial road", ["齐齐哈尔市", "依安县", "克山县", "克东县", "北安市"]),
    ("provincial road", ["克山县", "讷河市"]),
    ("provincial road", ["依安县", "拜泉县", "明水县"]),
    ("provincial road", ["拜泉县", "海伦市"]),
    ("provincial road", ["大庆市", "林甸县", "依安县"]),
    ("provincial road", ["大庆市", "杜尔伯特蒙古族自治县", "泰来县"]),
    ("provincial road", ["大庆市", "肇州县", "肇源县"]),
    ("provincial road", ["肇州县", "肇东市"]),
    ("provincial road", ["呼兰区", "兰西县", "青冈县"]),
    ("provincial road", ["兰西县", "肇东市"]),
    ("provincial road", ["绥化市", "望奎县", "青冈县"]),
    ("provincial road", ["绥化市", "绥棱县", "海伦市"]),
    ("provincial road", ["庆安县", "绥棱县"]),
    ("provincial road", ["北安市", "五大连池市", "嫩江市"]),
    ("provincial road", ["黑河市", "嫩江市"]),
    ("provincial road", ["孙吴县", "逊克县"]),
    ("provincial road", ["伊春市", "丰林县", "汤旺县", "嘉荫县"]),
    ("provincial road", ["伊春市", "金林区", "南岔县"]),
    ("provincial road", ["铁力市", "大箐山县", "南岔县", "汤原县", "佳木斯市"]),
    ("provincial road", ["鹤岗市", "萝北县"]),
    ("provincial road", ["佳木斯市", "桦川县", "富锦市", "绥滨县"]),
    ("provincial road", ["集贤县", "双鸭山市", "宝清县", "饶河县"]),
    ("provincial road", ["双鸭山市", "友谊县", "富锦市"]),
    ("provincial road", ["宝清县", "七台河市"]),
    ("provincial road", ["七台河市", "勃利县"]),
    ("provincial road", ["鸡西市", "鸡东县", "密山市"]),
    ("provincial road", ["鸡西市", "穆棱市"]),
    ("provincial road", ["绥芬河市", "鸡东县"]),
    ("provincial road", ["牡丹江市", "东宁市"]),
    ("provincial road", ["呼玛县", "嫩江市"]),
    ("provincial road", ["230904", "230506"]),  # 茄子河区 (Qitaihe) – 宝山区 (Shuangyashan)
    ("provincial road", ["依兰县", "勃利县"]),
    ("provincial road", ["伊春市", "北安市"]),
]

# Districts farther than this from their prefecture seat are reached through ROAD_CHAINS only.
URBAN_LINK_MAX_KM = 45.0

# Main railway lines as ordered railhead lists (stations of heilongjiang_railway_stations.csv).
# Sources: the Chinese Wikipedia / Baidu Baike articles of each line (station tables), read for
# order only; positions come from the station file. (line_id, name_zh, name_en, stations)
RAIL_LINES: list[tuple[str, str, str, list[str]]] = [
    (
        "binzhou",
        "滨洲线",
        "Harbin–Manzhouli railway (Heilongjiang section; includes Harbin–Daqing)",
        (
            "哈尔滨 对青山 肇东 尚家 宋 安达 卧里屯 大庆 大庆西 喇嘛甸 烟筒屯 "
            "红旗营 榆树屯 昂昂溪 富拉尔基 虎尔虎拉 龙江 碾子山"
        ).split(),
    ),
    (
        "binsui",
        "滨绥线",
        "Harbin–Suifenhe railway",
        (
            "哈尔滨 香坊 成高子 阿城 玉泉 小岭 平山 帽儿山 尚志 一面坡 苇河 亚布力 "
            "横道河子 海林 牡丹江 磨刀石 代马沟 穆棱 下城子 马桥河 绥阳 绥芬河"
        ).split(),
    ),
    (
        "binbei",
        "滨北线",
        "Harbin–Bei'an railway",
        "哈尔滨 滨江 呼兰 康金井 石人城 绥化 张维屯 海伦 海北 通北 赵光 北安".split(),
    ),
    ("beihei", "北黑线", "Bei'an–Heihe railway", "北安 二龙山屯 龙镇 孙吴 西岗子 黑河".split()),
    ("qibei", "齐北线", "Qiqihar–Bei'an railway", "齐齐哈尔 塔哈 富裕 依安 克山 克东 北安".split()),
    ("funen", "富嫩线", "Fuyu–Nenjiang railway", "富裕 讷河 伊拉哈 九三 嫩江".split()),
    ("nenlin", "嫩林线", "Nenjiang–Gulian railway (via Jiagedaqi)", "嫩江 加格达奇 新林 塔河 盘古 漠河 古莲".split()),
    ("suijia", "绥佳线", "Suihua–Jiamusi railway", "绥化 秦家 庆安 铁力 南岔 浩良河 汤原 莲江口 佳木斯".split()),
    ("nanwu", "南乌线", "Nancha–Wuyiling railway (Yichun)", "南岔 伊春 友好 五营 汤旺河 乌伊岭".split()),
    (
        "tujia",
        "图佳线",
        "Tumen–Jiamusi railway (Heilongjiang section)",
        "东京城 宁安 牡丹江 桦林 林口 青山 勃利 倭肯 桦南 孟家岗 佳木斯".split(),
    ),
    ("linmi", "林密线", "Linkou–Jixi–Mishan railway (Jixi coal line)", "林口 麻山 滴道 鸡西 鸡东 永安乡 密山".split()),
    ("chengji", "城鸡线", "Xiachengzi–Jixi railway (Jixi coal line)", "下城子 梨树镇 鸡西".split()),
    ("midong", "密东线", "Mishan–Dongfanghong railway", "密山 裴德 兴凯 虎林 东方红".split()),
    ("boqi", "勃七线", "Boli–Qitaihe railway (Qitaihe coal line)", "勃利 七台河".split()),
    ("hegang", "鹤岗线", "Lianjiangkou–Hegang railway (Hegang coal line)", "莲江口 鹤岗".split()),
    (
        "jiashuang",
        "佳双线",
        "Jiamusi–Fulitun–Shuangyashan railway (Shuangyashan coal line)",
        "佳木斯 福利屯 双鸭山".split(),
    ),
    ("fuqian", "福前线", "Fulitun–Qianjin railway", "福利屯 富锦 前进镇".split()),
    ("qianfu", "前抚线", "Qianjin–Fuyuan railway", "前进镇 抚远".split()),
    ("labin", "拉滨线", "Lafa–Harbin railway (Heilongjiang section)", "五常 拉林 哈尔滨".split()),
    ("jingha", "京哈线", "Beijing–Harbin railway (Heilongjiang section)", "哈尔滨 王岗 五家 双城堡".split()),
    ("pingqi", "平齐线", "Siping–Qiqihar railway (Heilongjiang section)", "泰来 江桥 昂昂溪 齐齐哈尔".split()),
    ("tongrang", "通让线", "Tongliao–Ranghulu railway (Heilongjiang section)", "泰康 大庆西".split()),
]
RAIL_SOURCE = (
    "station order: Chinese Wikipedia / Baidu Baike line articles; positions: heilongjiang_railway_stations.csv"
)

# 加格达奇 station is missing from the station source (the town lies de jure in Inner Mongolia);
# it is added at the 加格达奇区 seat, about 1 km from the station.
EXTRA_STATIONS = [("加格达奇", "232718")]


def _to_wgs84_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    out = shapely.make_valid(shapely.transform(geom, fn))
    return out


def _write_geojson(path: Path, features: list[dict]) -> None:
    fc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def build_boundaries(src: Path) -> None:
    """Convert the DataV prefecture and county polygons from GCJ-02 to WGS84."""
    pref = json.loads((src / "heilongjiang_prefectures_230000.json").read_text(encoding="utf-8"))
    feats = []
    for f in pref["features"]:
        code = str(f["properties"]["adcode"])
        props = {"adcode": code, "name": f["properties"]["name"], "name_en": PREFECTURE_NAMES_EN[code]}
        feats.append(
            {"type": "Feature", "properties": props, "geometry": mapping(_to_wgs84_geometry(shape(f["geometry"])))}
        )
    _write_geojson(OUT / "prefectures.geojson", feats)

    cty = json.loads((src / "heilongjiang_counties.json").read_text(encoding="utf-8"))
    feats = []
    for f in cty["features"]:
        p = f["properties"]
        props = {"adcode": str(p["adcode"]), "name": p["name"], "parent_adcode": str(p["parent"]["adcode"])}
        feats.append(
            {"type": "Feature", "properties": props, "geometry": mapping(_to_wgs84_geometry(shape(f["geometry"])))}
        )
    _write_geojson(OUT / "counties.geojson", feats)


def build_seats(src: Path) -> list[dict]:
    """Seats in WGS84, converted here from the GCJ-02 centres; Daxing'anling moved to Jiagedaqi."""
    with open(src / "heilongjiang_seats.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lon, lat = gcj02_to_wgs84(
        [float(r["center_lon_gcj02"]) for r in rows], [float(r["center_lat_gcj02"]) for r in rows]
    )
    by_code = {r["adcode"]: i for i, r in enumerate(rows)}
    out = []
    for i, r in enumerate(rows):
        j, note = i, ""
        if r["adcode"] == "232700":
            # DataV's centre is Tahe; the prefecture seat is Jiagedaqi.
            j, note = by_code["232718"], "seat moved to Jiagedaqi (232718); DataV centre is Tahe"
        if r["adcode"] == "230811":
            note = "seat lies outside its own polygon (district government sits in the city proper)"
        out.append(
            {
                "adcode": r["adcode"],
                "level": r["level"],
                "name": r["name"],
                "name_en": PREFECTURE_NAMES_EN.get(r["adcode"], ""),
                "parent_adcode": r["parent_adcode"],
                "lon": round(float(lon[j]), 6),
                "lat": round(float(lat[j]), 6),
                "note": note,
            }
        )
    with open(OUT / "seats.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    return out


def build_stations(src: Path, seats: list[dict]) -> list[dict]:
    """Stations with the source's own WGS84 columns, plus the documented additions."""
    with open(src / "heilongjiang_railway_stations.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = [
        {
            "name": r["name"],
            "city": r["city"],
            "station_type": r["station_type"],
            "lon": round(float(r["lng_wgs84"]), 6),
            "lat": round(float(r["lat_wgs84"]), 6),
            "note": "",
        }
        for r in rows
    ]
    seat_by_code = {s["adcode"]: s for s in seats}
    for name, code in EXTRA_STATIONS:
        s = seat_by_code[code]
        out.append(
            {
                "name": name,
                "city": "大兴安岭地区",
                "station_type": "added",
                "lon": s["lon"],
                "lat": s["lat"],
                "note": f"not in source; placed at seat {code}",
            }
        )
    with open(OUT / "stations.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    return out


def _resolver(seats: list[dict]):
    by_name: dict[str, list[dict]] = {}
    by_code = {s["adcode"]: s for s in seats}
    for s in seats:
        by_name.setdefault(s["name"], []).append(s)

    def resolve(key: str) -> dict:
        if key in by_code:
            return by_code[key]
        hits = by_name.get(key, [])
        if len(hits) != 1:
            raise KeyError(f"seat {key!r}: {len(hits)} matches")
        return hits[0]

    return resolve


def build_road_links(seats: list[dict]) -> list[dict]:
    """Write road_links.csv: urban links, route chains and published links."""
    resolve = _resolver(seats)
    links: dict[tuple[str, str], dict] = {}

    def add(a: dict, b: dict, route: str, km: float | None, source: str) -> None:
        if a["adcode"] == b["adcode"]:
            return
        gc = float(haversine_km(a["lon"], a["lat"], b["lon"], b["lat"]))
        if km is None:
            km = gc * ROAD_CIRCUITY
        key = tuple(sorted((a["adcode"], b["adcode"])))
        if key in links and links[key]["length_km"] <= km:
            return
        links[key] = {
            "from_adcode": a["adcode"],
            "from_name": a["name"],
            "to_adcode": b["adcode"],
            "to_name": b["name"],
            "route": route,
            "length_km": round(km, 3),
            "great_circle_km": round(gc, 3),
            "length_source": source,
        }

    prefs = {s["adcode"]: s for s in seats if s["level"] == "prefecture"}
    for s in seats:
        if s["level"] == "county" and s["name"].endswith("区"):
            p = prefs[s["parent_adcode"]]
            if haversine_km(p["lon"], p["lat"], s["lon"], s["lat"]) <= URBAN_LINK_MAX_KM:
                add(p, s, "city road", None, GC)
    for route, chain in ROAD_CHAINS:
        for a, b in zip(chain, chain[1:], strict=False):
            add(resolve(a), resolve(b), route, None, GC)
    for a, b, route, km, source in PUBLISHED_LINKS:
        add(resolve(a), resolve(b), route, km, "published: " + source)
    rows = sorted(links.values(), key=lambda r: (r["from_adcode"], r["to_adcode"]))
    with open(OUT / "road_links.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows


def build_rail_lines(stations: list[dict]) -> None:
    """Write rail_lines.csv: one row per line with its ordered stations."""
    names = {s["name"] for s in stations}
    rows = []
    for line_id, zh, en, stops in RAIL_LINES:
        missing = [s for s in stops if s not in names]
        if missing:
            raise KeyError(f"{zh}: stations not in the station file: {missing}")
        rows.append(
            {
                "line_id": line_id,
                "name_zh": zh,
                "name_en": en,
                "stations": "|".join(stops),
                "circuity": RAIL_CIRCUITY,
                "source": RAIL_SOURCE,
            }
        )
    with open(OUT / "rail_lines.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    """Rebuild every committed data file from the shared source folder."""
    args = sys.argv[1:] if argv is None else argv
    src = Path(args[0]) if args else DEFAULT_SOURCE
    build_boundaries(src)
    seats = build_seats(src)
    stations = build_stations(src, seats)
    build_road_links(seats)
    build_rail_lines(stations)


if __name__ == "__main__":
    main()
