"""Load test: 100,000 lots in a scratch PostgreSQL database, gunicorn on loopback, 50 concurrent users.

`python -m bench.load --json` seeds the database (bulk insert: lots, plus ≥10k sealed bids — on one lot or
category-wide — and standing demand profiles from recycler organisations, so lot pages compute price
guidance), starts gunicorn on 127.0.0.1 only, signs every simulated user in as a recycler (guidance is only
shown to signed-in users), drives lot search (`/lots?...`) and lot pages (`/lots/<id>`) from a bounded thread
pool (keep-alive http.client, at most --seconds and --max-requests) and prints requests/s, p50/p95/p99 and
errors as JSON, with the CPU per request of gunicorn (master and workers, from /proc: robust to other load on
the machine, unlike latencies) and of the driver itself. Targets: p95 ≤ 150 ms, zero errors. The scratch
database (unique name, created through BENCH_ADMIN_DATABASE_URL) is dropped afterwards (--keep to keep it); the
port is BENCH_PORT or a free one.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 150.0
PREFECTURES = ("230100", "230200", "230300", "230400", "230500", "230600", "230700", "230800", "230900",
               "231000", "231100", "231200", "232700")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_scratch_database_arguments(parser) -> None:
    """--admin-url (where scratch databases are made) and --keep, alike for every PostgreSQL bench."""
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_DATABASE_URL",
                                                              "postgresql+psycopg://postgres@127.0.0.1/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")


def create_database(admin_url: str, name: str) -> str:
    """Create an empty scratch database and return its URL."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    """Drop the scratch database."""
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


BENCH_PASSWORD = "bench-load-password"  # noqa: S105 - scratch accounts of a scratch database


def inside_service_area(lon, lat):
    """The generator's province box reaches beyond the service area the app accepts: pull those points in."""
    import numpy as np

    from geo.coords import in_service_area

    outside = ~in_service_area(lon, lat)
    lon, lat = lon.copy(), lat.copy()
    # Halfway towards Harbin until inside (a few steps at most).
    while outside.any():
        lon[outside] = (lon[outside] + 126.63) / 2
        lat[outside] = (lat[outside] + 45.75) / 2
        outside = ~in_service_area(lon, lat)
    return np.asarray(lon), np.asarray(lat)


