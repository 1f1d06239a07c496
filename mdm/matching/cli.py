"""``mdm match DOMAIN``: re-match a whole domain, or report what a re-match would change."""
from __future__ import annotations

import json
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from mdm.context import cli_context
from mdm.db import db
from mdm.errors import MdmError
from mdm.matching import service
from mdm.matching.domains import settings_for


@click.command("match")
@click.argument("domain")
@click.option("--dry-run", is_flag=True,
              help="Change nothing; print the merges and splits a re-match would make.")
@click.option("--train/--no-train", default=True, show_default=True,
              help="Estimate new parameters (stored unless --dry-run), or use the stored ones.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes for normalising and scoring.")
@click.option("--index-only", is_flag=True,
              help="Only (re)build the blocking index of records missing from it.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
@with_appcontext
def match_cmd(domain: str, dry_run: bool, train: bool, workers: int, index_only: bool,
              as_json: bool, quiet: bool) -> None:
    """(Re)match every active source record of DOMAIN.

    Applying merges golden records (actor "matching"), splits those whose records no
    longer belong together (unless a person merged them: those are held and listed),
    opens review tasks for between-threshold groups and stores the trained parameters
    for incremental matching. Progress goes to stderr.
    """
    last = [0.0]

    def progress(stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if quiet or (now - last[0] < 1.0 and (total is None or done < total)):
            return
        last[0] = now
        click.echo(f"{stage}: {done}" + (f"/{total}" if total else ""), err=True)

    registry = current_app.extensions["mdm_domains"]
    try:
        if index_only:
            definition = registry.get(domain)
            settings = settings_for(definition)
            if settings is None:
                raise MdmError(f"Matching is off for domain '{domain}'.")
            n = service.ensure_index(db.session, domain, settings, progress=progress)
            click.echo(f"{domain}: indexed {n} source records")
            return
        report = service.rematch(db.session, registry, cli_context(), domain, dry_run=dry_run,
                                 train=train, workers=workers, progress=progress)
    except MdmError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(report.to_dict(), default=str, sort_keys=True))
        return
    verb = "would merge" if dry_run else "merge"
    for m in report.merges:
        click.echo(f"{verb}: {' + '.join(m['golden_ids'])} "
                   f"(source records {', '.join(map(str, m['source_record_ids']))})")
    for s in report.splits:
        parts = " | ".join(", ".join(map(str, p)) for p in s["into"])
        click.echo(f"{'would split' if dry_run else 'split'}: {s['golden_id']} into {parts}")
    for s in report.applied.get("splits_held", []):
        click.echo(f"held split: {s['golden_id']} ({s['reason']})")
    click.echo(
        f"{domain}: {report.records} records, {len(report.merges)} merges, "
        f"{len(report.splits)} splits, {report.review_groups} review groups, "
        f"{report.unchanged} unchanged; settings {report.settings_version}, "
        f"parameters {report.params_version}" + (" (dry run)" if dry_run else ""),
        err=False)
    if report.applied:
        click.echo(f"applied: {json.dumps(report.applied, default=str)}")
