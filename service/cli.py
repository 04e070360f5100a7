"""Command line: ``flask --app service db upgrade``, ``create-user``, ``create-token``,
``revoke-token``, ``demo-data`` and ``import-clients``."""

from __future__ import annotations

import click
from alembic.util import CommandError
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from service import accounts, audit, migrate
from service.config import settings_of
from service.db import get_db
from service.demo_data import demo_data_command
from service.import_command import import_clients_command
from service.logs import redact
from service.models import ApiToken


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--admin", is_flag=True, help="An admin sees every client and manages accounts.")
@click.option("--password", help="Prompted for (hidden, twice) when not given.")
@with_appcontext
def create_user_command(email: str, name: str, admin: bool, password: str | None) -> None:
    """Create a therapist (or, with --admin, an admin) account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with get_db().session() as session:
        try:
            user = accounts.create_user(
                session, settings_of(current_app), email, name, password or "", admin=admin
            )
        except accounts.AccountError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"created {user.role} {user.email} (id {user.id})")


@click.command("create-token")
@click.argument("email")
@click.option(
    "--name",
    default="made on the command line",
    show_default=True,
    help="What will use the token; shown on the account page.",
)
@with_appcontext
def create_token_command(email: str, name: str) -> None:
    """Issue an API token for a user; the token is printed alone on the last line."""
    name = name.strip()
    if not name or len(name) > accounts.TOKEN_NAME_LENGTH:
        raise click.ClickException(f"a name of 1 to {accounts.TOKEN_NAME_LENGTH} characters")
    with get_db().session() as session:
        user = accounts.find_user(session, email)
        if user is None:
            raise click.ClickException(f"no user with email {email.strip().lower()}")
        if not user.active:
            raise click.ClickException(f"user {user.email} is deactivated")
        row, token = accounts.issue_token(session, user, name)
        audit.record(session, None, "token_created", "api_token", row.id, name=name, via="cli")
        session.commit()
    click.echo(f"API token for {user.email} (shown once; store it now):")
    click.echo(token)


@click.command("revoke-token")
@click.argument("token", required=False)
@click.option("--all-of", "email", help="Revoke every live token of this user instead.")
@with_appcontext
def revoke_token_command(token: str | None, email: str | None) -> None:
    """Revoke an API token (give the token itself), or every token of a user (--all-of)."""
    if (token is None) == (email is None):
        raise click.ClickException("give a token, or --all-of EMAIL (not both)")
    with get_db().session() as session:
        if email is not None:
            user = accounts.find_user(session, email)
            if user is None:
                raise click.ClickException(f"no user with email {email.strip().lower()}")
            rows = accounts.revoke_tokens_of(session, user)
            for row in rows:
                _audit_revoked(session, row)
            session.commit()
            click.echo(f"revoked {len(rows)} token(s) of {user.email}")
            return
        revoked = accounts.revoke_token(session, token or "")
        if revoked is None:
            raise click.ClickException("no live token matches; it may be revoked already")
        _audit_revoked(session, revoked)
        session.commit()
    click.echo("token revoked; it is refused from now on")


def _audit_revoked(session: Session, row: ApiToken) -> None:
    """Audit a revocation from the command line, as the dashboard audits its own."""
    audit.record(
        session,
        None,
        "token_revoked",
        "api_token",
        row.id,
        name=row.name,
        owner=row.user_id,
        via="cli",
    )


@click.group("db")
def db_group() -> None:
    """Manage the database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def upgrade_command(revision: str) -> None:
    """Apply the migrations up to REVISION (the Procfile's release step).

    Any failure exits non-zero, which fails the platform's release: the new code is never
    started on a schema it does not expect. On PostgreSQL the whole upgrade is one
    transaction, so a failed release leaves the schema as it was.
    """
    try:
        migrate.upgrade(current_app.config["TOUCHBASE"].database_url, revision)
    except (SQLAlchemyError, CommandError) as exc:
        # One line, numbers masked: database errors quote the values they refused.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise click.ClickException(
            f"migrations failed: {type(exc).__name__}: {redact(first)}"
        ) from None
    click.echo(f"database at {revision}")


def init_app(app: Flask) -> None:
    """Register the commands on ``app``."""
    app.cli.add_command(create_user_command)
    app.cli.add_command(create_token_command)
    app.cli.add_command(revoke_token_command)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(db_group)
    app.cli.add_command(import_clients_command)