def seed_demand(connection, categories: list[int], n_lots: int, n_bids: int, n_profiles: int, n_users: int,
                rng) -> dict:
    """Recycler organisations with facilities, sealed bids, demand profiles and the users that sign in."""
    from werkzeug.security import generate_password_hash

    from models import Bid, DemandProfile, Facility, Organization, OrganizationRole, User
    from models.credit_code import make_credit_code

    now = dt.datetime.now(dt.UTC)
    n_orgs = max(n_users, 200)
    connection.execute(Organization.__table__.insert(), [
        {"name": f"负载测试回收企业 {k}", "credit_code": make_credit_code(f"91230100LR{k:07d}"), "verified": True,
         "is_demo": False, "created_at": now, "updated_at": now} for k in range(n_orgs)])
    org_ids = connection.execute(sa.select(Organization.id).where(Organization.name.like("负载测试回收企业 %"))
                                 .order_by(Organization.id)).scalars().all()
    connection.execute(OrganizationRole.__table__.insert(), [{"organization_id": o, "role": "recycler"}
                                                              for o in org_ids])
    # Facilities the app would accept: points of the spread outside the service area pulled in.
    lon, lat = inside_service_area(126.6 + rng.normal(0, 1.2, n_orgs), 45.8 + rng.normal(0, 0.8, n_orgs))
    connection.execute(Facility.__table__.insert(), [
        {"organization_id": org_ids[k], "name": f"Recycler {k}", "kind": "recycler", "lon": float(lon[k]),
         "lat": float(lat[k]), "input_crs": "wgs84", "prefecture_code": PREFECTURES[k % len(PREFECTURES)],
         "in_province": True, "large_producer": False, "max_haul_km": 300, "created_at": now, "updated_at": now}
        for k in range(n_orgs)])
    plants = connection.execute(sa.select(Facility.id, Facility.organization_id).where(Facility.kind == "recycler")
                                .order_by(Facility.id)).all()
    password = generate_password_hash(BENCH_PASSWORD)
    connection.execute(User.__table__.insert(), [
        {"organization_id": org_ids[k], "email": f"load{k}@bench.example", "name": f"Load {k}", "locale": None,
         "password_hash": password, "role": "recycler", "active": True, "created_at": now, "updated_at": now}
        for k in range(n_users)])
    lot_ids = connection.execute(sa.select(sa.text("id, category_id")).select_from(sa.text("lots"))).all()
    rows = []
    for k in range(n_bids):
        facility_id, _org = plants[k % len(plants)]
        on_lot = k % 2 == 0  # half on one lot, half category-wide within the facility's haul
        lot_id, category_id = lot_ids[int(rng.integers(len(lot_ids)))]
        rows.append({"facility_id": facility_id, "lot_id": lot_id if on_lot else None,
                     "category_id": category_id if on_lot else categories[k % len(categories)],
                     "price_yuan_per_t": f"{rng.uniform(20, 160):.2f}", "tonnes": f"{rng.uniform(50, 5000):.3f}",
                     "max_haul_km": None, "status": "active", "created_at": now, "updated_at": now})
    connection.execute(Bid.__table__.insert(), rows)
    start = dt.date.today() - dt.timedelta(days=30)
    connection.execute(DemandProfile.__table__.insert(), [
        {"facility_id": plants[k % len(plants)][0], "category_id": categories[k % len(categories)],
         "tonnes": f"{rng.uniform(500, 20000):.3f}", "price_yuan_per_t": f"{rng.uniform(20, 160):.2f}",
         "period_start": start, "period_end": start + dt.timedelta(days=365), "max_haul_km": None,
         "quality_limits": {}, "active": True, "created_at": now, "updated_at": now} for k in range(n_profiles)])
    return {"recyclers": n_orgs, "bids": n_bids, "profiles": n_profiles, "users": n_users}


def seed(url: str, n_lots: int, seed_value: int = 7, n_bids: int = 10_000, n_profiles: int = 2_000,
         n_users: int = 50) -> dict:
    """Migrate with Alembic, load the catalogue, then bulk-insert organisations, facilities and lots."""
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("alembic")), "upgrade", "head"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    migrate_s = time.perf_counter() - started
    from app.services.reference import load_reference
    from models import Facility, Lot, Organization, WasteCategory, make_engine
    from models.credit_code import make_credit_code

    engine = make_engine(url)
    with engine.begin() as connection:  # indexes the models declare ahead of their migration
        for table in (Lot.__table__, Facility.__table__):
            for index in table.indexes:
                index.create(connection, checkfirst=True)
    rng = np.random.default_rng(seed_value)
    started = time.perf_counter()
    with sa.orm.Session(engine) as session:
        load_reference(session)
        session.commit()
        categories = session.scalars(sa.select(WasteCategory.id)).all()
    n_orgs = max(1, n_lots // 50)
    with engine.begin() as connection:
        now = dt.datetime.now(dt.UTC)
        connection.execute(Organization.__table__.insert(), [
            {"name": f"负载测试企业 {k}", "credit_code": make_credit_code(f"91230100LD{k:07d}"), "verified": True,
             "is_demo": False, "created_at": now, "updated_at": now} for k in range(n_orgs)])
        org_ids = connection.execute(sa.select(Organization.id).order_by(Organization.id)).scalars().all()
        lon, lat = inside_service_area(126.6 + rng.normal(0, 1.2, n_orgs), 45.8 + rng.normal(0, 0.8, n_orgs))
        connection.execute(Facility.__table__.insert(), [
            {"organization_id": org_ids[k], "name": f"Plant {k}", "kind": "producer", "lon": float(lon[k]),
             "lat": float(lat[k]), "input_crs": "wgs84", "prefecture_code": PREFECTURES[k % len(PREFECTURES)],
             "in_province": True, "large_producer": False} for k in range(n_orgs)])
        facility_ids = connection.execute(sa.select(Facility.id)).scalars().all()
        tonnes = np.round(rng.lognormal(6, 1, n_lots), 3) + 1
        start = dt.date(2026, 1, 1)
        for chunk in range(0, n_lots, 10_000):
            rows = []
            for k in range(chunk, min(n_lots, chunk + 10_000)):
                t = f"{tonnes[k]:.3f}"
                rows.append({
                    "facility_id": facility_ids[k % len(facility_ids)], "category_id": categories[k % len(categories)],
                    "title": f"Lot {k}", "tonnes": t, "remaining_tonnes": t, "reserve_yuan_per_t": f"{k % 90 - 20}.00",
                    "available_from": start + dt.timedelta(days=k % 365), "quality": {}, "status": "open"})
            connection.execute(Lot.__table__.insert(), rows)
        demand = seed_demand(connection, list(categories), n_lots, n_bids, n_profiles, n_users, rng)
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()
    return {"migrate_s": round(migrate_s, 2), "seed_s": round(time.perf_counter() - started, 2),
            "lots": n_lots, "organisations": n_orgs, "categories": len(categories), **demand}


def category_codes(url: str) -> list[str]:
    """The catalogue's category codes (for search URLs)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        codes = connection.execute(sa.text("SELECT code FROM waste_categories ORDER BY id")).scalars().all()
        max_id = connection.execute(sa.text("SELECT max(id) FROM lots")).scalar()
    engine.dispose()
    return codes, max_id


def start_gunicorn(url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    """gunicorn on 127.0.0.1 only, with the app's gunicorn.conf.py; waits until it answers."""
    env = {**os.environ, "DATABASE_URL": url, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers),
           "GUNICORN_THREADS": str(threads), "SECRET_KEY": os.environ.get("SECRET_KEY", uuid.uuid4().hex),
           "GUNICORN_CMD_ARGS": "--access-logfile /dev/null"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--config", "gunicorn.conf.py",
                                "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/lots")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not start: " + (process.stderr.read() or b"").decode()[-2000:])


