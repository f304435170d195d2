"""A lot's search document: the texts keyword search looks in, kept in `lots.search_text` (no Flask here).

Title, description, facility name, organisation names and category names (both languages; not the code,
whose underscores would make "_" find every lot), lower-cased, in one column: one pg_trgm GIN index
(migration 0020) then serves every LIKE '%word%' of a keyword search instead of a scan of lots joined to
facilities and organisations. The document is rebuilt in SQL, in the writer's transaction, whenever any of
its sources changes through the ORM (the only way the app writes them).
"""
from __future__ import annotations

import sqlalchemy as sa

from models.catalogue import WasteCategory
from models.facilities import Facility
from models.lots import Lot
from models.orgs import Organization

# Fields are joined by a newline: keywords never contain whitespace, so no word matches across two fields.
SEPARATOR = "\n"
LOT_SOURCES = ("title", "description", "facility_id", "category_id")


def document() -> sa.ScalarSelect:
    """SQL: the search document of the lot row being updated (a subquery correlated to `lots`)."""
    lots, f, o, c = Lot.__table__, Facility.__table__, Organization.__table__, WasteCategory.__table__
    parts = [lots.c.title, sa.func.coalesce(lots.c.description, ""), f.c.name, o.c.name,
             sa.func.coalesce(o.c.name_en, ""), c.c.name_zh, c.c.name_en]
    text = parts[0]
    for part in parts[1:]:
        text = text.op("||")(sa.literal(SEPARATOR, sa.Text)).op("||")(part)
    # Stored lower-cased so that searches use LIKE, several times cheaper than ILIKE on Chinese text.
    return (sa.select(sa.func.lower(text)).select_from(f.join(o, o.c.id == f.c.organization_id))
            .where(f.c.id == lots.c.facility_id, c.c.id == lots.c.category_id).scalar_subquery())


def refresh(connection: sa.Connection, where: sa.ColumnElement[bool]) -> None:
    """Rebuild the search document of the lots matching `where`."""
    connection.execute(sa.update(Lot.__table__).where(where).values(search_text=document()))


def _changed(target, names: tuple[str, ...]) -> bool:
    state = sa.inspect(target)
    return any(state.attrs[name].history.has_changes() for name in names)


@sa.event.listens_for(Lot, "after_insert")
def _lot_inserted(_mapper, connection, target: Lot) -> None:
    refresh(connection, Lot.__table__.c.id == target.id)


@sa.event.listens_for(Lot, "after_update")
def _lot_updated(_mapper, connection, target: Lot) -> None:
    # Clearing updates thousands of lots' tonnes: only a change of text, place or category rebuilds.
    if _changed(target, LOT_SOURCES):
        refresh(connection, Lot.__table__.c.id == target.id)


@sa.event.listens_for(Facility, "after_update")
def _facility_updated(_mapper, connection, target: Facility) -> None:
    if _changed(target, ("name", "organization_id")):
        refresh(connection, Lot.__table__.c.facility_id == target.id)


@sa.event.listens_for(Organization, "after_update")
def _organisation_updated(_mapper, connection, target: Organization) -> None:
    if _changed(target, ("name", "name_en")):
        facilities = sa.select(Facility.__table__.c.id).where(Facility.__table__.c.organization_id == target.id)
        refresh(connection, Lot.__table__.c.facility_id.in_(facilities))


@sa.event.listens_for(WasteCategory, "after_update")
def _category_updated(_mapper, connection, target: WasteCategory) -> None:
    if _changed(target, ("name_zh", "name_en")):
        refresh(connection, Lot.__table__.c.category_id == target.id)
