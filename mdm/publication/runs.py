"""Runs: a subscription's full snapshot or its delta since the last successful run.

A file-drop subscription gets a file per domain plus a manifest; a webhook or AMQP
subscription gets one snapshot delivery per record, sent by the dispatcher like any other
(backfill of a new subscriber is such a run). Runs are created pending (by the scheduler,
a backfill or an operator) and executed by whichever worker claims them first.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from mdm.db import new_id, utcnow
from mdm.events import service as events
from mdm.events.models import ChangeEvent
from mdm.publication import filters
from mdm.publication.channels import filedrop
from mdm.publication.egress import EgressPolicy, TargetRefused
from mdm.publication.models import (
    DELIVERY_TABLE,
    DELTA,
    FILE,
    KIND_SNAPSHOT,
    PENDING,
    RUN_FAILED,
    RUN_PENDING,
    RUN_RUNNING,
    RUN_SUCCEEDED,
    SNAPSHOT,
    Run,
    Subscription,
)
from mdm.publication.targets import SNAPSHOT_COLUMNS, stream_records
from mdm.records.models import GOLDEN_STATUSES, GoldenRecord
from mdm.redaction import redact_text

log = logging.getLogger(__name__)


def claim(session: Session, run_id: str) -> bool:
    """Atomically move a pending run to running; False when someone else got it."""
    result = session.execute(
        update(Run).where(Run.id == run_id, Run.status == RUN_PENDING)
        .values(status=RUN_RUNNING, started_at=utcnow())
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def run_next_pending(session_factory: Callable[[], Session], registry: Any, sub_id: str,
                     policy: EgressPolicy) -> int:
    """Execute the subscription's oldest pending run, if any; returns records written."""
    with session_factory() as session:
        run_id = session.scalar(select(Run.id).where(
            Run.subscription_id == sub_id, Run.status == RUN_PENDING)
            .order_by(Run.created_at).limit(1))
        session.rollback()
        if run_id is None or not claim(session, run_id):
            return 0
    return execute(session_factory, registry, run_id, policy)


def _last_cursor(session: Session, sub_id: str) -> int | None:
    return session.scalar(
        select(Run.to_position).where(Run.subscription_id == sub_id,
                                      Run.status == RUN_SUCCEEDED)
        .order_by(Run.finished_at.desc()).limit(1))


def _items(session: Session, sub: Subscription, domain: str, kind: str,
           after: int | None, upto: int) -> Iterator[dict[str, Any]]:
    """The message data of every record the run covers, streamed in golden-id order."""
    statuses = (sub.filter or {}).get("statuses") if kind == SNAPSHOT else None
    for status in statuses or GOLDEN_STATUSES:
        # one keyset walk per status: (domain, status, id) is an index, so each page is a
        # range scan and the whole walk stays linear in the number of records
        query = select(*SNAPSHOT_COLUMNS).where(GoldenRecord.domain == domain,
                                                GoldenRecord.status == status)
        if kind == DELTA:
            changed = select(ChangeEvent.golden_id).where(
                ChangeEvent.domain == domain, ChangeEvent.position > (after or 0),
                ChangeEvent.position <= upto)
            query = query.where(GoldenRecord.id.in_(changed))
        yield from _data(session, sub, domain, kind, query)


def _data(session: Session, sub: Subscription, domain: str, kind: str, query: Any
          ) -> Iterator[dict[str, Any]]:
    spec = sub.filter or {}
    system = sub.target_system
    for page in stream_records(session, query, system):
        for rec, ids in page:
            # in a delta, records that left the set (retired, merged) still go out
            change = "snapshot" if kind == SNAPSHOT or rec["status"] == "active" else "retired"
            if spec and not filters.matches(spec, rec, change):
                continue
            data: dict[str, Any] = {"domain": domain, "golden_id": rec["id"],
                                    "version": rec["version"], "change": "snapshot",
                                    "record": rec}
            if system:
                data["target"] = {"system": system, "id": ids[0] if ids else None,
                                  "ids": ids}
            yield data


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


