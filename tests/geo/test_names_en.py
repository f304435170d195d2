"""English place names: pinyin made at build time (geo/data/names_en.py) and shipped in the geo data."""

import json
import re

import pytest

from geo.boundaries import counties, seats
from geo.data.build_osm import BASEMAP_DIR

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    ("zh", "en"),
    [
        ("讷河市", "Nehe"),
        ("呼兰区", "Hulan"),
        ("北安市", "Bei'an"),  # apostrophe before a syllable starting with a vowel
        ("杜尔伯特蒙古族自治县", "Du'erbote"),  # the autonomous-county suffix goes
        ("梅里斯达斡尔族区", "Meilisi"),
        ("宾县", "Binxian"),  # a one-character stem keeps its suffix
        ("郊区", "Jiaoqu"),
        ("穆棱市", "Muling"),  # official reading, not the dictionary's léng
        ("绥棱县", "Suiling"),
    ],
)
def test_english_name(zh, en):
    pytest.importorskip("pypinyin")
    from geo.data.names_en import english_name

    assert english_name(zh) == en


def test_every_seat_and_county_has_an_english_name():
    s = seats()
    assert (s["name_en"].str.len() > 0).all()
    assert not s["name_en"].str.contains(CJK).any()
    c = counties()
    assert len(c) == 122 and (c["name_en"].str.len() > 0).all() and not c["name_en"].str.contains(CJK).any()


def test_browser_layers_carry_the_english_names():
    labels = json.loads((BASEMAP_DIR / "labels.geojson").read_text(encoding="utf-8"))["features"]
    assert len(labels) == 135
    assert all(f["properties"]["name_en"] and not CJK.search(f["properties"]["name_en"]) for f in labels)
    assert {f["properties"]["name_en"] for f in labels} >= {"Harbin", "Nehe", "Bei'an", "Mohe"}
    cty = json.loads((BASEMAP_DIR / "counties.geojson").read_text(encoding="utf-8"))["features"]
    assert all(f["properties"]["name_en"] for f in cty)
