"""Reading the waste catalogue and place names for forms and filters."""
from __future__ import annotations

import functools

import sqlalchemy as sa
import sqlalchemy.orm as so
from wtforms import SelectChoice

import geo
from models import WasteCategory


def categories(session: so.Session) -> list[WasteCategory]:
    """All categories in catalogue order."""
    return list(session.scalars(sa.select(WasteCategory).order_by(WasteCategory.id)))


def category_choices(session: so.Session, locale: str) -> list[SelectChoice]:
    """Choices of a category select field: code and localised name, read as
    plain rows: every lot search shows them, and the full rows carry each category's quality schema."""
    name = WasteCategory.display_name(locale)
    return [SelectChoice(code, label) for code, label in
            session.execute(sa.select(WasteCategory.code, name).order_by(WasteCategory.id))]


def category_names(session: so.Session, codes: set[str], locale: str) -> dict[str, str]:
    """Code → localised name of the given categories."""
    if not codes:
        return {}
    name = WasteCategory.display_name(locale)
    return dict(session.execute(sa.select(WasteCategory.code, name).where(WasteCategory.code.in_(sorted(codes)))).all())


def prefecture_choices(locale: str) -> list[SelectChoice]:
    """Choices of a prefecture select field: adcode and localised name."""
    use_zh = locale.startswith("zh")
    return [SelectChoice(p.code, p.name_zh if use_zh else p.name_en) for p in geo.prefecture_places()]


def with_blank(choices: list[SelectChoice]) -> list[SelectChoice]:
    """Prepend an 'any' choice for filters."""
    return [SelectChoice("", "—"), *choices]


def prefecture_name(code: str | None, locale: str) -> str:
    """The localised name of a prefecture adcode ('' when unknown)."""
    return _prefecture_names(locale.startswith("zh")).get(code or "", "")


@functools.cache
def _prefecture_names(chinese: bool) -> dict[str, str]:
    # Called once per table row, so build the lookup once per language.
    return {p.code: p.name_zh if chinese else p.name_en for p in geo.prefecture_places()}
