"""Golden versions as the snapshots they stood for: what audit entries refer to instead
of holding a copy (mdm.audit.models)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from mdm.records.models import GoldenVersion

_SNAPSHOT_COLUMNS = [
    GoldenVersion.__table__.c[name]
    for name in ("golden_id", "version", "status", "merged_into", "attributes", "overrides",
                 "quality_status", "valid_from")
]


def snapshot_at_version(version: Any, domain: str) -> dict[str, Any] | None:
    """``snapshot`` of a golden record as it was at ``version`` (a golden_version row or
    its dict), or None for versions written before their quality status was kept."""
    get: Any = version.get if isinstance(version, dict) else lambda n: getattr(version, n)
    if get("quality_status") is None:
        return None
    return {
        "id": get("golden_id"),
        "domain": domain,
        "status": get("status"),
        "version": get("version"),
        "merged_into": get("merged_into"),
        "attributes": get("attributes"),
        "overrides": list(get("overrides") or []),
        "quality_status": get("quality_status"),
        "updated_at": get("valid_from").astimezone(UTC).isoformat(),
    }


def versions_of(session: Session, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Any]:
    """Stored golden versions by (golden id, version): those asked for, one primary-key
    lookup each."""
    wanted = sorted(set(keys))
    out: dict[tuple[str, int], Any] = {}
    key = tuple_(GoldenVersion.golden_id, GoldenVersion.version)
    for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
        for v in session.execute(select(*_SNAPSHOT_COLUMNS).where(key.in_(chunk))):
            out[(v.golden_id, v.version)] = v
    return out
