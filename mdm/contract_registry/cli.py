"""`mdm contracts ...`: registry commands run on the server (logic lives in the services)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from mdm.context import cli_context
from mdm.contract_registry.bootstrap import bootstrap
from mdm.contract_registry.wiring import hub_session, registry_context


@click.group("contracts", help="The contract registry.")
def contracts_group() -> None:
    pass


@contracts_group.command("bootstrap")
@click.option(
    "--major",
    is_flag=True,
    help="Register a breaking change of the hub's contracts as a new major version.",
)
@with_appcontext
def bootstrap_command(major: bool) -> None:
    """Register the hub's OpenAPI document and its event schemas as subjects."""
    outcomes = bootstrap(
        hub_session(),
        registry_context(cli_context()),
        # the app itself, not the proxy (werkzeug's LocalProxy method is not in the stubs)
        current_app._get_current_object(),  # type: ignore[attr-defined]
        major=major,
    )
    for o in outcomes:
        version = f" {o.version}" if o.version else ""
        message = f": {o.message}" if o.message else ""
        click.echo(f"{o.subject}{version} {o.status}{message}", err=o.status == "refused")
    if any(o.status == "refused" for o in outcomes):
        sys.exit(1)
