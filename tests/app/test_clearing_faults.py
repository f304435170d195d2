"""Clearing faults end in a clear state: a broker that is down, runs stuck queued, the sweep's reasons."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.services import clearing
from models import ClearingLock, MatchRun, utcnow
from tests.conftest import database_url_under_test
from tests.factories import small_market

ROOT = Path(__file__).resolve().parents[2]
SUCCEEDED_ZH = "已完成"

_START_WITH_BROKER_DOWN = """
import json, sys, time
from app import create_app
from app.extensions import db
from app.services import clearing
app = create_app({"DATABASE_URL": sys.argv[1], "REDIS_URL": "redis://127.0.0.1:1/0"})
with app.app_context():
    started = time.perf_counter()
    run = clearing.start_clearing(db.session, None, "fly_ash")
    print(json.dumps({"id": run.id, "status": run.status, "reason": run.failure_reason,
                      "seconds": time.perf_counter() - started}))
"""


def test_a_clearing_that_cannot_be_enqueued_fails_at_once_with_a_plain_message(db, reference, tmp_path):
    small_market()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GUFEI_INSTANCE_PATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _START_WITH_BROKER_DOWN, database_url_under_test()],  # noqa: S603
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "failed" and result["reason"] == "enqueue_failed"
    assert result["seconds"] < 10  # short broker timeouts, no long hang
    db.session.expire_all()
    run = db.session.get(MatchRun, result["id"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClearingLock)) == 0  # re-runnable
    with force_locale("en"):
        assert "job queue is unreachable" in clearing.status_message(db.session, run, "en")
    with force_locale("zh_CN"):
        assert "任务队列不可达" in clearing.status_message(db.session, run, "zh_CN")


_HTTP_WITH_REDIS_DOWN = """
import json, logging, sys
logging.basicConfig(level=logging.WARNING)
from app import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "WTF_CSRF_ENABLED": False})  # REDIS_URL from the environment
client = app.test_client()
auth = {"Authorization": "Bearer " + sys.argv[2]}
me = client.get("/api/v1/me", headers=auth)
api = client.post("/api/v1/match-runs", json={"category": "fly_ash"}, headers=auth)
client.post("/login", data={"email": sys.argv[3], "password": sys.argv[4]})
page = client.post("/clearing/runs", data={"category": "fly_ash"}, follow_redirects=True)
print(json.dumps({"me": me.status_code, "api": api.status_code, "api_body": api.get_json(),
                  "page": page.status_code, "page_text": page.get_data(as_text=True)}))
