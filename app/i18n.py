"""Locale choice: the user's switch first, then the browser's languages."""
from __future__ import annotations

from flask import has_request_context, request, session

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
