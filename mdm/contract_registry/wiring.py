"""Mount the contract registry in the hub: session, auth, audit and error format come from mdm."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Flask, current_app
from flask_smorest import Api
from sqlalchemy.orm import Session

from contracts.errors import ContractError
from contracts.registry import api as native_api
from contracts.registry import confluent
from contracts.registry.errors import RegistryServiceError, http_status
from contracts.registry.service import RegistryContext
from contracts.registry.web import RegistryHooks
from contracts.registry.web import init_app as init_registry_web
from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import db
from mdm.errors import Conflict, MdmError, NotFound, ValidationFailed
from mdm.web.security import READ, STEWARDS, request_context, requires

_HUB_ERRORS: dict[int, type[MdmError]] = {404: NotFound, 409: Conflict, 422: ValidationFailed}


def init_app(app: Flask, api: Api) -> None:
    init_registry_web(
        app,
        RegistryHooks(
            session=hub_session,
            authorize=authorize,
            context=lambda: registry_context(request_context()),
        ),
    )
    api.register_blueprint(native_api.blp)
    app.register_blueprint(confluent.bp)  # Confluent's dialect: not in the OpenAPI document
    app.register_error_handler(ContractError, _hub_error)

    from mdm.contract_registry.cli import contracts_group

    app.cli.add_command(contracts_group)


def hub_session() -> Session:
    session = db.session
    assert session is not None, "Database not initialised"
    return session  # type: ignore[return-value]  # a scoped_session proxies a Session


def authorize(write: bool) -> None:
    """Reads take any valid key; writes an admin's or a steward's (the hub's one key check)."""
    requires(*(STEWARDS if write else READ))(lambda: None)()


def registry_context(ctx: RequestContext) -> RegistryContext:
    return RegistryContext(
        actor=ctx.actor.name, audit=partial(_audit, ctx), domain_exists=_domain_exists
    )


def _domain_exists(name: str) -> bool:
    return name in current_app.extensions["mdm_domains"]


def _audit(
    ctx: RequestContext,
    session: Session,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit(session, ctx, action, entity_type, entity_id[:300], before=before, after=after)


def _hub_error(exc: ContractError) -> Any:
    """A registry error in the hub's error body (status, code, message, errors)."""
    status = http_status(exc)
    if isinstance(exc, RegistryServiceError):
        errors, details = exc.errors, exc.details
    else:  # the document itself cannot be judged: unreadable, invalid, bad $ref
        errors, details = {"content": [exc.message]}, {}
    error = _HUB_ERRORS.get(status, MdmError)(exc.message, errors=errors or None, **details)
    error.status = status
    error.code = exc.code.replace("-", "_")
    return current_app.handle_user_exception(error)
