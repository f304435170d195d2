"""gunicorn settings for `make serve-prod`; every value can be overridden with GUNICORN_CMD_ARGS."""
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# One process per core, threads within it: the work is CPU-bound Python (templates, price guidance) under the
# GIL, and every process keeps its own caches (guidance demands, market versions, lot counts, compiled
# templates) that it must first fill. On 2 cores (shared, so noisy), 2 × 8 spent 33-37 ms server CPU per
# bench.load request where the classic 2 × cores + 1 = 5 × 4 spent 37-50 ms (five processes warming their own
# caches) and served fewer requests at saturation. Threads cover the waits on PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (slow leaks never accumulate), staggered so they never restart together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
# Heartbeat files in memory: a container's overlay filesystem can stall gunicorn's worker checks.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn heartbeat files only
accesslog = "-"
errorlog = "-"
# Trust X-Forwarded-* only from a local reverse proxy.
forwarded_allow_ips = "127.0.0.1"


def on_starting(server):
    """Work out the built-in road table, railheads and service area once, in the master (geo only: no app, no
    database): forked workers share them copy-on-write instead of each paying seconds of shortest paths on its
    first lot pages. A deployment's own road GeoJSON is still loaded by the workers that configure it."""
    from geo.coords import service_area
    from geo.network import osm_road_network
    from geo.rail import rail_network

    osm_road_network().table()
    rail_network()
    service_area()


# The collector's thresholds in a worker (Python's default: 700, 10, 10). What requests leave behind — the
# category demand lists and offers that price guidance caches, compiled queries — grows the objects a full
# collection walks; by default one ran every few seconds under bench.load and paused every thread for 40-145 ms.
# A young generation of 20,000 objects makes collections a few times rarer (each young one still takes ~1 ms).
GC_THRESHOLDS = (20_000, 10, 10)


def post_worker_init(worker):
    """Move everything the worker holds once started (the app, the road and rail tables inherited from the master)
    out of the garbage collector's view: a full collection otherwise walks those ~400,000 objects and stops every
    thread of the process for about 200 ms, a few times a minute under load (measured on the bench's lot pages).
    Objects made afterwards are still collected as usual."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
