"""Stewardship services on the database: the matching interface, four eyes on source
updates, survivorship recompute, and concurrent merges on PostgreSQL."""
from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from mdm.context import Actor, RequestContext, cli_context
from mdm.db import db
from mdm.events import service as change_events
from mdm.events.models import ChangeEvent
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import GoldenRecord, SourceRecord
from mdm.stewardship import service
from mdm.stewardship.models import ChangeRequest, LineageOperation, ReviewTask

IBAN_1 = "DE89370400440532013000"
IBAN_2 = "GB82WEST12345698765432"
# Names far apart, so incremental matching leaves each record its own golden record.
NAMES = ("Alpha Metals", "Brightwater Foods", "Cobalt Logistics", "Delta Paper Mills")


def load(app: Any, system: str, records: dict[str, dict[str, Any]]) -> list[str]:
    with app.app_context():
        results = ingest(db.session, app.extensions["mdm_domains"], "supplier", system,
                         [IngestItem(sid, attrs) for sid, attrs in records.items()],
                         cli_context(f"load-{system}"))
        db.remove_session()
    return [r.golden_id for r in results]


def steward(name: str) -> RequestContext:
    return RequestContext(Actor(name=name, role="steward"), f"req-{name}")


def test_open_review_task_is_idempotent_and_joins_the_callers_transaction(
        app: Any, session: Any, sources: list[str]) -> None:
    a, b, c = load(app, "SAP", {str(i): {"name": NAMES[i]} for i in range(3)})
    ctx = cli_context("matching")
    t1 = service.open_review_task(session, ctx, domain="supplier", golden_ids=[b, a],
                                  source_record_ids=[1, 2], score=0.8, explanation={"x": 1})
    t2 = service.open_review_task(session, ctx, domain="supplier", golden_ids=[a, b, a],
                                  source_record_ids=None, score=0.9, explanation={})
    assert t1 is t2 and t1.golden_ids == sorted([a, b]) and t1.source_systems == ",SAP,"
    session.rollback()  # nothing was committed by the service
    assert session.scalar(select(func.count()).select_from(ReviewTask)) == 0
    t3 = service.open_review_task(session, ctx, domain="supplier", golden_ids=[a, b, c],
                                  source_record_ids=None, score=0.75, explanation={})
    session.commit()
    assert t3.golden_ids == sorted([a, b, c])
    with pytest.raises(Exception, match="two or more"):
        service.open_review_task(session, ctx, domain="supplier", golden_ids=[a, a],
                                 source_record_ids=None, score=0.5, explanation={})


def test_not_a_match_pairs_follow_merges_and_revocations(app: Any, session: Any,
                                                         sources: list[str]) -> None:
    registry = app.extensions["mdm_domains"]
    a, b, c = load(app, "SAP", {"1": {"name": NAMES[0]}, "2": {"name": NAMES[1]},
                                "3": {"name": NAMES[2]}})
    (d,) = load(app, "COUPA", {"9": {"name": NAMES[3]}})
    ctx = steward("alice")
    nam, created = service.mark_not_a_match(session, registry, ctx, "supplier",
                                            golden_ids=[b, c], reason="different")
    assert created
    sr = dict(session.execute(select(SourceRecord.golden_id, SourceRecord.id)).all())
    service.mark_not_a_match(session, registry, ctx, "supplier", reason="no",
                             source_records=[("SAP", "1"), ("COUPA", "9")])
    assert service.not_a_match_pairs(session, "supplier") == {
        frozenset((b, c)), frozenset((f"sr:{sr[a]}", f"sr:{sr[d]}"))}
    kept = service.merge(session, registry, ctx, [a, b], reason="same").golden.id
    assert frozenset((kept, c)) in service.not_a_match_pairs(session, "supplier")
    # the source-record decision blocks merging their golden records
    with pytest.raises(Exception, match="not-a-match"):
        service.merge(session, registry, ctx, [kept, d], reason="same?")
    service.revoke_not_a_match(session, ctx, nam.id, reason="re-check")
    assert frozenset((kept, c)) not in service.not_a_match_pairs(session, "supplier")