def make_urls(codes: list[str], max_id: int, n: int, rng: random.Random) -> list[tuple[str, str]]:
    """A mix of searches (filters, sorts, deep pages) and lot pages."""
    urls = []
    sorts = ("newest", "tonnes_desc", "tonnes_asc", "reserve_asc", "available")  # app.services.lots.SORTS
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            urls.append(("lot", f"/lots/{rng.randint(1, max_id)}"))
        elif r < 0.75:
            urls.append(("search", f"/lots?category={rng.choice(codes)}&sort={rng.choice(sorts)}"
                                   f"&page={rng.randint(1, 20)}&lang=en"))
        elif r < 0.9:
            urls.append(("search", f"/lots?prefecture={rng.choice(PREFECTURES)}&min_tonnes={rng.randint(0, 500)}"
                                   f"&page={rng.randint(1, 5)}"))
        else:
            urls.append(("search", f"/lots?page={rng.randint(1, 200)}"))
    return urls


def sign_in(connection: http.client.HTTPConnection, email: str) -> str:
    """Sign in through the login form; returns the session cookie to send with every request."""
    import re
    from urllib.parse import urlencode

    connection.request("GET", "/login")
    response = connection.getresponse()
    page = response.read().decode()
    cookie = "; ".join(c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or [])
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page)
    body = urlencode({"csrf_token": token.group(1) if token else "", "email": email, "password": BENCH_PASSWORD})
    connection.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = connection.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"sign-in of {email} answered {response.status}")
    return "; ".join(c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []) or cookie


