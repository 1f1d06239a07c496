"""Who is acting and under which request: passed explicitly into every service call."""
from __future__ import annotations

import getpass
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    key_id: str | None = None
    source_system_id: int | None = None
    source_system_code: str | None = None


@dataclass(frozen=True)
class RequestContext:
    actor: Actor
    request_id: str | None = None


def cli_context(request_id: str | None = None) -> RequestContext:
    """The context of an operator running the ``mdm`` CLI on the server."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "unknown"
    return RequestContext(Actor(name=f"cli:{user}", role="admin"), request_id)