def test_source_iban_change_waits_for_a_steward_and_a_rejection_sticks(
        app: Any, session: Any, sources: list[str]) -> None:
    registry = app.extensions["mdm_domains"]
    (gid,) = load(app, "SAP", {"1": {"name": "Acme", "iban": IBAN_1}})
    load(app, "SAP", {"1": {"name": "Acme", "iban": IBAN_2}})
    g = session.get(GoldenRecord, gid)
    cr = session.scalar(select(ChangeRequest))
    assert (cr.value, cr.previous, cr.status) == (IBAN_2, IBAN_1, "pending")
    # IBAN_2 is published nowhere; the new version only says which request holds IBAN_1
    assert g.attributes["iban"] == IBAN_1 and g.version == 2
    assert g.provenance["iban"] == {"rule": "held_by_change_request", "change_request_id": cr.id}
    # in the events as they are read and published (their records included)
    assert all(IBAN_2 not in str(p)
               for p in change_events.payloads(session, session.scalars(select(ChangeEvent)).all()))
    # a later, unrelated update neither publishes the IBAN nor opens a second request
    load(app, "SAP", {"1": {"name": "Acme AG", "iban": IBAN_2}})
    session.expire_all()
    assert session.get(GoldenRecord, gid).attributes == {"name": "Acme AG", "iban": IBAN_1}
    assert session.scalar(select(func.count()).select_from(ChangeRequest)) == 1
    service.reject_change_request(session, steward("bob"), cr.id, reason="fraud check failed")
    load(app, "SAP", {"1": {"name": "Acme AG.", "iban": IBAN_2}})
    assert session.scalar(select(func.count()).select_from(ChangeRequest)) == 1
    # the source reverts: nothing to approve; a new IBAN opens a new request
    load(app, "SAP", {"1": {"name": "Acme AG.", "iban": IBAN_1}})
    load(app, "SAP", {"1": {"name": "Acme AG.", "iban": "DE44500105175407324931"}})
    pending = list(session.scalars(select(ChangeRequest).where(ChangeRequest.status == "pending")))
    assert [c.value for c in pending] == ["DE44500105175407324931"]
    load(app, "SAP", {"1": {"name": "Acme AG.", "iban": IBAN_1}})  # withdrawn by the source
    with pytest.raises(Exception, match="out of date"):
        service.approve_change_request(session, registry, steward("bob"), pending[0].id)
    session.expire_all()
    assert session.get(ChangeRequest, pending[0].id).status == "superseded"


def test_recompute_dry_run_then_real_run(app: Any, sources: list[str]) -> None:
    from mdm.domains.registry import DomainRegistry

    load(app, "SAP", {"1": {"name": NAMES[0], "street": "Main St 1"}})
    load(app, "COUPA", {"1": {"name": NAMES[1], "street": "Main Street 1, Building B"}})
    gids = load(app, "SFDC", {"1": {"name": NAMES[2], "street": "Main St 1"}})
    with app.app_context():
        registry = app.extensions["mdm_domains"]
        ids = list(db.session.scalars(select(GoldenRecord.id).order_by(GoldenRecord.id)))
        service.merge(db.session, registry, cli_context(), ids, reason="one")
        survivor = db.session.get(GoldenRecord, ids[0])
        assert survivor.attributes["street"] == "Main Street 1, Building B"  # longest
        # the rules change: street by source priority, SAP first
        supplier = registry.get("supplier")
        rules = {**supplier.survivorship, "attributes": {
            "street": {"rule": "source_priority", "priority": ["SAP", "COUPA"]}}}
        changed = DomainRegistry([*(d for d in registry if d.name != "supplier"),
                                  dataclasses.replace(supplier, survivorship=rules)])
        seen: list[tuple[int, int, int]] = []
        dry = service.recompute(db.session, changed, cli_context(), "supplier", dry_run=True,
                                progress=lambda *a: seen.append(a))
        assert dry.changed == 1 and dry.diffs[0]["changes"]["street"]["to"] == "Main St 1"
        assert seen == [(1, 1, 1)]
        db.session.expire_all()
        assert db.session.get(GoldenRecord, ids[0]).attributes["street"].endswith("B")
        real = service.recompute(db.session, changed, cli_context(), "supplier")
        assert real.changed == 1
        db.session.expire_all()
        g = db.session.get(GoldenRecord, ids[0])
        assert g.attributes["street"] == "Main St 1"
        assert g.provenance["street"]["rule"] == "source_priority"
        assert service.recompute(db.session, changed, cli_context(), "supplier").changed == 0
        db.remove_session()
    assert gids


def test_recompute_cli(app: Any, sources: list[str]) -> None:
    load(app, "SAP", {"1": {"name": "Cli GmbH"}})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["survivorship", "recompute", "supplier", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "1 golden records, 0 would change" in result.output
    result = runner.invoke(args=["survivorship", "recompute", "unicorn"])
    assert result.exit_code == 2


@pytest.mark.postgres
def test_concurrent_merges_of_the_same_records_have_one_winner(app: Any, client: Any,
                                                               make_key: Any,
                                                               sources: list[str]) -> None:
    ids = load(app, "SAP", {str(i): {"name": NAMES[i]} for i in range(3)})
    alice, bob = make_key("steward"), make_key("steward")
    tags = {gid: client.get(f"/golden/{gid}", headers=alice).headers["ETag"] for gid in ids}
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def act(headers: dict[str, str], target: str, others: list[str]) -> None:
        c = app.test_client()
        barrier.wait()
        r = c.post(f"/golden/{target}/merge", headers={**headers, "If-Match": tags[target]},
                   json={"golden_ids": others, "reason": "same twin"})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=act, args=(alice, ids[0], ids[1:])),
               threading.Thread(target=act, args=(bob, ids[2], ids[:2]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses)[0] == 200 and sorted(statuses)[1] in (409, 412), statuses
    with app.app_context():
        s = db.session
        (op,) = s.scalars(select(LineageOperation))
        goldens = {g.id: g for g in s.scalars(select(GoldenRecord))}
        won = op.survivor_id
        assert goldens[won].status == "active" and goldens[won].version == 2
        assert {goldens[i].merged_into for i in ids if i != won} == {won}
        assert set(s.scalars(select(SourceRecord.golden_id))) == {won}
        events = s.scalar(select(func.count()).select_from(ChangeEvent)
                          .where(ChangeEvent.type == "merged"))
        assert events == 3  # one per record, from the winner only
        db.remove_session()


def test_survivors_follow_merge_chains_whatever_their_depth(app: Any, session: Any,
                                                            sources: list[str]) -> None:
    """One walk of ``merged_into`` (records.service.survivor_ids) serves stewardship,
    crosswalks and record reads alike: a chain of merges resolves to its last survivor,
    a survivor to itself, an unknown id to itself, and a broken cyclic chain terminates."""
    a, b, c, d = load(app, "SAP", {str(i): {"name": NAMES[i]} for i in range(4)})
    registry = app.extensions["mdm_domains"]
    ctx = steward("ada")
    first = service.merge(session, registry, ctx, [c, d], reason="same company").golden.id
    second = service.merge(session, registry, ctx, [b, first], reason="same company").golden.id
    third = service.merge(session, registry, ctx, [a, second], reason="same company").golden.id
    assert third in {a, b, c, d}
    resolved = service.survivors(session, [d, c, b, a, "no-such-id"])
    assert resolved == {d: third, c: third, b: third, a: third, "no-such-id": "no-such-id"}
    victims = {a, b, c, d} - {third}
    assert {session.get(GoldenRecord, g).merged_into for g in victims} <= {a, b, c, d}

    from mdm.records.service import survivor_of
    for g in (a, b, c, d):
        assert survivor_of(session, session.get(GoldenRecord, g)).id == third

    # A corrupted chain (the survivor pointing back into its own chain) must not loop forever.
    session.get(GoldenRecord, third).merged_into = sorted(victims)[0]
    session.flush()
    assert service.survivors(session, [d])[d] in {a, b, c, d}
    session.rollback()
