"""The ``mdm`` commands: database, API keys, source systems, file loads and exports.

The command line itself (``mdm``, ``python -m mdm``) is ``mdm.__main__``; the app
factory registers these commands on every app it builds.

Commands call the same service functions as the API; they hold no logic of their own.
"""

from __future__ import annotations

import csv
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from mdm import csvsafe
from mdm.context import cli_context
from mdm.db import db
from mdm.errors import MdmError
from mdm.progress import ProgressReporter
from mdm.records import formats, loading
from mdm.sources import service as sources_service


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


# The other rooms' commands, by name: imported when one of them is run or listed, not on
# every start of ``mdm`` (networkx, the contract registry's API, publication's channels:
# together more than a small file's load).
ROOM_COMMANDS = {
    "worker": "mdm.publication.cli:worker",
    "scheduler": "mdm.publication.cli:scheduler",
    "subscriptions": "mdm.publication.cli:subscriptions_group",
    "hierarchy": "mdm.hierarchies.cli:hierarchy_group",
    "survivorship": "mdm.stewardship.cli:survivorship_group",
    "match": "mdm.matching.cli:match_cmd",
    "contracts": "mdm.contract_registry.cli:contracts_group",
}


# Commands that come with the HTTP side (flask-smorest's ``openapi print|write``): the
# command line's app mounts it when one of them is run.
HTTP_COMMANDS = ("openapi",)


def room_command(name: str) -> click.Command:
    module, attribute = ROOM_COMMANDS[name].split(":")
    command: click.Command = getattr(importlib.import_module(module), attribute)
    return command


def register_commands(app: Flask, *, rooms: bool = True) -> None:
    """The hub's commands on ``app.cli``; ``rooms=False`` leaves the other rooms' commands
    to ``HubGroup``, which imports one when it is used."""
    for command in (db_group, keys_group, sources_group, load, export_group):
        app.cli.add_command(command)
    if rooms:
        for name in ROOM_COMMANDS:
            app.cli.add_command(room_command(name))


# --- database -------------------------------------------------------------------------------


@click.group("db", help="Database schema migrations (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: every head)."""
    from mdm import migrate

    migrate.upgrade(current_app.config["MDM"].database_url, revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from mdm import migrate

    migrate.downgrade(current_app.config["MDM"].database_url, revision)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between models and database."""
    from mdm import migrate

    migrate.revision(current_app.config["MDM"].database_url, message)


# --- API keys -------------------------------------------------------------------------------


@click.group("keys", help="Create, list and revoke API keys.")
def keys_group() -> None:
    pass


@keys_group.command("create")
@click.option("--role", required=True, type=click.Choice(["admin", "steward", "reader", "source"]))
@click.option("--source", "source", default=None, help="Source system code (role source).")
@click.option("--name", default="", help="A label for the key.")
@with_appcontext
def keys_create(role: str, source: str | None, name: str) -> None:
    """Create a key and print its secret (shown only once)."""
    from mdm.auth import service

    try:
        issued = service.create_key(db.session, cli_context(), role=role, name=name, source=source)
    except MdmError as exc:
        _fail(_describe(exc))
    click.echo(issued.secret)
    click.echo(f"key id {issued.key.id} ({role}); store the secret now, it is not kept", err=True)


@keys_group.command("revoke")
@click.argument("key_id")
@with_appcontext
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id (the part after 'mdm_' in the secret)."""
    from mdm.auth import service

    if key_id.startswith("mdm_"):
        key_id = key_id.split("_")[1]
    try:
        service.revoke_key(db.session, cli_context(), key_id)
    except MdmError as exc:
        _fail(_describe(exc))
    click.echo(f"revoked {key_id}")


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """List keys (ids and roles, never secrets)."""
    from mdm.auth import service

    for k in service.list_keys(db.session):
        state = "revoked" if k.revoked_at else "active"
        click.echo(f"{k.id}\t{k.role}\t{state}\t{k.name}")


# --- source systems -------------------------------------------------------------------------


@click.group("sources", help="Register and list source systems.")
def sources_group() -> None:
    pass


@sources_group.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option(
    "--kind",
    required=True,
    type=click.Choice(
        ["erp", "procurement", "crm", "payroll", "bank", "warehouse", "steward", "other"]
    ),
)
@with_appcontext
def sources_add(code: str, name: str, kind: str) -> None:
    """Register a source system."""
    from mdm.sources import service

    try:
        service.register(db.session, cli_context(), code=code, name=name, kind=kind)
    except MdmError as exc:
        _fail(_describe(exc))
    click.echo(f"registered {code}")


@sources_group.command("list")
@with_appcontext
def sources_list() -> None:
    from mdm.sources import service

    for s in service.list_all(db.session):
        click.echo(f"{s.code}\t{s.kind}\t{s.name}")


# --- loading files --------------------------------------------------------------------------


@click.command("load")
@click.argument("domain")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source", required=True, help="Source system code.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(formats.FORMATS)),
    default=None,
    help="Defaults to the file extension (.jsonl/.ndjson/.json: jsonl, else csv).",
)
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="The file's text encoding, e.g. cp1252 or latin-1 for older ERP exports.",
)
@click.option(
    "--delimiter",
    default=None,
    help="CSV cell separator, e.g. ';' (default: the one of , ; TAB | that finds the "
    "source_id column in the header).",
)
@click.option(
    "--match",
    "match_mode",
    type=click.Choice(list(loading.MODES)),
    default="auto",
    show_default=True,
    help="How new records are matched: incremental (each chunk as it loads), batch "
    "(load, then match the whole domain once), off (later, with 'mdm match'), auto "
    "(batch when the file has at least 1,000 rows and a third as many as the domain "
    "holds, incremental otherwise).",
)
@click.option(
    "--chunk-size",
    default=loading.DEFAULT_CHUNK,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Records per transaction.",
)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes of a batch match.")
@click.option("--quiet", is_flag=True, help="No progress on standard error.")
@with_appcontext
def load(
    domain: str,
    path: Path,
    source: str,
    fmt: str | None,
    encoding: str,
    delimiter: str | None,
    match_mode: str,
    chunk_size: int,
    workers: int,
    quiet: bool,
) -> None:
    """Load a CSV or JSON Lines file of source records.

    A CSV has a source_id column and columns named after the domain's attributes (an empty
    cell is a missing value; an optional 'active' column deactivates with false/0/no). Bad
    rows (a rejected record, more cells than the header) are reported with their line
    number and skipped; the others load in transactions of --chunk-size records.

    Initial load: by default (--match auto) a file that is large next to what the domain
    holds (1,000 rows or more, and at least a third of the domain's records), such as each
    system's file of a first load, is loaded with matching deferred and then matched in
    one batch ('mdm match'), which trains the model on the data and costs less than
    matching record by record; smaller files are matched as they load. Cost: each
    batch-matched file re-matches the whole domain, so four equal files match 2.5 times the
    records of one 'mdm match' (on 20,000 generated suppliers the whole first load took 1.17
    times as long as --match off followed by 'mdm match', F1 within 0.0005). To pay once,
    load every file with --match off, then run 'mdm match DOMAIN'.

    The summary gives records/s, created/updated/unchanged/rejected, the quality findings
    stored (by rule) and what matching did. Exit 0 when every row loaded (findings are
    stored and flagged, not rejected), 1 when some rows were rejected, 2 when the input is
    unusable (unknown domain or source, undecodable or binary file, bad header).
    """
    registry = current_app.extensions["mdm_domains"]
    try:
        definition = registry.get(domain)
        sources_service.get_by_code(db.session, source)
    except MdmError as exc:
        _fail(_describe(exc))
    fmt = formats.format_of(path, fmt)
    names = {a.name for a in definition.attributes}
    try:
        checked = formats.check(path, encoding)
        rows = formats.read(path, fmt, names, encoding=encoding, delimiter=delimiter)
        first = next(rows, None)  # header problems surface here, before anything is written
    except formats.UnusableFile as exc:
        _fail(str(exc))
    mode, why_not = loading.choose_mode(
        db.session, registry, domain, match_mode, max(0, checked.lines - (fmt == "csv"))
    )

    def rejected(line: int | None, reason: str) -> None:
        click.echo(f"{path}:{line}: rejected: {reason}", err=True)

    reporter = ProgressReporter(enabled=not quiet)
    try:
        summary = loading.load(
            db.session,
            registry,
            cli_context(),
            domain,
            source,
            _chain(first, rows) if first is not None else iter(()),
            mode=mode,
            from_text=(fmt == "csv"),
            chunk=chunk_size,
            total_lines=checked.lines,
            on_rejected=rejected,
            progress=reporter,
            workers=workers,
        )
    except formats.UnusableFile as exc:
        reporter.close()
        _fail(str(exc))
    except MdmError as exc:
        reporter.close()
        _fail(_describe(exc))
    reporter.close()
    summary.matching = summary.matching or why_not
    for line in load_summary_lines(summary):
        click.echo(line)
    if summary.rejected:
        sys.exit(1)