"""


def test_with_redis_unreachable_the_api_answers_and_a_clearing_fails_at_once_through_api_and_page(db, reference,
                                                                                                  tmp_path):
    from app.services import api_tokens
    from models import OrganizationRole
    from tests.factories import PASSWORD, OrganizationFactory, UserFactory

    small_market()
    regulator = UserFactory(email="reg@example.com", role="regulator", organization=OrganizationFactory(
        roles=[OrganizationRole(role="regulator")]))
    secret = api_tokens.create(db.session, regulator, "t").secret
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GUFEI_INSTANCE_PATH": str(tmp_path),
           "REDIS_URL": "redis://127.0.0.1:1/0"}  # as production configures it: broker and rate-limit storage
    out = subprocess.run([sys.executable, "-c", _HTTP_WITH_REDIS_DOWN, database_url_under_test(), secret,  # noqa: S603
                          regulator.email, PASSWORD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["me"] == 200  # rate limits counted in memory, not a 500
    assert "in-memory" in out.stderr  # and the log says so
    assert result["api"] == 202 and result["api_body"]["status"] == "failed", result["api_body"]
    assert result["page"] == 200 and "Traceback" not in result["page_text"]
    assert "任务队列不可达" in result["page_text"] or "job queue is unreachable" in result["page_text"]
    db.session.expire_all()
    runs = db.session.scalars(sa.select(MatchRun).order_by(MatchRun.id)).all()
    assert [(r.status, r.failure_reason) for r in runs] == [("failed", "enqueue_failed")] * 2  # none left queued
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClearingLock)) == 0


def test_the_sweep_fails_runs_stuck_queued_and_frees_their_categories(db, reference):
    small_market()
    run = clearing.start_clearing(db.session, None, "fly_ash", enqueue=lambda run_id: "lost-job")
    assert run.status == "queued"
    assert clearing.sweep_stale_runs(db.session, lambda _id: True, 600) == []  # young: left alone
    later = utcnow() + dt.timedelta(seconds=601)
    assert clearing.sweep_stale_runs(db.session, lambda _id: True, 600, now=later) == [run.id]
    run = db.session.get(MatchRun, run.id, populate_existing=True)
    assert run.status == "failed" and run.failure_reason == "stuck_queued"
    assert clearing.start_clearing(db.session, None, "fly_ash").status == "succeeded"


def test_a_database_error_in_the_run_task_fails_the_run_at_once_as_such(db, reference, monkeypatch):
    import contextlib

    from app import jobs

    small_market()
    run = clearing.start_clearing(db.session, None, "fly_ash", enqueue=lambda run_id: "job")

    def broken(*_args, **_kwargs):
        raise sa.exc.OperationalError("SELECT … FROM match_runs FOR UPDATE", {}, Exception("server closed"))

    monkeypatch.setattr(jobs, "beating", lambda _run_id: contextlib.nullcontext())  # no Redis in these tests
    monkeypatch.setattr(clearing, "begin_run", broken)
    assert jobs.run_clearing_task.run(run.id) == "failed"
    run = db.session.get(MatchRun, run.id, populate_existing=True)
    assert (run.status, run.failure_reason) == ("failed", "database_error")  # not queued until the sweep
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClearingLock)) == 0


def test_the_sweep_fails_running_runs_without_a_heartbeat_with_the_truthful_reason(db, reference):
    small_market()
    run = clearing.start_clearing(db.session, None, "fly_ash", enqueue=lambda run_id: "job")
    clearing.begin_run(db.session, run.id)
    assert clearing.sweep_stale_runs(db.session, lambda _id: False) == [run.id]
    assert db.session.get(MatchRun, run.id, populate_existing=True).failure_reason == "worker_lost"


def test_a_database_error_fails_the_run_as_such_and_the_page_hides_the_sql(db, reference, monkeypatch, client,
                                                                          auth):
    from app.services.clearing import write
    from tests.factories import UserFactory

    small_market()

    def broken(*_args, **_kwargs):
        db.session.execute(sa.text("SELECT no_such_column FROM bids WHERE price_yuan_per_t = 83.21"))

    monkeypatch.setattr(write, "_finish", broken)
    run = clearing.start_clearing(db.session, None, "fly_ash")
    assert run.status == "failed" and run.failure_reason == "database_error"
    assert "83.21" not in (run.message or "") and "SELECT" not in (run.message or "")
    UserFactory(email="officer@example.com", role="base_officer")
    auth.login("officer@example.com")
    page = client.get(f"/clearing/runs/{run.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "数据库错误" in page and "83.21" not in page and "no_such_column" not in page
    from app.services import api_tokens

    secret = api_tokens.create(db.session, UserFactory(email="reg@example.com", role="regulator"), "t").secret
    for path in (f"/api/v1/match-runs/{run.id}", "/api/v1/match-runs", f"/clearing/runs/{run.id}/status.json"):
        response = client.get(path, headers={"Authorization": f"Bearer {secret}"})
        body = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "83.21" not in body and "no_such_column" not in body and "SELECT" not in body, path


def test_run_status_json_is_translated_and_names_no_job_or_category_code(db, reference, client, auth):
    from tests.factories import UserFactory

    small_market()
    run = clearing.start_clearing(db.session, None, "fly_ash")
    UserFactory(email="officer@example.com", role="base_officer")
    auth.login("officer@example.com")
    status = client.get(f"/clearing/runs/{run.id}/status.json", headers={"Accept-Language": "zh-CN"}).get_json()
    assert status["status_label"] == SUCCEEDED_ZH
    assert status["message"] == "已完成。"
    page = client.get(f"/clearing/runs/{run.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    visible = re.sub(r"<[^>]+>", " ", page)
    assert "fly_ash" not in visible and run.job_id not in page and "粉煤灰" in visible
    assert "building" not in visible and "done" not in visible


def test_a_run_in_a_worker_thread_returns_at_once_and_finishes(app, db, reference):
    small_market()
    app.config["JOBS_IN_THREAD"] = True
    try:
        run = clearing.start_clearing(db.session, None, "fly_ash")
        assert run.status in ("queued", "running")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.rollback()
            run = db.session.get(MatchRun, run.id, populate_existing=True)
            if run.status in ("succeeded", "failed"):
                break
            time.sleep(0.1)
    finally:
        app.config["JOBS_IN_THREAD"] = False
    assert run.status == "succeeded" and run.timings and set(run.timings) == {"build", "solve", "write"}


def test_a_category_held_by_a_dead_in_process_worker_is_freed_by_the_next_start(db, reference):
    import socket

    small_market()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603 - a process that has ended
    dead.wait()
    stale = clearing.start_clearing(db.session, None, "fly_ash",
                                    enqueue=lambda run_id: f"thread-{socket.gethostname()}-{dead.pid}-0123456789ab")
    clearing.begin_run(db.session, stale.id)
    run = clearing.start_clearing(db.session, None, "fly_ash")
    assert run.status == "succeeded"
    stale = db.session.get(MatchRun, stale.id, populate_existing=True)
    assert stale.status == "failed" and stale.failure_reason == "worker_lost"


def test_a_live_worker_keeps_its_category(db, reference):
    small_market()
    alive = clearing.start_clearing(db.session, None, "fly_ash", enqueue=lambda run_id: "job-of-another-kind")
    clearing.begin_run(db.session, alive.id)
    with pytest.raises(clearing.ClearingBusy) as busy:
        clearing.start_clearing(db.session, None, "fly_ash")
    assert busy.value.run_id == alive.id
