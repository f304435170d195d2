"""The reporting window: the one definition of which months statistics may hold, for writes and reads alike.

Writes refuse a month outside it (generation reports, imports); reads — dashboards, exports, warnings, the
statistics API, the rollup — take only months inside it, so a row stored before the check existed (a report for
9999-12, say) is neither counted nor able to break a page; `flask data check` lists such rows.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

# A month typed as text: years 1900–2099 only, so neither year 0 nor 9999 (± the months a dashboard or a plan
# adds) ever reaches dt.date and turns a query string into a 500.
MONTH_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$"
FIRST_PERIOD = dt.date(2000, 1, 1)  # the statistics this platform compares against start long after this
# Statistics months, manifest dates and manifest numbers are Beijing's, whatever the server's zone.
BEIJING = dt.timezone(dt.timedelta(hours=8))


def beijing_date(moment: dt.datetime) -> dt.date:
    """The Beijing calendar day of a stored time (naive times are stored UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(BEIJING).date()


def last_period(today: dt.date | None = None) -> dt.date:
    """The latest month a report may be for: next month (a report may be filed at a month's end)."""
    this_month = (today or dt.date.today()).replace(day=1)
    return (this_month + dt.timedelta(days=32)).replace(day=1)


def in_window(period: dt.date, today: dt.date | None = None) -> bool:
    """Whether a month lies in the reporting window."""
    return FIRST_PERIOD <= period <= last_period(today)


def window_clause(column, today: dt.date | None = None) -> sa.ColumnElement[bool]:
    """SQL: the period column lies in the reporting window."""
    return column.between(FIRST_PERIOD, last_period(today))


def clamp(date_from: dt.date, date_to: dt.date, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """A half-open range [from, to) narrowed to the window (empty, from == to, when they do not meet)."""
    end = last_period(today)
    end = dt.date(end.year + end.month // 12, end.month % 12 + 1, 1)  # the window's exclusive end
    low, high = max(date_from, FIRST_PERIOD), min(date_to, end)
    return (low, high) if low < high else (low, low)


def out_of_window(session, limit: int = 1000) -> dict[str, list[dict]]:
    """Rows whose month lies outside the window (stored before months were checked), per table, for `flask data
    check`: reports with their facility and category, platform declarations, and rollup months."""
    from models import Facility, GenerationReport, UtilisationRecord, UtilisationRollup, WasteCategory

    g, u, r = GenerationReport, UtilisationRecord, UtilisationRollup
    reports = session.execute(
        sa.select(g.id, g.period, Facility.id, Facility.name, WasteCategory.code, g.generated_t)
        .join(Facility, Facility.id == g.facility_id).join(WasteCategory, WasteCategory.id == g.category_id)
        .where(~window_clause(g.period)).order_by(g.period, g.id).limit(limit))
    records = session.execute(sa.select(u.id, u.period, u.award_id, u.tonnes).where(~window_clause(u.period))
                              .order_by(u.period, u.id).limit(limit))
    months = session.execute(sa.select(r.period, sa.func.count(r.id)).where(~window_clause(r.period))
                             .group_by(r.period).order_by(r.period).limit(limit))
    return {
        "generation_reports": [{"id": i, "period": f"{p:%Y-%m}", "facility_id": fid, "facility": name,
                                "category": code, "generated_t": str(t)} for i, p, fid, name, code, t in reports],
        "utilisation_records": [{"id": i, "period": f"{p:%Y-%m}", "award_id": a, "tonnes": str(t)}
                                for i, p, a, t in records],
        "utilisation_rollup": [{"period": f"{p:%Y-%m}", "rows": n} for p, n in months],
    }
