"""Survivorship recompute: every golden record of a domain under the current rules,
one transaction per batch, or as a dry run listing what would change.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.domains.definitions import DomainDefinition
from mdm.domains.registry import DomainRegistry
from mdm.records import golden as gold
from mdm.records.models import MERGED, GoldenRecord
from mdm.stewardship.approvals import (
    HELD,
)


@dataclass
class RecomputeSummary:
    domain: str
    dry_run: bool
    total: int = 0
    changed: int = 0
    diffs: list[dict[str, Any]] = field(default_factory=list)


def recompute(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    domain: str,
    *,
    dry_run: bool = False,
    batch_size: int = 500,
    progress: Callable[[int, int, int], None] | None = None,
) -> RecomputeSummary:
    """Recompute every golden record of a domain under the current survivorship rules.

    Commits per batch (each batch is one transaction). With ``dry_run`` nothing is written
    and the summary lists each record's attribute changes; approval attributes are marked
    ``needs_approval`` (a real run holds them as change requests).
    """
    definition = registry.get(domain)
    conds = [GoldenRecord.domain == domain, GoldenRecord.status != MERGED]
    summary = RecomputeSummary(domain, dry_run)
    summary.total = session.scalar(
        select(func.count()).select_from(GoldenRecord).where(*conds)) or 0
    done, last = 0, ""
    while True:
        ids = list(session.scalars(select(GoldenRecord.id).where(*conds, GoldenRecord.id > last)
                                   .order_by(GoldenRecord.id).limit(batch_size)))
        if not ids:
            break
        last = ids[-1]
        views = gold.source_views(session, ids)
        goldens = list(session.scalars(select(GoldenRecord).where(GoldenRecord.id.in_(ids))))
        if dry_run:
            for g in goldens:
                diff = _diff(session, definition, g, views.get(g.id, []))
                if diff:
                    summary.changed += 1
                    summary.diffs.append(diff)
            session.rollback()
        else:
            pending = gold.Pending()
            for g in goldens:
                summary.changed += gold.refresh(
                    session, pending, ctx, definition, g, views.get(g.id, []),
                    action="golden.recompute", reason="survivorship recompute")
            pending.write(session)
            session.commit()
        done += len(ids)
        if progress:
            progress(done, summary.total, summary.changed)
    return summary


def _diff(session: Session, definition: DomainDefinition, golden: GoldenRecord,
          views: list[Any]) -> dict[str, Any] | None:
    """What a real run would change on ``golden`` (``gold.preview``: four eyes applied)."""
    values, provenance, qstatus, status = gold.preview(session, definition, golden, views)
    changes = {}
    old_provenance = golden.provenance or {}
    for attr in sorted(set(values) | set(golden.attributes or {}) | set(provenance)
                       | set(old_provenance)):
        old, new = (golden.attributes or {}).get(attr), values.get(attr)
        old_prov, new_prov = old_provenance.get(attr), provenance.get(attr)
        if old != new or old_prov != new_prov:
            change = {"from": old, "to": new, "rule": (new_prov or {}).get("rule"),
                      "previous_rule": (old_prov or {}).get("rule")}
            if old_prov != new_prov:
                change["provenance"], change["previous_provenance"] = new_prov, old_prov
            held = new_prov or {}
            if held.get("rule") == HELD and held.get("change_request_id") is None:
                change["needs_approval"] = True  # a real run opens a change request
            changes[attr] = change
    diff: dict[str, Any] = {"golden_id": golden.id, "changes": changes}
    if qstatus != golden.quality_status:
        diff["quality_status"] = {"from": golden.quality_status, "to": qstatus}
    if status != golden.status:
        diff["status"] = {"from": golden.status, "to": status}
    return diff if len(diff) > 2 or changes else None
