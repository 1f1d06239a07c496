"""Loading a file of source records: chunks through ingestion, then (maybe) a batch match.

``mdm load`` calls ``load`` with the records ``mdm.records.formats`` read. Each chunk is
one ``ingest`` call (one transaction), the same write path as the REST bulk endpoint.

How the new records are matched (``mode``):

* ``incremental``: each chunk is matched as it is ingested (what the API does);
* ``batch``: matching is deferred while the chunks load, then the whole domain is matched
  at once (``mdm match``: trains the model, merges, opens review tasks);
* ``off``: no matching now (run ``mdm match DOMAIN`` later);
* ``auto`` (the default): ``batch`` when the file is large next to what the domain holds
  (at least ``AUTO_BATCH_MIN_ROWS`` rows and at least a third as many as the domain's
  active source records, e.g. each system's file of a first load), ``incremental``
  otherwise. Measured on generated suppliers, a batch match of the whole domain costs
  less than matching the file record by record once the file is about a third to two
  thirds of the domain, and its model is trained on the data. A first load then needs no tuning:
  the batch match trains the model on the data itself and is much faster than matching
  record by record against a growing index.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.db import utcnow
from mdm.domains.registry import DomainRegistry
from mdm.matching import service as matching
from mdm.progress import Progress
from mdm.records import ingest
from mdm.records.formats import BadRow
from mdm.records.linking import NewGoldenLinker, linker_for
from mdm.records.models import SourceRecord
from mdm.stewardship.models import ReviewTask

MODES = ("auto", "incremental", "batch", "off")
AUTO_BATCH_MIN_ROWS = 1_000
AUTO_BATCH_SHARE = 3  # batch when rows * AUTO_BATCH_SHARE >= the domain's active records
DEFAULT_CHUNK = 2_000

Rejected = Callable[[int | None, str], None]


@dataclass
class LoadSummary:
    mode: str  # the mode used: incremental, batch or off
    rows: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0
    match_seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)  # rule -> stored findings
    joined: int = 0  # new records matched into a golden record by incremental matching
    merges: int = 0  # batch match
    splits: int = 0
    review_tasks: int = 0
    matching: str | None = None  # why nothing was matched, when nothing was

    @property
    def rejected(self) -> int:
        return self.statuses[ingest.REJECTED]

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "load_seconds": round(self.load_seconds, 3),
            "match_seconds": round(self.match_seconds, 3),
            "records_per_second": round(self.rate, 1),
            "statuses": dict(self.statuses),
            "findings": dict(self.findings),
            "joined": self.joined,
            "merges": self.merges,
            "splits": self.splits,
            "review_tasks": self.review_tasks,
            "matching": self.matching,
        }


def matching_available(registry: DomainRegistry, domain: str) -> bool:
    """Whether new records of ``domain`` are matched (its settings, MDM_MATCHING_DISABLED)."""
    return not isinstance(linker_for(registry.get(domain)), NewGoldenLinker)


def active_records(session: Session, domain: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SourceRecord)
            .where(SourceRecord.domain == domain, SourceRecord.active.is_(True))
        )
        or 0
    )


def choose_mode(
    session: Session, registry: DomainRegistry, domain: str, requested: str, rows: int
) -> tuple[str, str | None]:
    """The mode a load of about ``rows`` records runs in, and why nothing is matched (if so)."""
    if requested not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if requested == "off":
        return "off", "--match off: run 'mdm match' to match the new records"
    if not matching_available(registry, domain):
        return "off", "matching is off for this domain"
    if requested != "auto":
        return requested, None
    if rows >= AUTO_BATCH_MIN_ROWS and rows * AUTO_BATCH_SHARE >= active_records(
        session, domain
    ):
        return "batch", None
    return "incremental", None


def load(
    session: Session,
    registry: DomainRegistry,
    ctx: RequestContext,
    domain: str,
    source: str,
    rows: Iterable[ingest.IngestItem | BadRow],
    *,
    mode: str,
    from_text: bool,
    chunk: int = DEFAULT_CHUNK,
    total_lines: int | None = None,
    on_rejected: Rejected | None = None,
    progress: Progress | None = None,
    workers: int = 2,
) -> LoadSummary:
    """Ingest ``rows`` in chunks of ``chunk`` (one transaction each), then match as
    ``mode`` says (a mode from ``choose_mode``)."""
    summary = LoadSummary(mode)
    started = time.perf_counter()
    since = utcnow()
    defer = mode in ("batch", "off")
    stage = "loading"

    def flush(batch: list[ingest.IngestItem]) -> None:
        results = ingest.ingest(
            session, registry, domain, source, batch, ctx, from_text=from_text,
            defer_matching=defer,
        )
        for res in results:
            summary.statuses[res.status] += 1
            summary.joined += res.joined
            for finding in res.quality:
                summary.findings[finding["rule"]] += 1
            if res.status == ingest.REJECTED and on_rejected is not None:
                on_rejected(res.line, flat_errors(res.errors))

    batch: list[ingest.IngestItem] = []
    last_line = 0
    if progress is not None:
        progress(stage, 0, total_lines)
    for row in rows:
        summary.rows += 1
        if isinstance(row, BadRow):
            summary.statuses[ingest.REJECTED] += 1
            if on_rejected is not None:
                on_rejected(row.line, row.reason)
            continue
        batch.append(row)
        if len(batch) >= chunk:
            flush(batch)
            last_line = batch[-1].line or last_line
            batch = []
            if progress is not None:
                progress(stage, last_line, total_lines)
    if batch:
        flush(batch)
    if progress is not None:
        progress(stage, total_lines or last_line, total_lines)
    summary.load_seconds = time.perf_counter() - started

    if mode == "batch" and summary.statuses[ingest.CREATED]:
        t = time.perf_counter()
        report = matching.rematch(
            session, registry, ctx, domain, workers=workers, progress=progress
        )
        summary.match_seconds = time.perf_counter() - t
        summary.merges = len(report.merges)
        summary.splits = len(report.splits)
    if mode in ("batch", "incremental"):
        summary.review_tasks = _review_tasks_since(session, domain, since)
    summary.seconds = time.perf_counter() - started
    return summary


def _review_tasks_since(session: Session, domain: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ReviewTask)
            .where(ReviewTask.domain == domain, ReviewTask.created_at >= since)
        )
        or 0
    )


def flat_errors(errors: dict[str, Any]) -> str:
    """Field errors on one line: ``name: reason; reason, other: reason``."""
    parts = []
    for name, reasons in errors.items():
        text = "; ".join(map(str, reasons)) if isinstance(reasons, list) else str(reasons)
        parts.append(f"{name}: {text}")
    return ", ".join(parts)
