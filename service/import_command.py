"""``flask --app service import-clients FILE --as EMAIL``: the CSV import on the command line.

The same import as the page and the API (``client_import``: all or nothing, ``--dry-run`` to
preview), without a web request's time limit: a file of thousands of rows fits here.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from service import accounts, client_import
from service.config import settings_of
from service.db import get_db, utcnow
from service.domain.client_csv import Unreadable


@click.command("import-clients")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "email", required=True, help="The admin the import is recorded as.")
@click.option("--dry-run", is_flag=True, help="Say what would happen; write nothing.")
@with_appcontext
def import_clients_command(path: Path, email: str, dry_run: bool) -> None:
    """Create or update clients from a CSV file (the README's "Importing clients")."""
    with path.open("rb") as file:
        data = file.read(client_import.MAX_BYTES + 1)
    if len(data) > client_import.MAX_BYTES:
        raise click.ClickException(f"the file is over {client_import.MAX_BYTES // 2**20} MB")
    with get_db().session() as session:
        admin = accounts.find_user(session, email)
        if admin is None or not admin.active or not admin.is_admin:
            raise click.ClickException(f"no active admin with email {email.strip().lower()}")
        try:
            text = client_import.decode(data)
            result = client_import.import_clients(
                session, settings_of(current_app), admin, text, utcnow(), dry_run=dry_run, via="cli"
            )
        except Unreadable as exc:
            raise click.ClickException(str(exc)) from None
        if result.write:
            session.commit()
        else:
            session.rollback()
    for refused in result.refused:
        click.echo(f"row {refused.row}: refused: {refused.reason}")
    totals = ", ".join(f"{count} {name}" for name, count in result.totals.items())
    click.echo(f"{'would import' if dry_run else 'imported'}: {totals}")
    if result.refused:
        raise click.ClickException("nothing was imported: fix the refused rows and try again")
