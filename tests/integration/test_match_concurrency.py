"""``mdm match`` beside concurrent ingestion: each transaction that applies a chunk holds
the domain's matching lock, so an ingest that matches waits for the chunk to commit
instead of matching against golden records the chunk is merging.

On PostgreSQL the lock is the advisory lock incremental matching holds shared; on SQLite
it is the single write lock. The ingest runs in a thread with its own session.
"""
from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select

from mdm.context import cli_context
from mdm.db import db
from mdm.matching import apply, index
from mdm.matching.decisions import ClusteringDiff
from mdm.matching.domains import settings_for
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import GoldenRecord, SourceRecord

ACME = {"name": "Acme Industrial Supplies GmbH", "country": "DE", "city": "Berlin",
        "postal_code": "10115", "street": "Hauptstraße 5"}
ACME_COUPA = {"name": "ACME Industrial Supplies", "country": "DE", "city": "München",
              "postal_code": "80331"}
NEWCOMER = {"name": "Zebra Logistik AG", "country": "DE", "city": "Hamburg",
            "postal_code": "20457"}


def test_an_ingest_that_matches_waits_for_the_chunk_being_applied(
        app: Any, sources: list[str], session: Any, monkeypatch: Any) -> None:
    registry = app.extensions["mdm_domains"]
    [a] = ingest(session, registry, "supplier", "SAP", [IngestItem("1", ACME)], cli_context())
    [b] = ingest(session, registry, "supplier", "COUPA", [IngestItem("1", ACME_COUPA)],
                 cli_context())
    assert a.golden_id != b.golden_id  # different cities: not merged on ingest
    current = {index.record_key(sr): gid for sr, gid in session.execute(
        select(SourceRecord.id, SourceRecord.golden_id))}
    settings = settings_for(registry.get("supplier"))
    params, _ = index.current_params(session, "supplier", settings)
    diff = ClusteringDiff(merges=[{"records": sorted(current),
                                   "from_clusters": sorted({a.golden_id, b.golden_id})}])
    plan = apply.Plan("supplier", settings, params, diff, [], current)

    order: list[str] = []
    errors: list[BaseException] = []
    ingested = threading.Event()

    def ingest_meanwhile() -> None:
        try:
            with app.app_context():
                [r] = ingest(db.session, registry, "supplier", "SFDC",
                             [IngestItem("9", NEWCOMER)], cli_context("concurrent"))
                assert r.status == "created"
                order.append("ingest committed")
                db.remove_session()
        except BaseException as exc:  # reported to the test, not lost in the thread
            errors.append(exc)
        finally:
            ingested.set()

    real_write = apply._write
    thread = threading.Thread(target=ingest_meanwhile)

    def write_while_an_ingest_runs(session: Any, batch: Any) -> None:
        thread.start()
        ingested.wait(3)  # time enough to finish, unless it waits for this chunk
        real_write(session, batch)
        order.append("chunk written")  # committed by the caller right after

    monkeypatch.setattr(apply, "_write", write_while_an_ingest_runs)
    report = apply.apply_plan(session, registry, plan, apply.matching_context("run"))
    thread.join(60)

    assert not errors, errors
    assert report["merged"] == 1
    assert order == ["chunk written", "ingest committed"]
    survivor = session.get(GoldenRecord, a.golden_id)
    assert survivor is not None and survivor.status == "active"
