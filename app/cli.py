"""Flask CLI commands: create-admin, create-token, load-reference, seed-demo, stats, match run/expire, audit
verify/checkpoint/rechain, data check, utilisation and rebuild-rollup."""
from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from app.services import accounts, demo, reference, stats, translations
from app.services.errors import ServiceError
from models import AuditEvent


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


@click.command("invite-official")
@click.option("--email", required=True)
@click.option("--name", required=True, help="The official's name.")
@click.option("--role", type=click.Choice(["regulator", "base_officer"]), required=True)
@click.option("--organization", "organization_name", required=True, help="The agency's name.")
@click.option("--credit-code", required=True, help="The agency's unified social credit code.")
@click.option("--base", "base_code", help="A base officer's base (daqing, jixi, qiqihar, qitaihe).")
def invite_official_command(email: str, name: str, role: str, organization_name: str, credit_code: str,
                            base_code: str | None) -> None:
    """Create a regulator's or base officer's account and print its one-time password."""
    try:
        user, password = accounts.invite_official(db.session, None, accounts.Invitation(
            organization_name=organization_name, credit_code=credit_code, role=role, user_name=name, email=email,
            base_code=base_code))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{user.email} ({user.role}) invited. One-time password, pass it on privately: {password}")


@click.command("load-reference")
def load_reference_command() -> None:
    """Load or update the waste catalogue, the bases and their targets (and fill an empty utilisation rollup)."""
    from app.services import rollup

    reference.load_reference(db.session)
    click.echo("Catalogue and bases loaded.")
    if rollup.fill_if_missing(db.session):
        click.echo("Utilisation rollup built from the existing reports.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when the database has data.")
def seed_demo_command(if_empty: bool) -> None:
    """Seed the deterministic Heilongjiang demo into an empty database."""
    if not demo.is_empty(db.session):
        if if_empty:
            from app.services import rollup

            click.echo("Database already has data; demo not seeded.")
            if rollup.fill_if_missing(db.session):
                click.echo("Utilisation rollup built from the existing reports.")
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


@click.group("match")
def match_group() -> None:
    """Clearing: run the market, expire unanswered allocations."""


@match_group.command("run")
@click.option("--category", "category_code", default=None, help="Clear one category (its code) only.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def match_run_command(category_code: str | None, as_json: bool) -> None:
    """Run a clearing now, in this process, and print its totals."""
    from app.services import clearing

    try:
        run = clearing.start_clearing(db.session, None, category_code,
                                      enqueue=lambda run_id: _run_inline(clearing, run_id))
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.refresh(run)
    summary = clearing.run_summary(db.session, run)
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"run {summary['run_id']}: {summary['status']}, {len(summary['allocations'])} allocations, "
                   f"{summary['tonnes_matched']:.3f} t, transport {summary['transport_cost_yuan']:.2f} yuan, "
                   f"surplus {summary['surplus_yuan']:.2f} yuan, {summary['seconds']:.2f} s")
    if run.status != "succeeded":
        raise SystemExit(1)


def _run_inline(clearing, run_id: int) -> str:
    clearing.execute_run(db.session, run_id)
    return f"cli-{run_id}"


@match_group.command("expire")
def match_expire_command() -> None:
    """Expire allocations past their deadline and give their tonnes back to the lots."""
    from app.services import awards

    click.echo(f"{awards.expire_overdue(db.session)} allocations expired.")


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify_command() -> None:
    """Check the hash chain; exit non-zero naming the first bad event."""
    from app.services import audit

    problem = audit.verify(db.session)
    if problem is None:
        count = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
        click.echo(f"Audit chain intact ({count} events).")
        return
    click.echo(f"Audit chain broken at event {problem.event_id}: {problem.reason}", err=True)
    raise SystemExit(1)


@audit_group.command("checkpoint")
def audit_checkpoint_command() -> None:
    """Sign the chain's current head (run periodically): later truncation or rewriting then fails verify."""
    from app.services import audit

    mark = audit.checkpoint(db.session)
    click.echo(f"Checkpoint at event {mark.event_id} ({mark.event_count} events)." if mark else "No events yet.")


