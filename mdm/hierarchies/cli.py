"""``mdm hierarchy``: import a whole hierarchy file as a draft, export a published version."""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from mdm.context import cli_context
from mdm.db import db
from mdm.errors import MdmError
from mdm.hierarchies import formats, queries, service
from mdm.hierarchies.models import HIERARCHY_DOMAINS, HIERARCHY_KINDS


def _fail(exc: MdmError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    for field, reasons in exc.errors.items():
        for reason in reasons if isinstance(reasons, list) else [reasons]:
            click.echo(f"  {field}: {reason}", err=True)
    sys.exit(2 if exc.status in (404, 409, 422) else 1)


@click.group("hierarchy", help="Import and export finance hierarchies.")
def hierarchy_group() -> None:
    pass


@hierarchy_group.command("import")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--domain", type=click.Choice(HIERARCHY_DOMAINS), default=None,
              help="Required when the hierarchy does not exist yet.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
              help="Defaults to the file extension.")
@click.option("--kind", type=click.Choice(HIERARCHY_KINDS), default="standard",
              help="For a new hierarchy.")
@click.option("--chart", default=None, help="For a new gl_account hierarchy: its chart.")
@click.option("--legal-entity", "legal_entity_code", default=None,
              help="For a new cost_center hierarchy: the legal entity it belongs to.")
@click.option("--allow-shared", is_flag=True, help="For a new hierarchy: nodes may have "
              "several parents.")
@with_appcontext
def import_cmd(name: str, path: Path, domain: str | None, fmt: str | None, kind: str,
               chart: str | None, legal_entity_code: str | None, allow_shared: bool) -> None:
    """Import PATH (parent-child CSV or JSON) as a new draft version of hierarchy NAME.

    A file with any bad line is refused whole, each bad line reported. Exit 0 when the draft
    is valid, 1 when it was stored but breaks validation rules (listed), 2 when refused.
    """
    fmt = fmt or ("json" if path.suffix.lower() == ".json" else "csv")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"error: cannot read {path}: {exc}", err=True)
        sys.exit(2)
    try:
        outcome = service.import_file(
            db.session, current_app.extensions["mdm_domains"], cli_context(), name, text, fmt,
            domain=domain, kind=kind, chart=chart, legal_entity_code=legal_entity_code,
            allow_shared=allow_shared)
    except MdmError as exc:
        _fail(exc)
        return
    v, result = outcome.version, outcome.validation
    click.echo(f"{name}: version {v.number} (draft) with {v.node_count} nodes")
    for viol in result.violations:
        where = f"{path}:{viol.line}: " if viol.line else ""
        click.echo(f"{where}{viol.rule}: {viol.node}: {viol.message}", err=True)
    if not result.valid:
        click.echo(f"{len(result.violations)} violation(s); fix them before submitting", err=True)
        sys.exit(1)
    click.echo("valid: ready to submit for approval")


@hierarchy_group.command("export")
@click.argument("name")
@click.option("--version", "number", type=int, default=None,
              help="Version number (default: the published one; only published versions "
                   "are exported).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only the rows valid on this date.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@with_appcontext
def export_cmd(name: str, number: int | None, as_of: object, fmt: str) -> None:
    """Write a published version of hierarchy NAME to standard output."""
    at = as_of.date() if isinstance(as_of, datetime) else None
    try:
        meta, rows = queries.export(db.session, name, number, at)
    except MdmError as exc:
        _fail(exc)
        return
    if fmt == "csv":
        sys.stdout.write(formats.to_csv(rows))
    else:
        sys.stdout.write(json.dumps(formats.to_json(rows, meta), indent=1) + "\n")
