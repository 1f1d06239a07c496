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
from mdm.progress import ProgressReporter, format_duration


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
    opens one review task per between-threshold group and stores the trained parameters
    for incremental matching. Changes are applied in bulk, one transaction per chunk of
    2,000 proposals, with the same history, events and audit entries a steward's merge
    writes. Progress goes to stderr (a bar on a terminal, plain lines otherwise); the
    summary (records/s, merges, splits applied and held, review tasks, decisions stored)
    to stdout.
    """
    progress = ProgressReporter(enabled=not quiet)
    started = time.monotonic()
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
        progress.close()
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    progress.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), default=str, sort_keys=True))
        return
    verb = "would merge" if dry_run else "merge"
    for m in report.merges[:MAX_LISTED]:
        click.echo(f"{verb}: {' + '.join(m['golden_ids'])} "
                   f"(source records {', '.join(map(str, m['source_record_ids']))})")
    for s in report.splits[:MAX_LISTED]:
        parts = " | ".join(", ".join(map(str, p)) for p in s["into"])
        click.echo(f"{'would split' if dry_run else 'split'}: {s['golden_id']} into {parts}")
    for s in report.applied.get("splits_held", [])[:MAX_LISTED]:
        click.echo(f"held split: {s['golden_id']} ({s['reason']})")
    for f in report.applied.get("failed", [])[:MAX_LISTED]:
        click.echo(f"not merged: {' + '.join(f['golden_ids'])} ({f['error']})")
    for f in report.applied.get("refused", [])[:MAX_LISTED]:
        click.echo(f"merge refused: {' + '.join(f['golden_ids'])} ({f['reason']})")
    listed = max(len(report.merges), len(report.splits))
    if listed > MAX_LISTED:
        click.echo(f"... the first {MAX_LISTED} of each listed; --json prints them all")
    for line in summary(report, time.monotonic() - started):
        click.echo(line)


MAX_LISTED = 20  # merges and splits printed one per line (--json has them all)


def summary(report: service.RematchReport, seconds: float) -> list[str]:
    """The closing lines: what was matched, how fast, and what changed."""
    rate = report.records / seconds if seconds > 0 else 0.0
    lines = [
        f"{report.domain}: {report.records:,} records in {format_duration(seconds)} "
        f"({rate:,.0f} records/s); settings {report.settings_version}, "
        f"parameters {report.params_version}" + (" (trained)" if report.trained else ""),
    ]
    applied = report.applied
    if report.dry_run or not applied:
        lines.append(f"dry run: would merge {len(report.merges):,}, would split "
                     f"{len(report.splits):,}, review groups {report.review_groups:,}, "
                     f"unchanged {report.unchanged:,}")
        return lines
    apply_s = report.seconds.get("apply", 0.0)
    merged = applied.get("merged", 0)
    held = len(applied.get("splits_held", []))
    lines.append(
        f"merges {merged:,}" + (f" ({merged / apply_s:,.0f}/s)" if apply_s > 0 and merged else "")
        + f", not merged {len(applied.get('failed', [])):,}, "
        f"merges refused {len(applied.get('refused', [])):,}; "
        f"splits {applied.get('split', 0):,} applied, {held:,} held; "
        f"review tasks {applied.get('review_tasks_opened', 0):,} opened "
        f"({report.review_groups:,} groups); decisions stored {applied.get('decisions', 0):,}; "
        f"unchanged {report.unchanged:,}")
    times = ", ".join(f"{stage} {format_duration(s)}" for stage, s in report.seconds.items())
    lines.append(f"time: {times}; re-indexed {applied.get('reindexed', 0):,} records")
    return lines