@audit_group.command("rechain")
@click.option("--by", "email", required=True, help="E-mail of the administrator doing it (named in the audit event).")
@click.option("--force", is_flag=True, help="Re-chain although checkpoints signed the chain or events fail to verify.")
def audit_rechain_command(email: str, force: bool) -> None:
    """Re-hash a chain recorded before AUDIT_KEY existed under the key, in order; records an event and a checkpoint."""
    from app.services import audit
    from models import User

    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    try:
        done = audit.rechain(db.session, user, force=force)
    except (audit.RechainRefused, ServiceError) as exc:
        raise click.ClickException(str(exc)) from exc
    except sa.exc.DBAPIError as exc:  # rolled back whole; typically a role that does not own audit_events
        db.session.rollback()
        raise click.ClickException(f"nothing was changed: the database refused ({exc.orig}); on PostgreSQL run this "
                                   "as the role that owns audit_events") from exc
    click.echo(f"Re-chained {done.events} events under the key ({done.legacy} recorded unkeyed, {done.keyed} "
               f"already keyed, {len(done.unverified)} unverified, {done.superseded_checkpoints} checkpoints "
               f"superseded); recorded as event {done.head_event_id} and signed.")


@click.group("data")
def data_group() -> None:
    """Checks of the stored data."""


@data_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def data_check_command(as_json: bool) -> None:
    """List rows whose month lies outside the reporting window (statistics ignore them); exit 1 if any."""
    from app.services import periods

    found = periods.out_of_window(db.session)
    window = {"first": f"{periods.FIRST_PERIOD:%Y-%m}", "last": f"{periods.last_period():%Y-%m}"}
    if as_json:
        click.echo(json.dumps({"window": window, **found}, ensure_ascii=False))
    elif not any(found.values()):
        click.echo(f"No rows outside the reporting window ({window['first']} to {window['last']}).")
    else:
        click.echo(f"Rows outside the reporting window ({window['first']} to {window['last']}); statistics ignore "
                   "them — correct the month or delete the row:")
        for table, rows in found.items():
            for row in rows:
                click.echo(f"  {table}: " + ", ".join(f"{k}={v}" for k, v in row.items()))
    if any(found.values()):
        raise SystemExit(1)


@click.command("utilisation")
@click.option("--base", "name", required=True, help="Base code (daqing), Chinese or English name, or 'province'.")
@click.option("--year", type=int, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def utilisation_command(name: str, year: int, as_json: bool) -> None:
    """Print the utilisation rate of a base (or the province) by category for a year."""
    from app.services import utilisation

    scope = utilisation.find_scope(db.session, name)
    if scope is None:
        raise click.ClickException(f"unknown base {name!r}")
    summary = utilisation.cli_summary(db.session, scope, year)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo(f"{'category':20} {'generated_t':>14} {'from_storage_t':>14} {'utilised_t':>14} {'rate':>7}")
    for row in [*summary["rows"], {"category": "TOTAL", **summary["total"]}]:
        shown = "—" if row["rate"] is None else f"{row['rate'] * 100:.1f}%"
        click.echo(f"{row['category']:20} {row['generated_t']:14.3f} {row['from_storage_t']:14.3f} "
                   f"{row['utilised_t']:14.3f} {shown:>7}")


@click.command("rebuild-rollup")
def rebuild_rollup_command() -> None:
    """Recompute the utilisation rollups (monthly by place, yearly by facility) from every report and declaration
    (after bulk loads)."""
    from app.services import rollup

    rows = rollup.rebuild(db.session)
    db.session.commit()
    click.echo(f"Rollup rebuilt: {rows} rows (month × category × place).")


@click.command("create-token")
@click.option("--user", "email", required=True, help="E-mail of the user the token acts for.")
@click.option("--name", default=None, help="A name to recognise the token by.")
def create_token_command(email: str, name: str | None) -> None:
    """Create an API token for a user and print it once (only its SHA-256 is stored)."""
    from app.services import api_tokens
    from models import User

    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    try:
        new = api_tokens.create(db.session, user, name)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(new.secret)
    click.echo(f"Token {new.row.prefix}… ({new.row.name}) for {user.email}; it is shown only this once.", err=True)


def init_app(app: Flask) -> None:
    """Register the commands."""
    for command in (create_admin_command, load_reference_command, seed_demo_command, stats_command,
                    translations_group, match_group, audit_group, data_group, utilisation_command, create_token_command,
                    rebuild_rollup_command, invite_official_command):
        app.cli.add_command(command)
