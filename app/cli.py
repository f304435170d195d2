"""Flask CLI commands: create-admin, load-reference, seed-demo, stats."""
from __future__ import annotations

import json

import click
from flask import Flask

from app.extensions import db
from app.services import accounts, demo, reference, stats, translations
from app.services.errors import ServiceError


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", default="Administrator", show_default=True)
@click.password_option()
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create an administrator account."""
    try:
        user = accounts.create_admin(db.session, email, name, password)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Administrator {user.email} created.")


@click.command("load-reference")
def load_reference_command() -> None:
    """Load or update the waste catalogue, the bases and their targets."""
    reference.load_reference(db.session)
    click.echo("Catalogue and bases loaded.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the database has data.")
def seed_demo_command(if_empty: bool) -> None:
    """Seed the deterministic Heilongjiang demo into an empty database."""
    if not demo.is_empty(db.session):
        if if_empty:
            click.echo("Database already has data; demo not seeded.")
            return
        raise click.ClickException("the database is not empty; the demo is only seeded into an empty database")
    created = demo.seed_demo(db.session)
    click.echo(json.dumps(stats.counts(db.session)))
    click.echo(f"Demo accounts (password: {demo.DEMO_PASSWORD}):")
    for account in created:
        click.echo(f"  {account.email:28} {account.role:13} {account.organization}")


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def stats_command(as_json: bool) -> None:
    """Print counts of organisations, facilities, categories, lots, bids, demand profiles and bases."""
    counts = stats.counts(db.session)
    if as_json:
        click.echo(json.dumps(counts))
    else:
        for key, value in counts.items():
            click.echo(f"{key:16} {value}")


@click.group("translations")
def translations_group() -> None:
    """Keep the translation catalogues complete."""


@translations_group.command("fill-en")
def fill_english_command() -> None:
    """Copy source strings into the English catalogue."""
    click.echo(f"{translations.fill_english()} English entries filled.")


@translations_group.command("check")
def check_translations_command() -> None:
    """Exit non-zero listing entries without a translation."""
    gaps = {locale: translations.missing(locale) for locale in ("zh_CN", "en")}
    for locale, ids in gaps.items():
        for msgid in ids:
            click.echo(f"{locale}: {msgid}")
    if any(gaps.values()):
        raise click.ClickException("untranslated entries")
    click.echo("All catalogues complete.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (create_admin_command, load_reference_command, seed_demo_command, stats_command,
                    translations_group):
        app.cli.add_command(command)
