"""Golden versions as the snapshots they stood for: what audit entries refer to instead
of holding a copy (mdm.audit.models)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from sqlalchemy import select
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
    """Stored golden versions by (golden id, version)."""
    wanted = set(keys)
    out: dict[tuple[str, int], Any] = {}
    ids = sorted({gid for gid, _ in wanted})
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for v in session.execute(
            select(*_SNAPSHOT_COLUMNS).where(GoldenVersion.golden_id.in_(chunk))
        ):
            if (v.golden_id, v.version) in wanted:
                out[(v.golden_id, v.version)] = v
    return out
