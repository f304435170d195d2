"""Flask application factory of Gufei Exchange."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import flask_babel
from flask import Flask, abort, render_template, request, session
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix

import geo.network
from app import cli, i18n, jobs, labels, permissions
from app.extensions import babel, csrf, db, limiter, login_manager
from app.services import rollup
from app.settings import INSTANCE, Config


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages, commands."""
    app = Flask(__name__, instance_path=str(INSTANCE))
    app.config.from_mapping(Config().as_dict())
    if overrides:
        app.config.from_mapping(overrides)
    trust_proxies(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_context(app)
    register_input_guards(app)
    labels.init_app(app)
    i18n.init_app(app)
    cli.init_app(app)
    configure_logger(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS reverse proxies, take the client address and scheme from their headers."""
    hops = app.config.get("TRUSTED_PROXY_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_prefix=0)


def register_extensions(app: Flask) -> None:
    """Bind database, CSRF, login and translations to the app, and configure geography."""
    geo.network.configure_road_network(app.config["ROAD_NETWORK_GEOJSON"])
    geo.rates.resolve_rates(app.config.get("FREIGHT_RATES") or None)  # a misspelt rate field stops start-up
    db.init_app(app)
    rollup.listen()  # the dashboards' monthly rollup follows every commit of reports and declarations
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    babel.init_app(app, locale_selector=i18n.babel_locale)
    limiter.init_app(app)
    jobs.init_app(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per domain."""
    from app.admin.views import blueprint as admin
    from app.auth.views import blueprint as auth
    from app.facilities.views import blueprint as facilities
    from app.lots.views import blueprint as lots
    from app.public.views import blueprint as public

    for bp in (public, auth, lots, facilities, admin):
        app.register_blueprint(bp)
    from app.awards.views import blueprint as awards
    from app.bids.views import blueprint as bids
    from app.clearing.views import blueprint as clearing
    from app.notifications.views import blueprint as notifications
    from app.shipments.views import blueprint as shipments

    for bp in (bids, clearing, awards, shipments, notifications):
        app.register_blueprint(bp)
    from app.bases.views import blueprint as bases
    from app.seasonal.views import blueprint as seasonal

    app.register_blueprint(bases)
    app.register_blueprint(seasonal)
    from app.dispatch.views import blueprint as dispatch

    app.register_blueprint(dispatch)
    from app.exports.views import blueprint as exports
    from app.searches.views import blueprint as searches

    app.register_blueprint(searches)
    app.register_blueprint(exports)
    from app import api

    csrf.exempt(api.blueprint)  # bearer tokens, not cookies
    api.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    """Friendly, translated error pages from one handler."""
    titles = {
        400: lambda: _("Bad request"),
        403: lambda: _("You do not have permission to do that"),
        404: lambda: _("Page not found"),
        405: lambda: _("Method not allowed"),
        413: lambda: _("The upload is too large"),
        429: lambda: _("Too many attempts"),
        500: lambda: _("Something went wrong on our side"),
    }

    def render_error(error):
        from app import api

        if api.is_api_request():  # under /api/v1 every error is a problem+json document
            return api.from_exception(error)
        code = getattr(error, "code", 500) or 500
        if code == 500:
            db.session.rollback()
        title = titles.get(code, titles[500])()
        description = getattr(error, "description", None) if code != 500 else None
        if description == getattr(type(error), "description", None):
            description = None  # Werkzeug's stock English text: the translated title says it already
        return render_template("error.html", code=code, title=title, description=description), code

    for code in titles:
        app.register_error_handler(code, render_error)


def register_input_guards(app: Flask) -> None:
    """Refuse text no database column stores: a NUL character in a page's form or query is a 400, not a 500."""

    @app.before_request
    def refuse_nul_characters():
        from app import api

        if api.is_api_request():  # the API's schemas answer 422 for these
            return
        # Every value of a repeated key, not only the first that .values() gives.
        lists = [*request.args.lists(), *(request.form.lists() if request.method == "POST" else ())]
        if any("\x00" in value for _key, values in lists for value in values):
            abort(400, description=_("Text may not contain NUL characters; please remove them and try again."))


def register_template_context(app: Flask) -> None:
    """Values every template can use: the current locale, the language switch and what the user may open."""

    @app.context_processor
    def inject_locale():
        return {"current_locale": str(i18n.select_locale()), "languages": i18n.LANGUAGE_NAMES}

    @app.context_processor
    def inject_policy():
        # The navigation asks the pages' own policy guards instead of repeating role names.
        return {"may_open": permissions.may_open, "awaiting_verification": permissions.awaiting_verification}

    @app.before_request
    def remember_language_choice():
        chosen = request.args.get("lang")
        if chosen in i18n.LANGUAGE_NAMES and session.get("lang") != chosen:
            session["lang"] = chosen  # only on a change: a modified session is signed and sent back again
        # Flask-Babel caches the locale on the app context, which outlives a request in CLI jobs and tests.
        flask_babel.refresh()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'",
        )
        if app.config.get("SESSION_COOKIE_SECURE"):  # served over TLS only: browsers must never fall back to http
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def configure_logger(app: Flask) -> None:
    """Log to stderr at INFO unless in debug."""
    logging.basicConfig(level=logging.DEBUG if app.debug else logging.INFO)
