"""Keyword search on PostgreSQL: time `lots.search` with keywords over a seeded market, with and without pg_trgm.

`python -m bench.search --lots 100000 --json` creates a scratch database (dropped afterwards unless --keep),
seeds bench.clearing's synthetic market, gives every lot a title in the page's generated form (category name,
tonnes, plant) and a short description in Chinese or English, then times one page (25 lots, ranked by
relevance, with the total count) of `app.services.lots.search` for a set of queries: the median of --repeat
runs, first with migration 0020's trigram GIN indexes and again after dropping them. The database comes from
BENCH_ADMIN_DATABASE_URL (an admin connection); nothing else is touched.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

import sqlalchemy as sa

from bench.clearing import seed
from bench.load import add_scratch_database_arguments, create_database, drop_database
from models import refresh_search_text

QUERIES = ("钢渣", "slag", "粉煤灰 干灰", "基准企业 12", "Plant 4711", "low moisture bagged", "没有这种东西")
DESCRIPTIONS = ("含水率低，袋装", "low moisture, bagged", "干灰，可分批提货", "wet, stockpiled outdoors",
                "化验单齐全", "assay certificates available")
TRIGRAM_INDEXES = ("ix_lots_search_text_trgm",)


def _texts(engine: sa.Engine) -> None:
    """Titles as the page generates them and a description from a small vocabulary."""
    statement = sa.text(
        "UPDATE lots SET title = wc.name_zh || ' ' || round(lots.tonnes)::text || ' 吨 · ' || f.name, "
        "description = (CAST(:texts AS text[]))[1 + lots.id % :n] "
        "FROM waste_categories wc, facilities f WHERE wc.id = lots.category_id AND f.id = lots.facility_id")
    with engine.begin() as c:
        c.execute(statement, {"texts": list(DESCRIPTIONS), "n": len(DESCRIPTIONS)})
        refresh_search_text(c, sa.true())
        c.execute(sa.text("ANALYZE"))


def _time(app, repeat: int) -> dict[str, dict]:
    from app.extensions import db
    from app.services import lots

    out = {}
    with app.test_request_context():
        for q in QUERIES:
            seconds, total = [], 0
            for _ in range(repeat):
                started = time.perf_counter()
                page = lots.search(db.session, lots.LotFilters(keyword=q, sort="relevance"), 1, 25)
                seconds.append(time.perf_counter() - started)
                total = page.total
            out[q] = {"median_ms": round(statistics.median(seconds) * 1000, 1), "found": total}
        db.session.remove()
    return out


def main(argv: list[str] | None = None) -> int:
    """Seed, time the queries with and without the trigram indexes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    add_scratch_database_arguments(parser)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex)
    os.environ.pop("REDIS_URL", None)
    name = f"gufei_bench_search_{uuid.uuid4().hex[:8]}"
    url = create_database(args.admin_url, name)
    try:
        seeded = seed(url, args.lots, 10, 20240501, "dense")
        from app import create_app
        from models import make_engine

        engine = make_engine(url)
        _texts(engine)
        app = create_app({"DATABASE_URL": url, "JOBS_IN_THREAD": False})
        with_indexes = _time(app, args.repeat)
        with engine.begin() as c:
            for index in TRIGRAM_INDEXES:
                c.execute(sa.text(f"DROP INDEX {index}"))
        without = _time(app, args.repeat)
        engine.dispose()
        result = {"lots": seeded["lots"], "with_trigram_indexes": with_indexes, "without": without}
        print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    finally:
        if not args.keep:
            drop_database(args.admin_url, name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
