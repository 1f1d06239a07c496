"""The API-key check and the role matrix, applied per view with ``@requires``."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from mdm.auth.models import ADMIN, READER, SOURCE, STEWARD
from mdm.auth.service import authenticate
from mdm.context import Actor, RequestContext
from mdm.db import db
from mdm.errors import Forbidden

READ = (ADMIN, STEWARD, READER, SOURCE)
STEWARDS = (ADMIN, STEWARD)
ADMINS = (ADMIN,)
WRITERS = (ADMIN, SOURCE)  # who may send source records (sources only their own system's)

F = TypeVar("F", bound=Callable[..., Any])


def _presented_key() -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if auth.lower().startswith("basic "):
        # Schema Registry clients send `basic.auth.user.info` ("user:key"): the password is the key
        credentials = request.authorization
        return credentials.password if credentials is not None and credentials.password else None
    return request.headers.get("X-API-Key")


def requires(*roles: str) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = authenticate(db.session, _presented_key())
            if actor.role not in roles:
                raise Forbidden(f"Role '{actor.role}' may not call this endpoint.")
            g.actor = actor
            return view(*args, **kwargs)

        # The roles are published in the OpenAPI document (x-roles) so clients can see who may
        # call what, and the access tests check the enforcement against that declaration.
        apidoc = dict(getattr(view, "_apidoc", {}))
        apidoc["manual_doc"] = {**apidoc.get("manual_doc", {}), "x-roles": list(roles)}
        # flask-smorest reads the view's _apidoc attribute; functools.wraps keeps the
        # signature, which mypy cannot see through the untyped wrapper
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor


def request_context() -> RequestContext:
    return RequestContext(current_actor(), g.get("request_id"))


def ensure_may_write_source(system_code: str) -> None:
    """A source-system key writes only its own system's records."""
    actor = current_actor()
    if actor.role == SOURCE and actor.source_system_code != system_code:
        raise Forbidden(
            f"This key belongs to source system '{actor.source_system_code}' "
            f"and may not write records of '{system_code}'."
        )
