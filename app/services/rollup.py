"""The utilisation rollups, kept in step with the data: counted tonnes per month × category × place, and per
facility × year.

Every commit that adds, changes or deletes a generation report or a platform declaration recomputes the
rollup rows of the months, categories and prefectures it touched, and the years of the facilities it touched,
in the same transaction, from the one definition of a counted cell (``utilisation.counted_cells``). The
dashboards read the rollups. Writes that bypass the ORM (bulk COPY, raw SQL) and facilities moved to another
prefecture need ``flask rebuild-rollup`` (the facility rollup is keyed by facility, so a move does not stale it).
"""
from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.services import periods
from app.services.utilisation import CELL_FIELDS, Scope, as_date, counted_cells
from models import (
    Facility,
    FacilityYearRollup,
    GenerationReport,
    Organization,
    UtilisationRecord,
    UtilisationRollup,
)

log = logging.getLogger(__name__)
PENDING = "rollup_pending"  # session.info key: {(facility_id, category_id, period)}
Key = tuple[dt.date, int, "str | None"]  # (period, category_id, prefecture_code)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def refresh(session: so.Session, keys: set[Key]) -> int:
    """Recompute the rollup rows of each (month, category, prefecture); return how many groups were refreshed."""
    for period, category_id, prefecture in sorted(keys, key=lambda k: (k[0], k[1], k[2] or "")):
        _refresh_group(session, period, category_id, prefecture)
    return len(keys)


def _refresh_group(session: so.Session, period: dt.date, category_id: int, prefecture: str | None) -> None:
    r = UtilisationRollup
    session.execute(sa.delete(r).where(r.period == period, r.category_id == category_id,
                                       r.prefecture_key == (prefecture or "")))
    if not periods.in_window(period):  # a row stored before months were checked (9999-12): never counted
        return
    cells = counted_cells(Scope("prefecture", prefecture_code=prefecture), period, _next_month(period), category_id)
    _insert_grouped(session, cells)


def _insert_grouped(session: so.Session, cells: sa.Subquery) -> None:
    """INSERT … SELECT: the counted cells summed by month, category and place."""
    demo = sa.func.sum(sa.case((Organization.is_demo.is_(True), 1), else_=0))
    place = (cells.c.period, cells.c.category_id, sa.func.coalesce(Facility.prefecture_code, ""),
             sa.func.coalesce(Facility.base_id, 0), Facility.in_province)
    select = (sa.select(*place, *(sa.func.sum(cells.c[n]) for n in CELL_FIELDS), demo)
              .select_from(cells).join(Facility, Facility.id == cells.c.facility_id)
              .join(Organization, Organization.id == Facility.organization_id)
              .group_by(*place))
    columns = ["period", "category_id", "prefecture_key", "base_key", "in_province", *CELL_FIELDS, "demo_cells"]
    session.execute(sa.insert(UtilisationRollup).from_select(columns, select))


def refresh_facility_years(session: so.Session, keys: set[tuple[int, int]]) -> int:
    """Recompute the yearly rollup rows of each (facility, year); return how many years were refreshed."""
    by_year: dict[int, list[int]] = {}
    for facility_id, year in keys:
        by_year.setdefault(year, []).append(facility_id)
    for year, facility_ids in sorted(by_year.items()):
        ids = tuple(sorted(facility_ids))
        f = FacilityYearRollup
        session.execute(sa.delete(f).where(f.year == year, f.facility_id.in_(ids)))
        if not periods.FIRST_PERIOD.year <= year <= periods.last_period().year:  # a month stored before the check
            continue
        _insert_facility_years(session, counted_cells(Scope("facilities", facility_ids=ids), dt.date(year, 1, 1),
                                                      dt.date(year + 1, 1, 1)))
    return len(by_year)


def _insert_facility_years(session: so.Session, cells: sa.Subquery) -> None:
    """INSERT … SELECT: the counted cells summed by facility and year."""
    year = sa.cast(sa.extract("year", cells.c.period), sa.Integer)
    select = (sa.select(year, cells.c.facility_id, *(sa.func.sum(cells.c[n]) for n in FACILITY_FIELDS))
              .group_by(year, cells.c.facility_id))
    session.execute(sa.insert(FacilityYearRollup).from_select(["year", "facility_id", *FACILITY_FIELDS], select))


FACILITY_FIELDS = ("generated_t", "from_storage_t", "utilised_t")


def rebuild(session: so.Session) -> int:
    """Recompute both rollups in one statement each (after bulk loads); return how many monthly rows there are."""
    g = GenerationReport
    def extent(column):
        return sa.select(sa.func.min(column), sa.func.max(column)).where(periods.window_clause(column))

    bounds = [as_date(d) for d in (*session.execute(extent(g.period)).one(),
                                   *session.execute(extent(UtilisationRecord.counted_period)).one()) if d is not None]
    session.execute(sa.delete(UtilisationRollup))
    session.execute(sa.delete(FacilityYearRollup))
    if bounds:
        first, end = min(bounds), _next_month(max(bounds))
        _insert_grouped(session, counted_cells(Scope("everywhere"), first, end))
        _insert_facility_years(session, counted_cells(Scope("everywhere"), first, end))
    return session.scalar(sa.select(sa.func.count(UtilisationRollup.id)))


def fill_if_missing(session: so.Session) -> bool:
    """Build the rollups when reports exist but one has no rows (a database upgraded to 0013 or 0028); True if
    built."""
    if session.scalar(sa.select(GenerationReport.id).limit(1)) is None:
        return False
    if (session.scalar(sa.select(UtilisationRollup.id).limit(1)) is not None
            and session.scalar(sa.select(FacilityYearRollup.id).limit(1)) is not None):
        return False
    rebuild(session)
    session.commit()
    return True


def _collect(session: so.Session, _context) -> None:
    pending = session.info.setdefault(PENDING, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, GenerationReport):
            pending.add((obj.facility_id, obj.category_id, obj.period))
        elif isinstance(obj, UtilisationRecord) and obj.award_id is not None and obj.source_facility_id:
            pending.add((obj.source_facility_id, obj.category_id, obj.counted_period))


def _apply(session: so.Session) -> None:
    session.flush()  # so the last changes are collected
    pending = session.info.pop(PENDING, set())
    if not pending:
        return
    facilities = {p[0] for p in pending}
    prefecture = dict(session.execute(sa.select(Facility.id, Facility.prefecture_code)
                                      .where(Facility.id.in_(facilities))).all())
    refresh(session, {(period, category_id, prefecture.get(fid)) for fid, category_id, period in pending})
    refresh_facility_years(session, {(fid, period.year) for fid, _category_id, period in pending})
    session.info.pop(PENDING, None)  # the refresh's own flush collects nothing new


def _forget(session: so.Session) -> None:
    session.info.pop(PENDING, None)


def listen() -> None:
    """Keep the rollup in step on every ORM session (once per process)."""
    if not sa.event.contains(so.Session, "after_flush", _collect):
        sa.event.listen(so.Session, "after_flush", _collect)
        sa.event.listen(so.Session, "before_commit", _apply)
        sa.event.listen(so.Session, "after_rollback", _forget)
