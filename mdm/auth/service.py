"""Creating, revoking and checking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.auth.models import ADMIN, ROLES, SOURCE, ApiKey
from mdm.context import Actor, RequestContext
from mdm.db import utcnow
from mdm.errors import LastAdminKey, NotFound, Unauthorized, ValidationFailed, WrongState
from mdm.sources.models import SourceSystem

PREFIX = "mdm"


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session, ctx: RequestContext, *, role: str, name: str = "", source: str | None = None
) -> IssuedKey:
    if role not in ROLES:
        raise ValidationFailed("Unknown role", errors={"role": [f"One of {', '.join(ROLES)}."]})
    system = None
    if role == SOURCE:
        if not source:
            raise ValidationFailed(
                "A source key needs a source system",
                errors={"source": ["Required for role source."]},
            )
        system = session.scalar(select(SourceSystem).where(SourceSystem.code == source))
        if system is None:
            raise NotFound(
                f"Unknown source system '{source}'", errors={"source": ["Not registered."]}
            )
    elif source:
        raise ValidationFailed(
            "Only source keys belong to a source system",
            errors={"source": ["Only with role source."]},
        )
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        id=key_id,
        name=name or f"{role} key",
        role=role,
        source_system_id=system.id if system else None,
        secret_hash=_digest(secret),
    )
    session.add(key)
    audit(session, ctx, "api_key.create", "api_key", key_id, after={"role": role, "source": source})
    session.commit()
    return IssuedKey(key, f"{PREFIX}_{key_id}_{secret}")


def _active_admins(session: Session, *, lock: bool = False) -> list[str]:
    q = (select(ApiKey.id).where(ApiKey.role == ADMIN, ApiKey.revoked_at.is_(None))
         .order_by(ApiKey.id))
    return list(session.scalars(q.with_for_update() if lock else q))


def revoke_key(session: Session, ctx: RequestContext, key_id: str) -> ApiKey:
    """Revoke a key. The last active admin key stays: without it nobody could manage keys
    (a key revoking itself included), so create another admin key first."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"No API key '{key_id}'")
    if key.revoked_at is not None:
        raise WrongState(f"API key '{key_id}' is already revoked")
    if key.role == ADMIN and session.get_bind().dialect.name == "postgresql":
        # lock the active admin keys (in id order, so two revocations queue rather than
        # deadlock): the second of two concurrent revocations then sees the first. SQLite
        # serialises writers, so the count below is current there.
        _active_admins(session, lock=True)
    key.revoked_at = utcnow()
    if key.role == ADMIN:
        session.flush()
        if not _active_admins(session):
            session.rollback()
            raise LastAdminKey("The last active admin key cannot be revoked; create another "
                               "admin key first.",
                               errors={"key_id": ["The last active admin key."]})
    audit(
        session,
        ctx,
        "api_key.revoke",
        "api_key",
        key_id,
        before={"revoked": False},
        after={"revoked": True},
    )
    session.commit()
    return key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def source_code(session: Session, key: ApiKey) -> str | None:
    """The code of the source system a source key writes for (None for other roles)."""
    if key.source_system_id is None:
        return None
    system = session.get(SourceSystem, key.source_system_id)
    return system.code if system else None


def authenticate(session: Session, presented: str | None) -> Actor:
    if not presented:
        raise Unauthorized("An API key is required (Authorization: Bearer <key> or X-API-Key).")
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthorized("The API key is malformed.")
    _, key_id, secret = parts
    key = session.get(ApiKey, key_id)
    # compare_digest keeps the check constant-time whatever the key holds
    if key is None or not hmac.compare_digest(key.secret_hash, _digest(secret)):
        raise Unauthorized("The API key is not valid.")
    if key.revoked_at is not None:
        raise Unauthorized("The API key has been revoked.")
    code = source_code(session, key)
    return Actor(
        name=f"key:{key.id}:{key.name}",
        role=key.role,
        key_id=key.id,
        source_system_id=key.source_system_id,
        source_system_code=code,
    )