def execute(session_factory: Callable[[], Session], registry: Any, run_id: str,
            policy: EgressPolicy) -> int:
    """Execute a claimed (running) run to the end; records the outcome on the run.

    A file drop's folder is checked against ``policy`` again now (it may have become a
    symlink elsewhere since the subscription was saved)."""
    with session_factory() as session:
        run = session.get(Run, run_id)
        assert run is not None
        sub = session.get(Subscription, run.subscription_id)
        assert sub is not None
        try:
            count, files = _execute(session, registry, sub, run, policy)
        except Exception as exc:
            if isinstance(exc, TargetRefused):
                log.warning("run %s of %s refused: %s", run_id, sub.name, exc.reason)
                error = exc.reason
            else:
                log.exception("run %s of %s failed", run_id, sub.name)
                error = f"{type(exc).__name__}: {exc}"
            session.rollback()
            session.execute(update(Run).where(Run.id == run_id).values(
                status=RUN_FAILED, error=redact_text(error)[:2000],
                finished_at=utcnow()))
            session.commit()
            return 0
        session.execute(update(Run).where(Run.id == run_id).values(
            status=RUN_SUCCEEDED, record_count=count, files=files, finished_at=utcnow(),
            from_position=run.from_position, to_position=run.to_position, kind=run.kind))
        session.commit()
        return count


def _execute(session: Session, registry: Any, sub: Subscription, run: Run,
             policy: EgressPolicy) -> tuple[int, list[str]]:
    events.sequence(session)
    upto = session.scalar(select(func.max(ChangeEvent.position))) or 0
    after = _last_cursor(session, sub.id) if run.kind == DELTA else None
    if run.kind == DELTA and after is None:
        run.kind = SNAPSHOT  # no successful run yet: a delta from nothing is a snapshot
    run.from_position, run.to_position = after, upto
    count, files = 0, []
    now = utcnow()
    for domain in sub.domains:
        items = _items(session, sub, domain, run.kind, after, upto)
        if sub.channel == FILE:
            cfg = sub.channel_config or {}
            directory, fmt = policy.drop_directory(cfg.get("directory")), cfg.get("format", "csv")
            names = [a.name for a in registry.get(domain).attributes]
            stem = f"{domain}_{run.kind}_{_stamp(now)}_{run.id[:8]}"
            name, n, sha = filedrop.write_file(directory, stem, fmt, names, items)
            manifest = {
                "subscription": sub.name, "run_id": run.id, "kind": run.kind,
                "domain": domain, "format": fmt, "file": name, "record_count": n,
                "sha256": sha, "cursor": {"from_position": after, "to_position": upto},
                "generated_at": now.isoformat(),
            }
            files += [name, filedrop.write_manifest(directory, stem, manifest)]
            count += n
        else:
            count += _enqueue_snapshots(session, sub, domain, items)
    return count, files


def _enqueue_snapshots(session: Session, sub: Subscription, domain: str,
                       items: Iterator[dict[str, Any]]) -> int:
    now = utcnow()
    rows: list[dict[str, Any]] = []
    total = 0
    for item in items:
        rows.append({"subscription_id": sub.id, "kind": KIND_SNAPSHOT, "event_id": new_id(),
                     "change_event_id": None, "position": None, "domain": domain,
                     "golden_id": item["golden_id"], "status": PENDING, "attempts": 0,
                     "next_attempt_at": now, "created_at": now})
        if len(rows) >= 5000:
            session.execute(insert(DELIVERY_TABLE), rows)
            session.commit()
            total += len(rows)
            rows = []
    if rows:
        session.execute(insert(DELIVERY_TABLE), rows)
        session.commit()
        total += len(rows)
    return total


def create(session: Session, sub: Subscription, *, kind: str, reason: str,
           scheduled_for: datetime | None = None) -> Run:
    run = Run(id=new_id(), subscription_id=sub.id, kind=kind, reason=reason,
              scheduled_for=scheduled_for, status=RUN_PENDING, record_count=0, files=[],
              created_at=utcnow())
    session.add(run)
    return run
