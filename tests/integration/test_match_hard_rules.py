"""A batch re-match never writes a golden record that breaks a hard rule.

Incremental matching can leave a golden record holding records the batch puts elsewhere.
Merging such a golden record whole with another one, as the batch's clusters once were
applied, joined two firms with different valid tax ids (seen on generated data: two firms
in one building). Splits now go first and merges join the golden records holding the
batch cluster's records; a merge whose union breaks a hard rule is refused.
"""
from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from typing import Any

import pytest
from sqlalchemy import select

from mdm.context import cli_context
from mdm.matching import index, service
from mdm.matching.domains import settings_for
from mdm.matching.incremental import engine_for
from mdm.matching.linker import linker_factory
from mdm.matching.records import Record
from mdm.records import linking
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import ACTIVE, GoldenRecord, SourceRecord

BUILDING = {"country": "FI", "street": "Satamakatu 7", "postal_code": "00160",
            "city": "Helsinki"}
# two firms in one building, each with its own valid tax id
HELMI = {**BUILDING, "name": "Helmi Logistiikka Oy", "tax_id": "FI37860362"}
KIVI = {**BUILDING, "name": "Kivi Rakennus Oy", "tax_id": "FI83948138",
        "phone": "+358 9 4567 890", "website": "https://kivirakennus.fi"}
# Kivi again, from a system without tax ids: the batch puts it with KIVI
KIVI_CRM = {**BUILDING, "name": "Kivi Rakennus Oy", "phone": "+358 9 4567 890",
            "website": "https://kivirakennus.fi"}


@pytest.fixture
def registry(app: Any) -> Any:
    return app.extensions["mdm_domains"]


@pytest.fixture
def no_matching() -> Iterator[None]:
    linking.set_linker_factory(lambda d: linking.NewGoldenLinker())
    yield
    linking.set_linker_factory(linker_factory)


def load(session: Any, registry: Any, system: str, sid: str, attrs: dict[str, Any]) -> int:
    [result] = ingest(session, registry, "supplier", system, [IngestItem(sid, attrs)],
                      cli_context(f"load-{system}"))
    assert result.status == "created", result
    return session.scalar(select(SourceRecord.id).where(
        SourceRecord.golden_id == result.golden_id))


def golden_of(session: Any) -> dict[int, str]:
    session.expire_all()
    return {sr: g for sr, g in session.execute(
        select(SourceRecord.id, SourceRecord.golden_id)
        .join(GoldenRecord, GoldenRecord.id == SourceRecord.golden_id)
        .where(GoldenRecord.status == ACTIVE))}


def broken_rules(session: Any, registry: Any) -> list[str]:
    """Every active golden record whose records break a hard rule, with the reason."""
    settings = settings_for(registry.get("supplier"))
    engine = engine_for(settings, index.current_params(session, "supplier", settings)[0])
    by_golden: dict[str, list[Any]] = {}
    for sr_id, gid, attrs in session.execute(
        select(SourceRecord.id, SourceRecord.golden_id, SourceRecord.attributes)
        .join(GoldenRecord, GoldenRecord.id == SourceRecord.golden_id)
        .where(GoldenRecord.status == ACTIVE, SourceRecord.active.is_(True))
    ):
        by_golden.setdefault(gid, []).append(
            settings.prepare(Record(index.record_key(sr_id), "SAP", attrs)))
    found = []
    for gid, records in by_golden.items():
        for x, y in combinations(records, 2):
            why = engine.conflict(x.values, y.values)
            if why and why.startswith("rule:"):
                found.append(f"{gid}: {x.id} and {y.id} ({why})")
    return found


@pytest.mark.parametrize("one_at_a_time", [False, True], ids=["bulk", "one_at_a_time"])
def test_a_rematch_never_joins_different_valid_tax_ids_through_an_older_golden_record(
        sources: list[str], session: Any, registry: Any, no_matching: None,
        one_at_a_time: bool) -> None:
    helmi = load(session, registry, "SAP", "1", HELMI)
    kivi = load(session, registry, "SAP", "2", KIVI)
    crm = load(session, registry, "SFDC", "3", KIVI_CRM)
    # An incremental match from the past put Kivi's CRM record into Helmi's golden record.
    before = golden_of(session)
    session.get(SourceRecord, crm).golden_id = before[helmi]
    session.commit()
    assert broken_rules(session, registry) == []

    report = service.rematch(session, registry, cli_context(), "supplier", train=False,
                             workers=1, one_at_a_time=one_at_a_time)

    # the batch joins the CRM record with Kivi and takes it out of Helmi's golden record
    assert report.merges and report.splits
    now = golden_of(session)
    assert now[helmi] != now[kivi]
    assert now[crm] == now[kivi]
    assert report.applied["refused"] == [] and report.applied["failed"] == []
    assert broken_rules(session, registry) == []
    assert session.get(GoldenRecord, now[helmi]).attributes["tax_id"] == HELMI["tax_id"]
    assert session.get(GoldenRecord, now[kivi]).attributes["tax_id"] == KIVI["tax_id"]


@pytest.mark.parametrize("one_at_a_time", [False, True], ids=["bulk", "one_at_a_time"])
def test_a_merge_through_a_held_split_is_refused_and_reported(
        sources: list[str], session: Any, registry: Any, no_matching: None,
        one_at_a_time: bool) -> None:
    from mdm.context import Actor, RequestContext
    from mdm.stewardship import service as stewardship

    helmi = load(session, registry, "SAP", "1", HELMI)
    kivi = load(session, registry, "SAP", "2", KIVI)
    crm = load(session, registry, "SFDC", "3", KIVI_CRM)
    before = golden_of(session)
    # A person put the CRM record with Helmi: the re-match may not undo it (split held),
    # so joining the CRM record with Kivi would join Helmi with Kivi.
    alice = RequestContext(Actor(name="alice", role="steward"), "req-alice")
    stewardship.merge(session, registry, alice, [before[helmi], before[crm]], reason="mine")
    session.commit()

    report = service.rematch(session, registry, cli_context(), "supplier", train=False,
                             workers=1, one_at_a_time=one_at_a_time)

    assert len(report.applied["splits_held"]) == 1
    [refused] = report.applied["refused"]
    assert "rule:" in refused["reason"]
    assert sorted(refused["golden_ids"]) == sorted({before[helmi], before[kivi]})
    now = golden_of(session)
    assert now[helmi] == now[crm] != now[kivi]
    assert broken_rules(session, registry) == []
