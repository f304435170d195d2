"""Benchmark the base-dashboard queries on PostgreSQL with five years of monthly reports (JSON out).

    python -m bench.dashboard --json [--facilities 2000 --categories 25 --years 5 --admin-url URL --keep]

Creates its own uniquely named database (dropped at the end unless --keep), bulk-loads the rows with COPY, builds
the rollups, times each dashboard query (median of --runs) against the 200 ms target, and the province's year
(monthly rollup) and a base's top producers (yearly facility rollup; min and median) against 100 ms, each with
the same figures computed from the raw rows as the peer and checked equal; and compares with pandas computing
the same year table from a full table read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
import uuid
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
import sqlalchemy.orm as so

import models
from app.services import generation_reports, rollup, utilisation
from app.services.utilisation import Scope
from bench.load import add_scratch_database_arguments, create_database, drop_database

TARGET_MS = 200.0
# The province's year from the monthly rollup, and a base's top producers from the yearly facility rollup.
PROVINCE_TARGET_MS = 100.0
PREFECTURES = (
    "230100",
    "230200",
    "230300",
    "230400",
    "230500",
    "230600",
    "230700",
    "230800",
    "230900",
    "231000",
    "231100",
    "231200",
    "232700",
)
BASES = (("daqing", "230600"), ("jixi", "230300"), ("qiqihar", "230200"), ("qitaihe", "230900"))


def _url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def _copy(connection: sa.Connection, table: str, columns: list[str], rows) -> None:
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(engine: sa.Engine, facilities: int, categories: int, years: int, seed: int = 7) -> dict:
    """Create the tables in the scratch database and bulk-load the synthetic data; return counts and seconds."""
    started = time.perf_counter()
    rng = random.Random(seed)
    # The database is the bench's own, so the tables live in its public schema: DDL that names a table (the
    # audit trigger) finds it there.
    mapped = engine
    models.Base.metadata.create_all(mapped)
    now = dt.datetime.now(dt.UTC)
    with mapped.begin() as connection:
        _copy(
            connection,
            "bases",
            ["id", "code", "name_zh", "name_en", "prefecture_code"],
            [(i + 1, code, code, code, pref) for i, (code, pref) in enumerate(BASES)],
        )
        connection.execute(
            sa.insert(models.BaseTarget.__table__),
            [{"base_id": None, "family": "bulk_industrial", "year": 2025, "target_rate": Decimal("0.6")}],
        )
        _copy(
            connection,
            "waste_categories",
            [
                "id",
                "code",
                "name_zh",
                "name_en",
                "family",
                "hazardous",
                "env_tax_yuan_per_t",
                "env_tax_source",
                "freight_class",
                "co2_avoided_t_per_t",
                "co2_source",
                "co2_is_estimate",
                "quality_fields",
            ],
            [
                (
                    i + 1,
                    f"c{i}",
                    f"类{i}",
                    f"cat {i}",
                    "bulk_industrial" if i < 10 else "low_value",
                    False,
                    25,
                    "bench",
                    "bulk",
                    0.3,
                    "bench",
                    False,
                    "[]",
                )
                for i in range(categories)
            ],
        )
        _copy(
            connection,
            "organizations",
            ["id", "name", "credit_code", "verified", "is_demo", "created_at", "updated_at"],
            [(1, "bench", "X" * 18, True, True, now, now)],
        )
        base_of = {pref: i + 1 for i, (_c, pref) in enumerate(BASES)}
        facility_rows = []
        for f in range(1, facilities + 1):
            pref = PREFECTURES[f % len(PREFECTURES)]
            facility_rows.append(
                (
                    f,
                    1,
                    f"plant {f}",
                    "producer",
                    126.0 + rng.random(),
                    46.0 + rng.random(),
                    "wgs84",
                    pref,
                    base_of.get(pref),
                    True,
                    f % 50 == 0,
                    now,
                    now,
                )
            )
        _copy(
            connection,
            "facilities",
            [
                "id",
                "organization_id",
                "name",
                "kind",
                "lon",
                "lat",
                "input_crs",
                "prefecture_code",
                "base_id",
                "in_province",
                "large_producer",
                "created_at",
                "updated_at",
            ],
            facility_rows,
        )
        first_year = 2025 - years + 1

        def report_rows():
            for f in range(1, facilities + 1):
                for c in range(1, categories + 1):
                    scale = rng.uniform(50, 500)
                    for y in range(first_year, first_year + years):
                        for m in range(1, 13):
                            gen = round(scale * rng.uniform(0.8, 1.2), 3)
                            used = round(gen * rng.uniform(0.3, 0.8), 3)
                            storage = round(gen * rng.uniform(0, 0.05), 3)
                            yield (
                                f,
                                c,
                                dt.date(y, m, 1),
                                gen,
                                round(gen - used, 3),
                                used + storage,
                                0,
                                storage,
                                now,
                                now,
                            )

        _copy(
            connection,
            "generation_reports",
            [
                "facility_id",
                "category_id",
                "period",
                "generated_t",
                "stored_t",
                "self_utilised_t",
                "disposed_t",
                "from_storage_t",
                "created_at",
                "updated_at",
            ],
            report_rows(),
        )
        _copy(
            connection,
            "utilisation_records",
            ["facility_id", "category_id", "source_facility_id", "product", "tonnes", "period", "declared_at"],
            (
                (
                    rng.randint(1, facilities),
                    rng.randint(1, categories),
                    rng.randint(1, facilities),
                    "cement",
                    round(rng.uniform(10, 300), 3),
                    dt.date(rng.randint(first_year, 2025), rng.randint(1, 12), 1),
                    now,
                )
                for _ in range(facilities * 10)
            ),
        )
    # VACUUM as autovacuum would after a bulk load: it sets the visibility map index-only scans rely on.
    with mapped.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("generation_reports", "facilities", "utilisation_records"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
    rows = facilities * categories * years * 12
    loaded_s = round(time.perf_counter() - started, 2)
    # COPY bypasses the ORM, so the rollup is built the way `flask rebuild-rollup` builds it, and timed.
    started = time.perf_counter()
    with so.Session(mapped) as session:
        rollup_rows = rollup.rebuild(session)
        session.commit()
    with mapped.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("utilisation_rollup", "facility_year_rollup"):
            connection.execute(sa.text(f"VACUUM ANALYZE {table}"))
    return {"rows": rows, "load_s": loaded_s, "rollup_rows": rollup_rows,
            "rollup_rebuild_s": round(time.perf_counter() - started, 2)}


def _min_median_ms(fn, runs: int) -> tuple[float, float]:
    fn()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(min(times), 2), round(statistics.median(times), 2)


def _median_ms(fn, runs: int) -> float:
    return _min_median_ms(fn, runs)[1]


def time_queries(engine: sa.Engine, runs: int, base_code: str = "daqing", year: int = 2025) -> dict:
    """Median ms of each dashboard query for one base and year."""
    with so.Session(engine) as session:
        base = session.scalar(sa.select(models.ResourceBase).where(models.ResourceBase.code == base_code))
        scope = Scope("base", base=base)
        y0, y1 = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        queries = {
            "base_rollup_year": lambda: utilisation.rollup_sums(session, scope, y0, y1),
            "market_sums_year": lambda: utilisation.market_sums(session, scope, y0, y1),
            "base_rollup_24_months": lambda: utilisation.rollup_sums(session, scope, dt.date(year - 1, 1, 1), y1),
            "storage_warnings": lambda: utilisation.storage_warnings(
                session, scope, dt.date(year, 12, 1), utilisation.categories_by_id(session), "en"
            ),
            "top_producers": lambda: utilisation.top_producers(session, scope, year),
            "top_recyclers": lambda: utilisation.top_recyclers(session, scope, year),
            "flows": lambda: utilisation.flows(session, scope, year),
            "missing_reporters": lambda: generation_reports.missing_reporters(session, base.id, dt.date(year, 12, 1)),
            "province_rollup_year": lambda: utilisation.rollup_sums(session, Scope("province"), y0, y1),
        }
        timings = {name: _median_ms(fn, runs) for name, fn in queries.items()}
        # The peer: the same province year computed from the raw rows (the query the dashboards ran before).
        direct_ms = _median_ms(lambda: utilisation.report_sums(session, Scope("province"), y0, y1), runs)
        same = (utilisation.rollup_sums(session, Scope("province"), y0, y1)
                == utilisation.report_sums(session, Scope("province"), y0, y1))
        year_table_ms = _median_ms(lambda: utilisation.year_table(session, scope, year), runs)
        # The base's top producers from the yearly facility rollup, against the same table from the raw rows.
        top_ms = _min_median_ms(lambda: utilisation.top_producers(session, scope, year), runs)
        top_direct_ms = _min_median_ms(lambda: utilisation.top_producers_direct(session, scope, year), runs)
        top_same = (utilisation.top_producers(session, scope, year)
                    == utilisation.top_producers_direct(session, scope, year))

        def pandas_peer():
            columns = "r.category_id, r.period, r.generated_t, r.self_utilised_t, r.from_storage_t, f.base_id"
            tables = "generation_reports r JOIN facilities f ON f.id = r.facility_id"
            query = f"SELECT {columns} FROM {tables}"  # noqa: S608 - constant text
            frame = pd.read_sql(sa.text(query), session.connection())
            frame = frame[(frame.base_id == base.id) & (pd.to_datetime(frame.period).dt.year == year)]
            sums = frame.groupby("category_id")[["generated_t", "self_utilised_t", "from_storage_t"]].sum()
            return sums.self_utilised_t / (sums.generated_t + sums.from_storage_t)

        pandas_ms = _median_ms(pandas_peer, max(1, min(runs, 3)))
    return {
        "province_query_ms": timings["province_rollup_year"],
        "province_direct_peer_ms": direct_ms,
        "province_direct_over_rollup_ratio": round(direct_ms / max(timings["province_rollup_year"], 0.01), 1),
        "province_rollup_equals_direct": same,
        "province_within_100ms": timings["province_rollup_year"] <= PROVINCE_TARGET_MS,
        "top_producers_ms": {"min": top_ms[0], "median": top_ms[1]},
        "top_producers_direct_peer_ms": {"min": top_direct_ms[0], "median": top_direct_ms[1]},
        "top_producers_equals_direct": top_same,
        "top_producers_within_100ms": top_ms[1] <= PROVINCE_TARGET_MS,
        "queries_ms": timings,
        "year_table_ms": year_table_ms,
        "pandas_full_read_ms": pandas_ms,
        "pandas_over_sql_ratio": round(pandas_ms / max(year_table_ms, 0.01), 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Load, time, print JSON, drop the scratch database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=2000)
    parser.add_argument("--categories", type=int, default=25)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    add_scratch_database_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default output anyway)")
    args = parser.parse_args(argv)
    name = f"bench_dashboard_{uuid.uuid4().hex[:10]}"  # its own database, dropped at the end
    engine = sa.create_engine(_url(create_database(_url(args.admin_url), name)))
    try:
        loaded = load(engine, args.facilities, args.categories, args.years)
        timed = time_queries(engine, args.runs)
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(_url(args.admin_url), name)
    worst = max(timed["queries_ms"].values())
    print(
        json.dumps(
            {
                "benchmark": "dashboard",
                "database": name,
                "facilities": args.facilities,
                "categories": args.categories,
                "years": args.years,
                **loaded,
                **timed,
                "target_ms": TARGET_MS,
                "worst_query_ms": worst,
                "all_within_target": worst <= TARGET_MS,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
