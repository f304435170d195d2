"""Fixtures of the production tests: the real Redis, a real Celery worker subprocess, PostgreSQL only."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import database_url_under_test

ROOT = Path(__file__).resolve().parents[2]
# No default database: two suites on one machine must not share (or empty) one. Give each run its own.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")


def on_postgres() -> bool:
    """Whether the suite runs on PostgreSQL."""
    return database_url_under_test().startswith("postgresql")


@pytest.fixture
def redis_client():
    """The run's own Redis database (TEST_REDIS_URL; none by default), cleared of the app's and Celery's keys only.

    Skips when unset or unreachable (fails under REQUIRE_REDIS=1). Nothing is flushed.
    """
    import redis

    if not REDIS_URL:
        if os.environ.get("REQUIRE_REDIS") == "1":  # CI: the worker tests must run, not skip
            pytest.fail("set TEST_REDIS_URL to a Redis database of this run's own")
        pytest.skip("set TEST_REDIS_URL to a Redis database of this run's own")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (set TEST_REDIS_URL)")
    _delete_ours(client)
    yield client
    _delete_ours(client)
    client.close()


# The keys the app and Celery create (heartbeats, queues, results): deleted, never the whole database.
OUR_KEYS = ("gufei:*", "celery*", "_kombu*", "unacked*")


def _delete_ours(client) -> None:
    for pattern in OUR_KEYS:
        keys = list(client.scan_iter(match=pattern, count=500))
        if keys:
            client.delete(*keys)


class Worker:
    """A `celery worker` subprocess on the test Redis and the test database."""

    def __init__(self, module: str, tmp_path: Path, **env: str) -> None:
        self.log = tmp_path / "worker.log"
        environment = {**os.environ, "DATABASE_URL": database_url_under_test(), "REDIS_URL": REDIS_URL,
                       "CLEARING_HEARTBEAT_SECONDS": "2", "PYTHONPATH": str(ROOT), **env}
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, the venv's celery
            [str(Path(sys.executable).with_name("celery")), "--app", module, "worker", "--pool", "solo",
             "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel", "INFO"],
            cwd=ROOT, env=environment, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: the worker dies without any chance to clean up."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """Terminate (warm shutdown), then kill if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_worker(db, redis_client, tmp_path):
    """Start a worker subprocess (module, extra env); every one is stopped before the tables are emptied."""
    workers: list[Worker] = []

    def start(module: str = "app.worker", **env: str) -> Worker:
        worker = Worker(module, tmp_path, **env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def enqueue(redis_client):
    """An enqueue function sending the clearing task to the test Redis (as the web app does with REDIS_URL)."""
    from celery import Celery

    sender = Celery("gufei-tests", broker=REDIS_URL, backend=REDIS_URL)

    def send(run_id: int) -> str:
        return sender.send_task("gufei.clearing.run", args=[run_id]).id

    yield send
    sender.close()


def wait_for(predicate, timeout: float, what: str, worker: Worker | None = None):
    """Poll predicate until it returns a truthy value, or fail naming what was awaited (with the worker's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker and worker.process.poll() is not None:
            pytest.fail(f"the worker exited with {worker.process.returncode}\n{worker.output()[-4000:]}")
        time.sleep(0.2)
    log = worker.output()[-4000:] if worker else ""
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{log}")
