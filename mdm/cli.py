"""The ``mdm`` command: database, API keys, source systems, file loads and exports.

Commands call the same service functions as the API; they hold no logic of their own.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from mdm import __version__, csvsafe
from mdm.context import cli_context
from mdm.db import db
from mdm.errors import MdmError
from mdm.hierarchies.cli import hierarchy_group
from mdm.matching.cli import match_cmd
from mdm.publication.cli import scheduler, subscriptions_group, worker
from mdm.stewardship.cli import survivorship_group

LOAD_BATCH = 1000


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(keys_group)
    app.cli.add_command(sources_group)
    app.cli.add_command(load)
    app.cli.add_command(export_group)
    app.cli.add_command(worker)
    app.cli.add_command(scheduler)
    app.cli.add_command(subscriptions_group)
    app.cli.add_command(hierarchy_group)
    app.cli.add_command(survivorship_group)
    app.cli.add_command(match_cmd)


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


def _csv_rows(path: Path, attributes: set[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        if "source_id" not in header:
            _fail(f"{path}: the CSV needs a 'source_id' column")
        unknown = [c for c in header if c not in attributes and c not in ("source_id", "active")]
        if unknown:
            _fail(f"{path}: unknown columns {', '.join(unknown)}")
        for row in reader:
            # reader.line_num counts physical lines, so quoted multi-line cells stay honest
            yield reader.line_num, row


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, exc


@click.command("load")
@click.argument("domain")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source", required=True, help="Source system code.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default=None,
    help="Defaults to the file extension.",
)
@with_appcontext
def load(domain: str, path: Path, source: str, fmt: str | None) -> None:
    """Load a CSV or JSON Lines file of source records.

    A CSV has a source_id column and columns named after the domain's attributes (an empty
    cell is a missing value). Bad rows are reported with their line number and skipped; the
    others load in transactions of 1,000. Exit 0 when every row loaded, 1 when some were
    rejected, 2 when the input is unusable.
    """
    from mdm.records import ingest
    from mdm.sources import service as sources

    registry = current_app.extensions["mdm_domains"]
    try:
        definition = registry.get(domain)
        sources.get_by_code(db.session, source)
    except MdmError as exc:
        _fail(_describe(exc))
    fmt = fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv")
    names = {a.name for a in definition.attributes}
    counts: Counter[str] = Counter()
    ctx = cli_context()
    with path.open("rb") as fh:
        total_lines = sum(1 for _ in fh)

    def items() -> Iterator[ingest.IngestItem]:
        if fmt == "csv":
            for line, row in _csv_rows(path, names):
                sid = row.pop("source_id", None)
                active = (row.pop("active", "") or "true").strip().lower() not in (
                    "false",
                    "0",
                    "no",
                )
                attrs = {k: v for k, v in row.items() if k is not None}
                yield ingest.IngestItem(sid or None, attrs, active, line)
        else:
            for line, obj in _jsonl_rows(path):
                if isinstance(obj, Exception) or not isinstance(obj, dict):
                    reason = (
                        f"not JSON: {obj}" if isinstance(obj, Exception) else "not a JSON object"
                    )
                    click.echo(f"{path}:{line}: rejected: {reason}", err=True)
                    counts[ingest.REJECTED] += 1
                    continue
                attrs = obj.get("attributes")
                if attrs is None:
                    attrs = {k: v for k, v in obj.items() if k not in ("source_id", "active")}
                yield ingest.IngestItem(obj.get("source_id"), attrs, obj.get("active", True), line)

    def flush(batch: list[ingest.IngestItem]) -> None:
        results = ingest.ingest(
            db.session, registry, domain, source, batch, ctx, from_text=(fmt == "csv")
        )
        for res in results:
            counts[res.status] += 1
            if res.status == ingest.REJECTED:
                click.echo(f"{path}:{res.line}: rejected: {_flat(res.errors)}", err=True)

    batch: list[ingest.IngestItem] = []
    with click.progressbar(
        length=total_lines, label=f"loading {path.name}", file=sys.stderr
    ) as bar:
        done = 0
        for item in items():
            batch.append(item)
            if len(batch) >= LOAD_BATCH:
                flush(batch)
                bar.update((batch[-1].line or done) - done)
                done = batch[-1].line or done
                batch = []
        if batch:
            flush(batch)
        bar.update(total_lines - done)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"
    click.echo(f"{sum(counts.values())} rows: {summary}")
    if counts[ingest.REJECTED]:
        sys.exit(1)


def _flat(errors: dict[str, Any]) -> str:
    parts = []
    for field, reasons in errors.items():
        text = "; ".join(reasons) if isinstance(reasons, list) else str(reasons)
        parts.append(f"{field}: {text}")
    return ", ".join(parts)


def _describe(exc: MdmError) -> str:
    if exc.errors:
        return f"{exc.message} ({_flat(exc.errors)})"
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


class HubGroup(FlaskGroup):
    """Flask's command group without Flask's own options (-e/-A/--debug) and commands
    (run/shell/routes): the hub's app is fixed and served by gunicorn (scripts/serve)."""

    FLASK_OPTIONS = ("env_file", "app", "debug")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(add_default_commands=False, add_version_option=False, **kwargs)
        self.params = [p for p in self.params if p.name not in self.FLASK_OPTIONS]


def main() -> None:
    from mdm.app import create_app

    cli = HubGroup(create_app=lambda: create_app(), help="MDM Hub command line.")
    click.version_option(__version__, "--version", prog_name="mdm",
                         message="%(prog)s %(version)s")(cli)
    cli.main(prog_name="mdm")


if __name__ == "__main__":
    main()
