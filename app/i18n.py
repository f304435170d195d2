"""Locale choice (the user's switch first, then the browser's languages) and times shown in one zone."""
from __future__ import annotations

import datetime as dt
import functools

import flask_babel
from babel import Locale, dates, support
from flask import Flask, Request, has_request_context, request, session, url_for
from flask_babel import format_datetime, get_locale, get_timezone
from wtforms.i18n import messages_path

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    """The locale for this request: an explicit choice, else the best Accept-Language match."""
    if not has_request_context():
        return "zh_CN"
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in LANGUAGE_NAMES:
        return chosen
    # Accept-Language uses zh-CN; the catalogues are named zh_CN.
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best is None:
        return "zh_CN"
    return "en" if best == "en" else "zh_CN"


def babel_locale() -> Locale:
    """select_locale's choice as Babel's Locale, parsed once per process: Flask-Babel would parse it again on every
    request, and Babel's parse checks the name against each of the ~800 locales it knows."""
    return _parsed_locale(select_locale())


@functools.cache
def _parsed_locale(name: str) -> Locale:
    return Locale.parse(name)


def zone_label(moment: dt.datetime | None = None) -> str:
    """The display time zone as its UTC offset, e.g. "UTC+8" for Asia/Shanghai."""
    moment = moment or dt.datetime.now(dt.UTC)
    offset = moment.astimezone(get_timezone()).utcoffset() or dt.timedelta(0)
    hours, rest = divmod(int(offset.total_seconds()) // 60, 60)
    return f"UTC{hours:+d}" + (f":{rest:02d}" if rest else "") if offset else "UTC"


def when(moment: dt.datetime | None, with_zone: bool = True) -> str:
    """A stored UTC time in the display zone (BABEL_DEFAULT_TIMEZONE), with the zone named."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # SQLite hands timestamps back naive; they were stored as UTC
        moment = moment.replace(tzinfo=dt.UTC)
    text = format_datetime(moment, "yyyy-MM-dd HH:mm")
    return f"{text} ({zone_label(moment)})" if with_zone else text


def parse_stored_time(value: str) -> dt.datetime | None:
    """A time kept as text in notification parameters (ISO 8601, or the older "… UTC" form), as aware UTC."""
    text = value.strip().removesuffix(" UTC")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def language_switch_url(code: str) -> str:
    """This page in another language, keeping its filters and page number (GET arguments)."""
    if request.endpoint is None or request.method != "GET":
        return f"{request.path}?lang={code}"
    query = request.args.copy()
    query.setlist("lang", [code])
    return url_for(request.endpoint, **(request.view_args or {}), **query.to_dict(flat=False))


def tonnes_text(value) -> str:
    """Tonnes as shown everywhere: thousands separated, up to the kilogram, no trailing zeros, e.g. "1,234.5 t"."""
    return f"{value:,.3f}".rstrip("0").rstrip(".") + " t"


def yuan_text(value) -> str:
    """Yuan as shown everywhere: "¥1,234.50", "-¥3.00"."""
    return ("-" if value < 0 else "") + f"¥{abs(value):,.2f}"


def dateformat(value, format=None):  # noqa: A002 - Flask-Babel's argument name
    """Flask-Babel's `dateformat` filter, with calendar dates (no time, so no zone) formatted once per locale and
    pattern: a list page formats one or two dates per row."""
    if type(value) is dt.date:
        pattern = flask_babel._get_format("date", format)  # the app's default pattern, as format_date picks it
        return _formatted_date(value, pattern, str(get_locale()))
    return flask_babel.format_date(value, format)


@functools.lru_cache(maxsize=8192)
def _formatted_date(value: dt.date, pattern: str, locale: str) -> str:
    return dates.format_date(value, pattern, locale=locale)


@functools.cache
def _wtforms_translations(locale: str):
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class AppRequest(Request):
    """Flask's request, giving Flask-WTF WTForms' message catalogue loaded once per locale and process (Flask-WTF
    itself reads and parses the catalogue file again on every request that validates a form)."""

    @property
    def wtforms_translations(self):
        """The WTForms catalogue of the request's locale (Flask-WTF's i18n reads this attribute)."""
        return _wtforms_translations(str(get_locale()))

    @wtforms_translations.setter
    def wtforms_translations(self, _value) -> None:
        pass  # Flask-WTF stores what it loaded; the shared catalogue is the same


def init_app(app: Flask) -> None:
    """Expose the display-zone time filter, the zone's label and the language switch to templates."""
    app.request_class = AppRequest
    app.jinja_env.filters["dateformat"] = dateformat
    app.add_template_global(tonnes_text, "tonnes_text")
    app.add_template_global(yuan_text, "yuan_text")
    app.add_template_global(language_switch_url, "language_switch_url")
    app.add_template_filter(when, "when")
    app.add_template_global(zone_label, "zone_label")
