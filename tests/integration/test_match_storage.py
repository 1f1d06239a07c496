"""Matching stores what a steward or an auditor needs, not every candidate comparison:
one review task per undecided group, decisions only where something changed or a task
shows them, compact explanations, and read endpoints that answer in kilobytes."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from mdm.context import cli_context
from mdm.matching.models import MatchDecisionRecord
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import SourceRecord
from mdm.stewardship.models import PENDING_TASK, ReviewTask

# Three companies, each sent many times with only a name and a country: every copy is a
# near match of every other copy of its company (between the thresholds), never a sure one.
GROUPS = {"nord": {"name": "Nordlicht Handel GmbH", "country": "DE"},
          "fjord": {"name": "Fjordline Shipping AS", "country": "NO"},
          "sol": {"name": "Soleado Distribuciones SL", "country": "ES"}}
COPIES = 12
SYSTEMS = ("SAP", "COUPA", "SFDC")
MAX_EXPLANATION_BYTES = 4_096
MAX_RESPONSE_BYTES = 64 * 1024


def load_near_duplicates(session: Any, registry: Any) -> dict[str, str]:
    """Every copy of every group, in four requests that interleave the groups."""
    group_of: dict[str, str] = {}
    items: list[tuple[str, str, dict[str, Any]]] = []
    for n in range(COPIES):
        for group, attrs in GROUPS.items():
            source_id = f"{group}-{n}"
            group_of[source_id] = group
            items.append((SYSTEMS[n % len(SYSTEMS)], source_id, attrs))
    for request in range(4):
        by_system: dict[str, list[IngestItem]] = {}
        for system, source_id, attrs in items[request::4]:
            by_system.setdefault(system, []).append(IngestItem(source_id, dict(attrs)))
        for system, batch in by_system.items():
            results = ingest(session, registry, "supplier", system, batch,
                             cli_context(f"load-{request}"))
            assert all(r.status == "created" for r in results), results
    return group_of


def test_near_duplicates_open_one_task_per_group_and_bounded_decisions(
        app: Any, sources: list[str], client: Any, reader: dict[str, str],
        session: Any) -> None:
    # ``session`` last: the fixtures before it end the thread's session scope, which would
    # leave the test's session open past the teardown (PostgreSQL: TRUNCATE waits on it)
    registry = app.extensions["mdm_domains"]
    group_of = load_near_duplicates(session, registry)
    records = len(group_of)
    golden_group = {gid: group_of[sid] for sid, gid in session.execute(
        select(SourceRecord.source_id, SourceRecord.golden_id))}

    tasks = list(session.scalars(select(ReviewTask).where(
        ReviewTask.status.in_(PENDING_TASK))))
    assert 1 <= len(tasks) <= len(GROUPS)
    for task in tasks:
        assert len({golden_group[g] for g in task.golden_ids}) == 1  # never mixes groups
        assert len(json.dumps(task.explanation)) <= MAX_EXPLANATION_BYTES
    # every record of a group that went to review is in its group's one task
    in_tasks = {g for t in tasks for g in t.golden_ids}
    decisions = list(session.scalars(select(MatchDecisionRecord)))
    assert len(decisions) <= records
    for d in decisions:
        assert d.action == "merge" or d.review_task_id is not None \
            or any(p["outcome"] == "blocked" for p in d.explanation["pairs"])
        assert len(json.dumps(d.explanation)) <= MAX_EXPLANATION_BYTES
        if d.review_task_id is not None:
            assert d.golden_id in in_tasks

    busiest = max(tasks, key=lambda t: len(t.golden_ids))
    a, b = busiest.golden_ids[:2]
    r = client.get(f"/golden/{a}/match-decisions", headers=reader)
    assert r.status_code == 200 and len(r.data) <= MAX_RESPONSE_BYTES
    r = client.get(f"/domains/supplier/match/explain?a={a}&b={b}", headers=reader)
    assert r.status_code == 200 and len(r.data) <= MAX_RESPONSE_BYTES
    assert r.json["stored"] and len(r.json["pairs"]) <= 10
