"""Configuration read from the environment, in one place."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("GUFEI_INSTANCE_PATH", ROOT / "instance"))


def database_url() -> str:
    """DATABASE_URL, or a SQLite file under instance/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the old driver; we use psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    INSTANCE.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE / 'gufei.sqlite'}"


def secret_key() -> str:
    """SECRET_KEY, or one generated once into instance/secret_key (never committed)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = INSTANCE / "secret_key"
    INSTANCE.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def audit_key() -> str:
    """AUDIT_KEY, or one generated once into instance/audit_key: the HMAC key of the audit chain, kept outside
    the database so that whoever can write the database cannot forge the chain (never committed)."""
    key = os.environ.get("AUDIT_KEY")
    if key:
        return key
    path = INSTANCE / "audit_key"
    INSTANCE.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Settings of a running app; tests override attributes through create_app(overrides)."""

    def __init__(self) -> None:
        self.SECRET_KEY = secret_key()
        self.AUDIT_KEY = audit_key()
        self.DATABASE_URL = database_url()
        self.REDIS_URL = os.environ.get("REDIS_URL") or None
        self.BABEL_DEFAULT_LOCALE = "zh_CN"
        # Every time a person reads (lists, deadlines, notifications, e-mails) is shown in this zone.
        self.BABEL_DEFAULT_TIMEZONE = os.environ.get("DISPLAY_TIMEZONE", "Asia/Shanghai")
        self.LANGUAGES = ("zh_CN", "en")
        self.UPLOAD_FOLDER = str(INSTANCE / "uploads")
        self.MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "16")) * 1024 * 1024
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_TIME_LIMIT = None
        self.LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
        self.LOGIN_WINDOW_MINUTES = int(os.environ.get("LOGIN_WINDOW_MINUTES", "15"))
        # Failures from one client address before it is held back (higher: offices share an address).
        self.LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "50"))
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (0: none, use the peer).
        self.TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))
        self.LOTS_PER_PAGE = 25
        self.SMTP_HOST = os.environ.get("SMTP_HOST") or None
        self.SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
        self.MAIL_FROM = os.environ.get("MAIL_FROM", "noreply@gufei.example")
        self.ROAD_NETWORK_GEOJSON = os.environ.get("ROAD_NETWORK_GEOJSON") or None
        self.MAP_TILE_URL = os.environ.get("MAP_TILE_URL") or None
        # Shown in the map's corner with MAP_TILE_URL; a tile provider's terms require it.
        self.MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION") or None
        self.ALLOCATION_DEADLINE_DAYS = int(os.environ.get("ALLOCATION_DEADLINE_DAYS", "7"))
        # Freight-rate overrides for the clearing and guidance, a JSON object of geo.rates.FreightRates fields,
        # e.g. {"rail_fixed_yuan_per_t": 18.0, "rail_yuan_per_tkm": 0.105}: the tariff defaults are unverified
        # (geo/data/README.md). Unknown fields stop the app at start-up.
        self.FREIGHT_RATES = json.loads(os.environ.get("FREIGHT_RATES") or "{}")
        # Celery clearing workers beat every third of this; a running run without a beat for this long is failed.
        self.CLEARING_HEARTBEAT_SECONDS = int(os.environ.get("CLEARING_HEARTBEAT_SECONDS", "60"))
        self.CLEARING_SWEEP_SECONDS = int(os.environ.get("CLEARING_SWEEP_SECONDS", "30"))
        # Periodic jobs (Celery beat, or a scheduler thread of the app process without REDIS_URL).
        self.ALLOCATION_EXPIRY_SECONDS = int(os.environ.get("ALLOCATION_EXPIRY_SECONDS", "300"))
        self.AUDIT_CHECKPOINT_SECONDS = int(os.environ.get("AUDIT_CHECKPOINT_SECONDS", "3600"))
        self.PERIODIC_JOBS_IN_THREAD = os.environ.get("PERIODIC_JOBS_IN_THREAD", "1") == "1"
        # A run still queued after this long (no worker took it) is failed by the sweep.
        self.CLEARING_QUEUED_TIMEOUT_SECONDS = int(os.environ.get("CLEARING_QUEUED_TIMEOUT_SECONDS", "600"))
        # Processes building and solving independent categories of one in-process run (Celery fans out itself).
        self.CLEARING_WORKERS = int(os.environ.get("CLEARING_WORKERS", "1"))
        # Without REDIS_URL a clearing runs in a worker thread of the app process (0: inside the request).
        # Price guidance shows a band only when this many organisations other than the viewer's compete.
        self.PRICE_GUIDANCE_MIN_BUYERS = int(os.environ.get("PRICE_GUIDANCE_MIN_BUYERS", "3"))
        # Guidance re-reads its category's market version at most this often (so it may lag a change by this).
        self.PRICE_GUIDANCE_VERSION_TTL_SECONDS = float(os.environ.get("PRICE_GUIDANCE_VERSION_TTL_SECONDS", "5"))
        # Lot search re-counts the lots matching one set of filters at most this often (the list itself is always
        # fresh; the total and the page links may lag a new or sold lot by this). 0: count every time.
        self.LOT_COUNT_TTL_SECONDS = float(os.environ.get("LOT_COUNT_TTL_SECONDS", "15"))
        self.JOBS_IN_THREAD = os.environ.get("JOBS_IN_THREAD", "1") == "1"
        # API rate limit per token, in Flask-Limiter notation ("300/minute;10000/day").
        self.API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "300/minute")
        # Requests per address with a missing, unknown or revoked bearer token (guessing tokens).
        self.API_BAD_TOKEN_RATE_LIMIT = os.environ.get("API_BAD_TOKEN_RATE_LIMIT", "30/minute")
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_HEADERS_ENABLED = True
        # Redis down: count in process memory (and log it) rather than fail the request; short timeouts so a
        # dead Redis costs milliseconds, not the socket default.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
        self.RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "gufei")

    def as_dict(self) -> dict:
        """The settings as a plain dict for app.config.from_mapping."""
        return dict(vars(self))
