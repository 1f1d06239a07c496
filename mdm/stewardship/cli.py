"""``mdm survivorship recompute DOMAIN``: re-run survivorship after the rules changed."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from mdm.context import cli_context
from mdm.db import db
from mdm.errors import MdmError
from mdm.stewardship import service


@click.group("survivorship", help="Golden-record survivorship.")
def survivorship_group() -> None:
    pass


@survivorship_group.command("recompute")
@click.argument("domain")
@click.option("--dry-run", is_flag=True, help="Write nothing; print what would change.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000),
              help="Golden records per transaction.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@with_appcontext
def recompute_cmd(domain: str, dry_run: bool, batch_size: int, quiet: bool) -> None:
    """Recompute DOMAIN's golden records under the current survivorship rules.

    Progress goes to stderr. With --dry-run, one JSON line per golden record that would
    change goes to stdout (attribute: from, to, rule; needs_approval for four-eyes
    attributes, which a real run holds as change requests).
    """

    def progress(done: int, total: int, changed: int) -> None:
        if not quiet:
            click.echo(f"{done}/{total} golden records, {changed} "
                       f"{'would change' if dry_run else 'changed'}", err=True)

    try:
        summary = service.recompute(db.session, current_app.extensions["mdm_domains"],
                                    cli_context(), domain, dry_run=dry_run,
                                    batch_size=batch_size, progress=progress)
    except MdmError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    for diff in summary.diffs:
        click.echo(json.dumps(diff, default=str, sort_keys=True))
    verb = "would change" if dry_run else "changed"
    click.echo(f"{domain}: {summary.total} golden records, {summary.changed} {verb}", err=True)
