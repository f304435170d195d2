"""Backups: the seeded demo database dumped with pg_dump -Fc restores with pg_restore to the same counts."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import database_url_under_test
from tests.production.conftest import ROOT, on_postgres

pytestmark = pytest.mark.skipif(not on_postgres() or not shutil.which("pg_dump") or not shutil.which("pg_restore"),
                                reason="needs TEST_DATABASE_URL on PostgreSQL and pg_dump/pg_restore")


def _libpq(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_pg_dump_of_the_demo_restores_to_the_same_counts(runner, db, tmp_path: Path):
    seeded = runner.invoke(args=["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    before = json.loads(runner.invoke(args=["stats", "--json"]).output)
    assert before["lots"] > 0
    db.session.remove()

    source = _libpq(database_url_under_test())
    dump = tmp_path / "gufei.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), source], check=True, timeout=120)
    name = f"gufei_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(sa.make_url(database_url_under_test()).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    target = sa.make_url(source).set(database=name).render_as_string(hide_password=False)
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)], check=True,
                       timeout=120)
        env = {**os.environ, "DATABASE_URL": target}
        out = subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "stats", "--json"],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120).stdout
        assert json.loads(out.strip().splitlines()[-1]) == before
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