def load_summary_lines(summary: loading.LoadSummary) -> list[str]:
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary.statuses.items())) or "nothing"
    lines = [f"{summary.rows} rows: {statuses}"]
    timing = f"in {summary.seconds:.1f} s, {summary.rate:,.0f} records/s"
    if summary.mode == "batch" and summary.match_seconds:
        load_rate = summary.rows / summary.load_seconds if summary.load_seconds else 0.0
        timing += (
            f" (load {summary.load_seconds:.1f} s, {load_rate:,.0f} records/s; "
            f"batch match {summary.match_seconds:.1f} s)"
        )
    lines.append(timing)
    found = sum(summary.findings.values())
    if found:
        by_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(summary.findings.items()))
        lines.append(f"quality findings stored and flagged: {found} ({by_rule})")
    else:
        lines.append("quality findings: none")
    if summary.mode == "batch":
        lines.append(
            f"matching (batch): {summary.merges} merges, {summary.splits} splits, "
            f"{summary.review_tasks} review tasks opened"
        )
    elif summary.mode == "incremental":
        lines.append(
            f"matching (incremental): {summary.joined} records joined a golden record, "
            f"{summary.review_tasks} review tasks opened"
        )
    else:
        lines.append(f"matching: not run ({summary.matching})")
    return lines


def _describe(exc: MdmError) -> str:
    if exc.errors:
        return f"{exc.message} ({loading.flat_errors(exc.errors)})"
    return exc.message


# --- exports --------------------------------------------------------------------------------


@click.group("export", help="Export master data.")
def export_group() -> None:
    pass


@export_group.command("crosswalk")
@click.argument("domain")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv")
@with_appcontext
def export_crosswalk(domain: str, fmt: str) -> None:
    """Write source_system,source_id,golden_id (and more columns) to standard output."""
    from mdm.crosswalks import service

    registry = current_app.extensions["mdm_domains"]
    try:
        rows = service.export_rows(db.session, registry, domain)
        first = next(rows, None)
    except MdmError as exc:
        _fail(_describe(exc))
    out = sys.stdout
    columns = ["source_system", "source_id", "golden_id", "active", "golden_status"]
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
    if first is None:
        return
    for row in _chain(first, rows):
        if fmt == "csv":
            writer.writerow({k: csvsafe.escape(v) for k, v in row.items()})  # CSV injection
        else:
            out.write(json.dumps(row) + "\n")


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
