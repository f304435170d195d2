"""Concurrent commits that touch the same rollup rows (PostgreSQL): none fails and the rollups equal the raw rows.

Audited writes hold the audit chain's advisory lock until commit, and the rollups are refreshed just before commit,
so two refreshes of one rollup row never interleave; these tests keep it so.
"""
import datetime as dt
import threading
from decimal import Decimal

import pytest

from app.extensions import db as database
from app.services import generation_reports, utilisation
from app.services.utilisation import Scope
from models import User
from tests.factories import FacilityFactory, UserFactory, category, resource_base

D = Decimal
MARCH = dt.date(2025, 3, 1)


def _file_concurrently(app, jobs):
    """Run file_report jobs [(user_id, ReportInput)] at once; return the exceptions raised."""
    errors, start = [], threading.Barrier(len(jobs))

    def worker(user_id, data):
        with app.app_context():
            user = database.session.get(User, user_id)
            start.wait()
            try:
                generation_reports.file_report(database.session, user, data)
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                database.session.rollback()
                errors.append(repr(exc))
            finally:
                database.session.remove()

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _report(facility, generated, **figures):
    values = {"generated_t": D(generated), "stored_t": D(generated), "self_utilised_t": D(0),
              "disposed_t": D(0), "from_storage_t": D(0)} | figures
    return generation_reports.ReportInput(facility.id, category("coal_gangue").id, MARCH, **values)


def test_concurrent_reports_of_one_prefecture_month_and_category_all_count(app, db, reference):
    if database.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers")
    base = resource_base("daqing")
    jobs = []
    for i in range(8):
        user = UserFactory(role="producer")
        plant = FacilityFactory(organization=user.organization, base_id=base.id, prefecture_code=base.prefecture_code)
        jobs.append((user.id, _report(plant, 100 + i)))
    assert _file_concurrently(app, jobs) == []
    db.session.expire_all()
    scope = Scope("base", base=base)
    year = (dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    direct = utilisation.report_sums(db.session, scope, *year)
    assert direct[(2025, 3, category("coal_gangue").id)].generated_t == D(100 * 8 + 28)
    assert utilisation.rollup_sums(db.session, scope, *year) == direct
    assert utilisation.top_producers(db.session, scope, 2025) == utilisation.top_producers_direct(db.session, scope,
                                                                                                  2025)


def test_concurrent_reports_of_one_facility_all_count(app, db, reference):
    if database.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers")
    base = resource_base("daqing")
    user = UserFactory(role="producer")
    plant = FacilityFactory(organization=user.organization, base_id=base.id, prefecture_code=base.prefecture_code)
    jobs = [(user.id, generation_reports.ReportInput(plant.id, category(code).id, MARCH, D(100), D(100), D(0),
                                                     D(0), D(0)))
            for code in ("coal_gangue", "fly_ash", "boiler_slag", "tailings", "steel_slag", "bf_slag")]
    assert _file_concurrently(app, jobs) == []
    db.session.expire_all()
    scope = Scope("base", base=base)
    [row] = utilisation.top_producers(db.session, scope, 2025)
    assert row["generated_t"] == D(600)
    assert [row] == utilisation.top_producers_direct(db.session, scope, 2025)
