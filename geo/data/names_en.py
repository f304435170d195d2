"""English (Hanyu Pinyin) names for county-level places, made at build time only.

The source data (DataV) names places in Chinese only. The English UI labels them in pinyin the
way Chinese maps and road signs do: the name without its administrative suffix, syllables run
together, the first letter capital, an apostrophe before a syllable that starts with a, o or e
(GB/T 16159, e.g. 北安 → Bei'an). `pypinyin` (pinned in requirements.txt) is imported here only;
the running app reads the finished names from geo/data and app/static/geo.
"""

from __future__ import annotations

# Longest first: "蒙古族自治县" must win over "县".
SUFFIXES = ("蒙古族自治县", "达斡尔族区", "自治县", "市", "县", "区")
# Official readings that differ from the dictionary's default (棱 reads léng, but both county
# names use líng: the Ministry of Civil Affairs gazetteer and the stations are "Muling", "Suiling").
READINGS = {"穆棱": "Muling", "绥棱": "Suiling"}


def _join(syllables: list[str]) -> str:
    out = ""
    for i, s in enumerate(syllables):
        if i and s[:1] in "aoe":
            out += "'"
        out += s
    return out[:1].upper() + out[1:]


def english_name(name_zh: str) -> str:
    """'讷河市' → 'Nehe', '北安市' → "Bei'an", '宾县' → 'Binxian' (a one-character stem keeps its suffix)."""
    from pypinyin import Style, lazy_pinyin  # build-time dependency only

    stem = name_zh
    for suffix in SUFFIXES:
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix) + 1:
            stem = name_zh[: -len(suffix)]
            break
    if stem in READINGS:
        return READINGS[stem]
    return _join(lazy_pinyin(stem, style=Style.NORMAL, errors="ignore"))
