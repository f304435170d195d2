"""Times on run pages are shown in the display zone (DISPLAY_TIMEZONE, Asia/Shanghai) with the zone named."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from app.services import clearing, seasonal
from app.services.utilisation import Scope
from models import MatchRun
from tests.app.test_seasonal import TODAY, winter_market
from tests.factories import UserFactory, small_market

EN = {"Accept-Language": "en"}
REQUESTED = dt.datetime(2026, 3, 1, 12, 5, tzinfo=dt.UTC)   # 20:05 in Shanghai
FINISHED = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)   # 00:30 the next day in Shanghai
TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def _stamp(db, run: MatchRun) -> None:
    run.created_at, run.finished_at = REQUESTED, FINISHED
    db.session.commit()


def test_a_clearing_run_page_and_the_run_list_show_local_times_with_the_zone(auth, client, db, reference):
    small_market()
    run = db.session.get(MatchRun, clearing.start_clearing(db.session, None, "fly_ash").id)
    _stamp(db, run)
    UserFactory(email="regulator@example.com", role="regulator")
    auth.login("regulator@example.com")
    page = client.get(f"/clearing/runs/{run.id}", headers=EN).get_data(as_text=True)
    assert "requested 2026-03-01 20:05 (UTC+8)" in page and "finished 2026-03-02 00:30 (UTC+8)" in page
    assert "12:05" not in page
    listing = client.get("/clearing", headers=EN).get_data(as_text=True)
    assert "2026-03-01 20:05 (UTC+8)" in listing


def test_a_seasonal_plan_and_its_list_show_local_times_with_the_zone(auth, client, db, reference):
    base, _lot, _kiln = winter_market()
    run = seasonal.run_plan(db.session, None, Scope("base", base=base), "2026-11", today=TODAY)
    _stamp(db, run)
    UserFactory(email="regulator@example.com", role="regulator")
    auth.login("regulator@example.com")
    page = client.get(f"/bases/daqing/seasonal/{run.id}", headers=EN).get_data(as_text=True)
    assert "requested 2026-03-01 20:05 (UTC+8)" in page
    plan = client.get("/bases/daqing/seasonal", headers=EN).get_data(as_text=True)
    assert "2026-03-01 20:05 (UTC+8)" in plan


def test_a_configured_zone_moves_the_times(app, auth, client, db, reference, monkeypatch):
    small_market()
    run = db.session.get(MatchRun, clearing.start_clearing(db.session, None, "fly_ash").id)
    _stamp(db, run)
    UserFactory(email="regulator@example.com", role="regulator")
    auth.login("regulator@example.com")
    # DISPLAY_TIMEZONE=UTC at start-up would set this (app/settings.py → Flask-Babel's default zone).
    monkeypatch.setattr(app.extensions["babel"], "default_timezone", "UTC")
    page = client.get(f"/clearing/runs/{run.id}", headers=EN).get_data(as_text=True)
    assert "requested 2026-03-01 12:05 (UTC)" in page


def test_no_template_formats_a_time_by_hand():
    """strftime/isoformat/datetimeformat ignore the display zone or hide it: templates use `when`/`dateformat`."""
    offenders = [str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
                 if re.search(r"strftime|isoformat|datetimeformat", p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_dateformat_filter_formats_dates_as_flask_babel_does(app):
    """Calendar dates are formatted once per locale and pattern; the text is Flask-Babel's, and times (which
    move to the display zone) still go through Flask-Babel every time."""
    import flask_babel

    from app import i18n

    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 2 March in Asia/Shanghai
    for lang in ("en", "zh_CN"):
        with app.test_request_context(f"/?lang={lang}"):
            flask_babel.refresh()
            for pattern in (None, "short", "long", "yyyy-MM-dd"):
                for day in (dt.date(2026, 3, 1), dt.date(2027, 12, 31)):
                    assert i18n.dateformat(day, pattern) == i18n.dateformat(day, pattern) \
                        == flask_babel.format_date(day, pattern)
            assert i18n.dateformat(moment) == flask_babel.format_date(moment)
            assert app.jinja_env.filters["dateformat"] is i18n.dateformat
