"""Catalogue upkeep: fill the English catalogue and find untranslated entries."""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def _catalogue_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def fill_english() -> int:
    """Give every English entry its source string (plural forms too); return how many were filled."""
    path = _catalogue_path("en")
    with path.open("rb") as fh:
        catalogue = read_po(fh, locale="en")
    filled = 0
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not all(message.string or ()):
                message.string = tuple(message.id)
                filled += 1
        elif not message.string:
            message.string = message.id
            filled += 1
        message.flags.discard("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalogue, width=120)
    return filled


def missing(locale: str) -> list[str]:
    """Source strings that have no translation (or a fuzzy one) in a locale's catalogue."""
    with _catalogue_path(locale).open("rb") as fh:
        catalogue = read_po(fh, locale=locale)
    gaps = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps
