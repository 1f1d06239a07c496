"""Ingestion under concurrency: several real clients at once give the sequential answer.

Each client is a thread with its own test client, hence its own database session and
connection. On PostgreSQL transactions really overlap (matching is serialised per blocking
key by advisory locks, lost races are retried); SQLite has one writer, which ingestion
takes before it reads, so the same invariants hold there too.
"""
from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from stdnum.iso7064 import mod_11_10

from mdm.context import cli_context
from mdm.db import db
from mdm.records.models import GoldenRecord, SourceRecord
from mdm.sources.models import SourceSystem
from mdm.stewardship import service as stewardship

SYLLABLES = ("ka", "lo", "mi", "ru", "te", "vo", "xa", "ze", "pi", "nu")


def vat(i: int) -> str:
    """A valid German VAT number, different for every ``i``."""
    body = str(10_000_000 + i)
    return f"DE{body}{mod_11_10.calc_check_digit(body)}"


def company(i: int) -> str:
    """A distinctive one-word company name per ``i`` (no shared name tokens but "GmbH")."""
    word = "".join(SYLLABLES[(i // 10**k) % 10] for k in range(3))
    return f"{word.capitalize()}dor GmbH"


def run_together(*work: Callable[[Any], None], app: Any) -> list[BaseException]:
    """Run each callable in its own thread with its own test client, started together."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def run(fn: Callable[[Any], None]) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            fn(client)
        except BaseException as exc:  # reported to the test, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def bulk(client: Any, headers: dict[str, str], system: str,
         records: list[dict[str, Any]]) -> dict[str, Any]:
    r = client.post("/domains/supplier/records/bulk", headers=headers,
                    json={"source_system": system, "records": records})
    assert r.status_code == 200, (r.status_code, r.json)
    return r.json


def goldens_by_key(app: Any) -> dict[tuple[str, str], str]:
    with app.app_context():
        rows = db.session.execute(
            select(SourceSystem.code, SourceRecord.source_id, SourceRecord.golden_id)
            .join(SourceSystem, SourceSystem.id == SourceRecord.source_system_id))
        out = {(code, sid): gid for code, sid, gid in rows}
        db.remove_session()
    return out


def no_pending_recompute(app: Any) -> None:
    """Survivorship is current: a dry-run recompute finds nothing to change."""
    with app.app_context():
        summary = stewardship.recompute(db.session, app.extensions["mdm_domains"],
                                        cli_context(), "supplier", dry_run=True)
        db.remove_session()
    assert summary.changed == 0, summary.diffs


# Chunks of 10 lock each blocking key; chunks of 40 have more keys than MAX_KEY_LOCKS and
# lock the whole domain.
@pytest.mark.parametrize("chunk", [10, 40])
def test_same_companies_from_two_systems_at_once_merge_like_sequential_ingestion(
        app: Any, admin: dict[str, str], sources: list[str], chunk: int) -> None:
    n = 80
    records = [{"source_id": f"V{i}", "attributes": {
        "name": company(i), "country": "DE", "tax_id": vat(i)}} for i in range(n)]
    chunks = [records[i:i + chunk] for i in range(0, n, chunk)]

    def send(system: str, part: list[list[dict[str, Any]]]) -> Callable[[Any], None]:
        def go(client: Any) -> None:
            for c in part:
                out = bulk(client, admin, system, c)
                assert out["summary"] == {"created": len(c)}, out
        return go

    # Two clients per system, each sending every other chunk, all four at once.
    errors = run_together(send("SAP", chunks[0::2]), send("SAP", chunks[1::2]),
                          send("COUPA", chunks[0::2]), send("COUPA", chunks[1::2]), app=app)
    assert not errors, errors
    golden = goldens_by_key(app)
    assert len(golden) == 2 * n  # nothing lost, nothing twice
    unmerged = [i for i in range(n) if golden["SAP", f"V{i}"] != golden["COUPA", f"V{i}"]]
    assert unmerged == []  # what one-after-the-other ingestion gives
    assert len(set(golden.values())) == n
    with app.app_context():
        active = db.session.scalar(select(func.count()).select_from(GoldenRecord)
                                   .where(GoldenRecord.status == "active"))
        db.remove_session()
    assert active == n
    no_pending_recompute(app)


def test_two_clients_creating_the_same_source_key_get_created_and_unchanged(
        app: Any, admin: dict[str, str], sources: list[str]) -> None:
    rounds = 12
    statuses: dict[int, list[tuple[int, str]]] = defaultdict(list)
    lock = threading.Lock()

    def client_for(i: int, city: str) -> Callable[[Any], None]:
        def go(client: Any) -> None:
            body = {"source_system": "SAP", "source_id": f"K{i}",
                    "attributes": {"name": company(500 + i), "country": "DE", "city": city}}
            r = client.post("/domains/supplier/records", headers=admin, json=body)
            with lock:
                statuses[i].append((r.status_code, (r.json or {}).get("status", r.json)))
        return go

    for i in range(rounds):
        # Even rounds send the same record twice; odd rounds two versions of it.
        second_city = "Kiel" if i % 2 == 0 else "Lübeck"
        errors = run_together(client_for(i, "Kiel"), client_for(i, second_city), app=app)
        assert not errors, errors
    for i in range(rounds):
        second = "unchanged" if i % 2 == 0 else "updated"
        assert sorted(statuses[i]) == [(200, "created"), (200, second)], statuses[i]
    golden = goldens_by_key(app)
    assert len(golden) == rounds and len(set(golden.values())) == rounds


def test_two_clients_sending_the_same_update_get_updated_and_unchanged(
        app: Any, admin: dict[str, str], sources: list[str]) -> None:
    rounds = 8
    with app.test_client() as c:
        bulk(c, admin, "SAP", [{"source_id": f"U{i}", "attributes": {
            "name": company(700 + i), "country": "DE"}} for i in range(rounds)])
    statuses: dict[int, list[str]] = defaultdict(list)

    def client_for(i: int) -> Callable[[Any], None]:
        def go(client: Any) -> None:
            r = client.post("/domains/supplier/records", headers=admin, json={
                "source_system": "SAP", "source_id": f"U{i}",
                "attributes": {"name": company(700 + i), "country": "DE", "city": "Kiel"}})
            assert r.status_code == 200, r.json
            statuses[i].append(r.json["status"])
        return go

    for i in range(rounds):
        errors = run_together(client_for(i), client_for(i), app=app)
        assert not errors, errors
        # what one after the other gives: the second finds nothing new
        assert sorted(statuses[i]) == ["unchanged", "updated"], statuses[i]
        r = app.test_client().get(f"/domains/supplier/records/SAP/U{i}", headers=admin)
        assert r.json["version"] == 2, r.json


def test_a_race_on_one_record_of_a_bulk_request_does_not_reject_the_others(
        app: Any, admin: dict[str, str], sources: list[str]) -> None:
    # Two bulk requests from one system share one new key; the rest differ.
    shared = {"source_id": "SHARED", "attributes": {"name": company(900), "country": "DE"}}
    results: list[dict[str, Any]] = []

    def send(offset: int) -> Callable[[Any], None]:
        def go(client: Any) -> None:
            records = [{"source_id": f"B{offset + i}",
                        "attributes": {"name": company(offset + i), "country": "DE"}}
                       for i in range(20)]
            results.append(bulk(client, admin, "SAP", [*records[:10], shared, *records[10:]]))
        return go

    for r in range(5):
        results.clear()
        errors = run_together(send(1000 + 100 * r), send(1050 + 100 * r), app=app)
        assert not errors, errors
        counts = sorted((dict(Counter(res["status"] for res in out["results"]))
                         for out in results), key=len)
        # one request created the shared key, the other found it (unchanged); nothing rejected
        assert counts == [{"created": 21}, {"created": 20, "unchanged": 1}], counts
        shared["source_id"] = f"SHARED{r}"
    golden = goldens_by_key(app)
    assert len(golden) == 5 * (40 + 1)


def test_near_duplicates_and_updates_arriving_together_are_all_accepted(
        app: Any, admin: dict[str, str], sources: list[str]) -> None:
    n = 30
    base = [{"source_id": f"S{i}", "attributes": {
        "name": f"{company(i)}", "country": "DE", "city": "Hamburg",
        "postal_code": f"2{i:04d}", "street": f"Hafenstrasse {i}"}} for i in range(n)]
    with app.test_client() as c:
        bulk(c, admin, "SAP", base)

    def near(system: str, suffix: str) -> Callable[[Any], None]:
        def go(client: Any) -> None:
            for start in range(0, n, 5):
                records = [{"source_id": f"{system}{i}", "attributes": {
                    **base[i]["attributes"], "name": company(i).replace("GmbH", suffix)}}
                    for i in range(start, start + 5)]
                bulk(client, admin, system, records)
        return go

    def update(client: Any) -> None:
        for start in range(0, n, 5):
            records = [{"source_id": f"S{i}", "attributes": {
                **base[i]["attributes"], "phone": f"+49 40 555{i:04d}"}}
                for i in range(start, start + 5)]
            out = bulk(client, admin, "SAP", records)
            assert {r["status"] for r in out["results"]} == {"updated"}, out

    errors = run_together(near("COUPA", "G.m.b.H."), near("SFDC", "GmbH."), update, app=app)
    assert not errors, errors
    golden = goldens_by_key(app)
    assert len(golden) == 3 * n
    with app.app_context():
        phones = dict(db.session.execute(select(SourceRecord.source_id,
                                                SourceRecord.attributes["phone"].as_string())
                                          .where(SourceRecord.source_id.like("S%"))).all())
        db.remove_session()
    assert all(phones[f"S{i}"] for i in range(n))
    no_pending_recompute(app)


@pytest.mark.postgres
def test_blocking_key_locks_exclude_each_other_until_commit(app: Any, sources: list[str]) -> None:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from mdm.matching.linker import MAX_KEY_LOCKS, lock_blocking_keys

    def blocked(session: Session, keys: list[str]) -> bool:
        """Whether taking ``keys`` would wait (lock_timeout turns the wait into an error)."""
        session.execute(text("SET LOCAL lock_timeout = '100ms'"))
        try:
            lock_blocking_keys(session, "supplier", keys)
        except OperationalError as exc:
            assert getattr(exc.orig, "sqlstate", None) == "55P03"  # lock_not_available
            return True
        finally:
            session.rollback()
        return False

    many = [f"name:k{i}" for i in range(MAX_KEY_LOCKS + 1)]
    with app.app_context():
        with Session(db.engine) as first, Session(db.engine) as second:
            lock_blocking_keys(first, "supplier", ["tax_id:DE136695976", "name:acme"])
            assert blocked(second, ["name:acme"])  # a shared key waits
            assert not blocked(second, ["tax_id:DE811569869"])  # other keys do not
            assert not blocked(second, [k + "x" for k in many[:MAX_KEY_LOCKS]])
            assert blocked(second, many)  # a domain-wide lock waits for every key lock
            first.commit()
            assert not blocked(second, ["name:acme"])
            assert not blocked(second, many)
            lock_blocking_keys(first, "supplier", many)
            assert blocked(second, ["name:other"])  # and every key waits for it
            first.rollback()

