"""gunicorn settings for `make serve-prod`; every value can be overridden with GUNICORN_CMD_ARGS."""
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# Trust X-Forwarded-* only from a local reverse proxy.
forwarded_allow_ips = "127.0.0.1"
