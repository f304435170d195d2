"""Keyword search over lots: titles, descriptions, organisation and facility names, category names in both languages.

One definition serves the lots page, `GET /api/v1/lots?q=` and saved searches' alerts. Every word must match
(AND); a word matches a lot when it occurs, ignoring case, in any of those texts, which models/search.py
keeps together in `lots.search_text`. Words are substrings, not tokens of a full-text parser: Chinese has no
spaces for a parser to split on, so "钢渣" must find "转炉钢渣". On PostgreSQL the LIKE conditions are served
by a pg_trgm GIN index (migration 0020; pg_trgm extracts trigrams from CJK text too, but a word of one or two
characters has none, so a query of only such words scans the lots) and results are ranked by where the words
hit, then by trigram word similarity to the title; SQLite runs the same conditions and the same ranking
without the similarity.
"""
from __future__ import annotations

import unicodedata

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.services.errors import ServiceError
from models import Lot, WasteCategory

MAX_LENGTH = 100
MAX_WORDS = 10
# Where a word hits, weighted: a title hit says more about the lot than one deep in the description.
WEIGHT_TITLE, WEIGHT_CATEGORY, WEIGHT_ORGANISATION, WEIGHT_DESCRIPTION = 8, 4, 2, 1


def parse(raw: str | None, field: str = "q") -> tuple[str, ...]:
    """The distinct words of a query (empty when there are none); ServiceError when it is too long.

    Control characters (NUL among them, which PostgreSQL refuses in text) separate words like spaces; LIKE's
    wildcards are escaped later, so "%", "_" and quotes are searched for literally."""
    if raw is None:
        return ()
    text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in raw)
    if len(text.strip()) > MAX_LENGTH:
        raise ServiceError(_("Keywords can be at most %(n)d characters long.", n=MAX_LENGTH), field=field)
    distinct: dict[str, str] = {}
    for word in text.split():
        distinct.setdefault(word.lower(), word)
    words = tuple(distinct.values())
    if len(words) > MAX_WORDS:
        raise ServiceError(_("Use at most %(n)d keywords.", n=MAX_WORDS), field=field)
    return words


def clause(words: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """SQL condition: every word occurs in the lot's search document (title, description, facility,
    organisation and category names; models/search.py), LIKE's wildcards escaped."""
    # The document is stored lower-cased (models/search.py): a plain LIKE, which pg_trgm's index serves too.
    return sa.and_(*(Lot.search_text.contains(word.lower(), autoescape=True) for word in words))


def _category_ids(session: so.Session, word: str) -> list[int]:
    """Categories whose name (either language) contains the word: 20-odd rows, asked once per word."""
    return list(session.scalars(sa.select(WasteCategory.id).where(sa.or_(
        WasteCategory.name_zh.icontains(word, autoescape=True),
        WasteCategory.name_en.icontains(word, autoescape=True)))))


def rank(session: so.Session, words: tuple[str, ...]) -> sa.ColumnElement[int]:
    """SQL relevance of a matching lot: for each word, the weights of where it hits.

    Evaluated on matching lots only, so a word found in none of title, category and description must be in
    the facility's or the organisation's name."""
    terms = []
    for word in words:
        title = Lot.title.icontains(word, autoescape=True)
        category = Lot.category_id.in_(_category_ids(session, word))
        description = Lot.description.icontains(word, autoescape=True)
        terms += [sa.case((title, WEIGHT_TITLE), else_=0), sa.case((category, WEIGHT_CATEGORY), else_=0),
                  sa.case((description, WEIGHT_DESCRIPTION), else_=0),
                  sa.case((sa.or_(title, category, description), 0), else_=WEIGHT_ORGANISATION)]
    return sum(terms[1:], terms[0]) if terms else sa.literal(0)


def order_by(session: so.Session, words: tuple[str, ...]) -> tuple[sa.ColumnElement, ...]:
    """ORDER BY terms for the most relevant lots first (trigram similarity breaks ties on PostgreSQL)."""
    terms: list[sa.ColumnElement] = [rank(session, words).desc()]
    if session.get_bind().dialect.name == "postgresql":
        terms.append(sa.func.word_similarity(" ".join(words), Lot.title).desc())
    return (*terms, Lot.id.desc())


def lot_matches(session: so.Session, lot_id: int, words: tuple[str, ...]) -> bool:
    """Whether the (flushed) lot matches every word: the saved searches' test, the same SQL as the list."""
    if not words:
        return True
    return session.scalar(sa.select(Lot.id).where(Lot.id == lot_id, clause(words))) is not None
