"""The ``mdm`` command line (``mdm ...`` or ``python -m mdm ...``).

It builds the hub's app without its HTTP side (blueprints and the OpenAPI document are
mounted only for a command that needs them) and runs the commands ``mdm.cli`` registers
on it; the other rooms' commands are imported when one of them is run or listed.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import FlaskGroup, ScriptInfo

from mdm import __version__
from mdm.app import create_app, http_mounted
from mdm.cli import HTTP_COMMANDS, ROOM_COMMANDS, room_command
from mdm.db import db


class HubGroup(FlaskGroup):
    """Flask's command group without Flask's own options (-e/-A/--debug) and commands
    (run/shell/routes): the hub's app is fixed and served by gunicorn (scripts/serve).
    The other rooms' commands (``ROOM_COMMANDS``) are imported when used."""

    FLASK_OPTIONS = ("env_file", "app", "debug")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(add_default_commands=False, add_version_option=False, **kwargs)
        self.params = [p for p in self.params if p.name not in self.FLASK_OPTIONS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)  # loads the app, enters its context
        if command is None and cmd_name in ROOM_COMMANDS:
            command = room_command(cmd_name)
        if command is None and cmd_name in HTTP_COMMANDS:
            app = http_mounted(ctx.ensure_object(ScriptInfo).load_app())
            command = app.cli.get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *ROOM_COMMANDS, *HTTP_COMMANDS})


def main() -> None:
    # The command line serves no HTTP: its app mounts blueprints and the OpenAPI document
    # only for a command that needs them (create_app's http=False).
    cli = HubGroup(create_app=lambda: create_app(http=False), help="MDM Hub command line.")
    click.version_option(__version__, "--version", prog_name="mdm",
                         message="%(prog)s %(version)s")(cli)
    try:
        cli.main(prog_name="mdm")
    finally:
        # Close the connections before the process ends: SQLite then checkpoints its
        # write-ahead log into the database and removes it. Left open, the log keeps the
        # size of the largest transaction (about 50 MB after matching 20k suppliers).
        if db.engine is not None:
            db.engine.dispose()


if __name__ == "__main__":
    main()
