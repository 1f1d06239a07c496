"""How the registry's blueprints reach their host: the session, the authorization check and the
acting context are injected once per app (contracts never imports the host application)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app
from sqlalchemy.orm import Session

from contracts.registry.service import RegistryContext

EXTENSION = "contracts_registry"
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RegistryHooks:
    """session(): the request's session. authorize(write): raises when the caller may not
    read (write=False) or change (write=True) the registry. context(): who acts, with the
    host's audit hook; called after authorize."""

    session: Callable[[], Session]
    authorize: Callable[[bool], None]
    context: Callable[[], RegistryContext]


def init_app(app: Flask, hooks: RegistryHooks) -> None:
    app.extensions[EXTENSION] = hooks


def hooks() -> RegistryHooks:
    found: RegistryHooks = current_app.extensions[EXTENSION]
    return found


def session() -> Session:
    return hooks().session()


def context() -> RegistryContext:
    return hooks().context()


def guarded(*, write: bool) -> Callable[[F], F]:
    """Authorize before anything else (put it above the flask-smorest decorators)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            hooks().authorize(write)
            return view(*args, **kwargs)

        # flask-smorest reads the view's _apidoc attribute; functools.wraps keeps the
        # signature, which mypy cannot see through the untyped wrapper
        wrapper._apidoc = getattr(view, "_apidoc", {})  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
