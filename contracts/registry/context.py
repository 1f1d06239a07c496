"""Who acts on the registry and the host's hooks (audit writer, domain check)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

AuditHook = Callable[
    [Session, str, str, str, "dict[str, Any] | None", "dict[str, Any] | None"], None
]


@dataclass(frozen=True)
class RegistryContext:
    """Who acts, plus the host's hooks: an audit writer joining the transaction and a check
    that a named master-data domain exists."""

    actor: str = "system"
    audit: AuditHook | None = None
    domain_exists: Callable[[str], bool] | None = None

    def record(
        self,
        session: Session,
        action: str,
        entity_type: str,
        entity_id: str,
        *,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        if self.audit is not None:
            self.audit(session, action, entity_type, entity_id, before, after)


SYSTEM = RegistryContext()