def server_cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system) of gunicorn's master and live workers, from /proc (Linux only; None elsewhere).
    Robust to other load on the machine, unlike latencies; a worker recycled mid-run loses its share."""
    if pid is None or not os.path.exists(f"/proc/{pid}/stat"):
        return None
    pids, total = [pid], 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        pids += [int(c) for c in children]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def drive(port: int, urls: list[tuple[str, str]], users: int, seconds: float, think_s: float = 0.0,
          server_pid: int | None = None) -> dict:
    """Closed-loop load: `users` threads with keep-alive connections, each pausing `think_s` between requests."""
    lock = threading.Lock()
    cursor = iter(range(len(urls)))
    accounts = iter(range(10**9))
    latencies: dict[str, list[float]] = {"lot": [], "search": []}
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def user():
        with lock:
            number = next(accounts)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        cookie = sign_in(connection, f"load{number % max(1, users)}@bench.example")
        while time.monotonic() < deadline:
            with lock:
                k = next(cursor, None)
            if k is None:
                return
            kind, url = urls[k]
            started = time.perf_counter()
            try:
                connection.request("GET", url, headers={"Cookie": cookie} if cookie else {})
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = f"{type(exc).__name__}"
            elapsed = (time.perf_counter() - started) * 1000
            if think_s:
                time.sleep(think_s)
            with lock:
                if status == 200 or (kind == "lot" and status == 404):
                    latencies[kind].append(elapsed)
                else:
                    errors.append(f"{status} {url}")

    started, cpu_started, server_started = time.perf_counter(), time.process_time(), server_cpu_seconds(server_pid)
    threads = [threading.Thread(target=user) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    every = latencies["lot"] + latencies["search"]
    # The driver shares the machine's cores with the server: its own CPU per request says whether it is a
    # bottleneck itself (sign-ins included).
    driver_ms = (time.process_time() - cpu_started) * 1000 / max(1, len(every) + len(errors))
    server_ended = server_cpu_seconds(server_pid)
    server_ms = ((server_ended - server_started) * 1000 / max(1, len(every) + len(errors))
                 if server_started is not None and server_ended is not None else None)
    return {"requests": len(every) + len(errors), "seconds": round(wall, 2),
            "driver_cpu_ms_per_request": round(driver_ms, 2),
            "server_cpu_ms_per_request": round(server_ms, 2) if server_ms is not None else None,
            "requests_per_s": round((len(every) + len(errors)) / wall, 1), "errors": len(errors),
            "error_samples": errors[:5], **_percentiles(every),
            "by_kind": {kind: {"requests": len(v), **_percentiles(v)} for kind, v in latencies.items()}}


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50_ms": round(float(p50), 1), "p95_ms": round(float(p95), 1), "p99_ms": round(float(p99), 1)}


def main(argv: list[str] | None = None) -> int:
    """Seed, serve, drive, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--bids", type=int, default=10_000)
    parser.add_argument("--profiles", type=int, default=2_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--think", type=float, default=1.0, help="seconds each user waits between requests")
    # gunicorn.conf.py's defaults: one process per core (at least 2), 8 threads each.
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 1))
    parser.add_argument("--threads", type=int, default=8)
    add_scratch_database_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print only the JSON figures")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex)
    name = f"gufei_load_{uuid.uuid4().hex[:8]}"
    url = create_database(args.admin_url, name)
    server = None
    try:
        seeded = seed(url, args.lots, n_bids=args.bids, n_profiles=args.profiles, n_users=args.users)
        codes, max_id = category_codes(url)
        port = int(os.environ.get("BENCH_PORT") or _free_port())
        server = start_gunicorn(url, port, args.workers, args.threads)
        urls = make_urls(codes, max_id, args.max_requests, random.Random(11))  # noqa: S311 - load mix, not secrets
        drive(port, urls[:200], min(args.users, 10), 10)  # warm-up: imports, connection pools, caches
        figures = drive(port, urls, args.users, args.seconds, args.think, server_pid=server.pid)
        figures["saturation"] = drive(port, urls[::-1], args.users, min(args.seconds, 15),  # no think time
                                      server_pid=server.pid)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        if not args.keep:
            drop_database(args.admin_url, name)
    result = {"benchmark": "load", "database": "postgresql", "seed": seeded, "users": args.users,
              "think_s": args.think,
              "gunicorn": {"workers": args.workers, "threads": args.threads, "bind": "127.0.0.1"},
              "cpus": os.cpu_count(), **figures,
              "target_p95_ms": TARGET_P95_MS,
              "meets_target": figures["errors"] == 0 and (figures["p95_ms"] or 1e9) <= TARGET_P95_MS}
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
