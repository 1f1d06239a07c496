"""Matching on the database: incremental linking during ingestion, the blocking index,
stored decisions, batch re-matching and its dry-run report."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from mdm.context import Actor, RequestContext, cli_context
from mdm.domains.definitions import DefinitionError, parse_definition
from mdm.matching import index, service
from mdm.matching.domains import settings_for
from mdm.matching.linker import MatchingLinker, linker_factory
from mdm.matching.models import MatchBlockingKey, MatchDecisionRecord, MatchParams
from mdm.matching.records import Record
from mdm.records import linking
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import ACTIVE, MERGED, GoldenRecord, SourceRecord
from mdm.stewardship import service as stewardship
from mdm.stewardship.models import ReviewTask

MUELLER = {"name": "Müller Maschinenbau GmbH", "country": "DE", "tax_id": "DE136695976",
           "street": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin"}
# Same company, spelled as another system holds it: the same valid tax id decides.
MUELLER_COUPA = {"name": "Mueller Maschinenbau GmbH", "country": "DE",
                 "tax_id": "DE 136 695 976", "street": "Hauptstr. 5", "postal_code": "10115",
                 "city": "Berlin"}
# Same name and country only: between the thresholds (a steward should look).
MUELLER_CRM = {"name": "Müller Maschinenbau GmbH", "country": "DE"}
# Same name and address, but another valid tax id: a different legal entity.
MUELLER_OTHER = {**MUELLER, "tax_id": "DE129273398"}
SCHMIDT = {"name": "Schmidt Logistik AG", "country": "DE", "street": "Hafenweg 2",
           "postal_code": "20457", "city": "Hamburg"}
SCHMIDT_COUPA = {"name": "Schmidt Logistik AG", "country": "DE", "street": "Hafenweg 2",
                 "postal_code": "20457", "city": "Hamburg", "phone": "+49 40 123456"}
DUPONT = {"name": "Dupont Fournitures SARL", "country": "FR", "street": "12 rue de la Paix",
          "postal_code": "75002", "city": "Paris"}


def load(session: Any, registry: Any, system: str, records: dict[str, dict[str, Any]],
         domain: str = "supplier") -> list[str]:
    results = ingest(session, registry, domain, system,
                     [IngestItem(sid, attrs) for sid, attrs in records.items()],
                     cli_context(f"load-{system}"))
    assert all(r.status in ("created", "updated") for r in results), results
    return [r.golden_id for r in results]  # type: ignore[misc]


@pytest.fixture
def registry(app: Any) -> Any:
    return app.extensions["mdm_domains"]


@pytest.fixture
def no_matching() -> Iterator[None]:
    """Ingest as if matching were off (records loaded before it was switched on)."""
    linking.set_linker_factory(lambda d: linking.NewGoldenLinker())
    yield
    linking.set_linker_factory(linker_factory)


def decisions(session: Any, sr_golden: str) -> list[MatchDecisionRecord]:
    return service.decisions_for_golden(session, sr_golden)


# --- incremental ----------------------------------------------------------------------------

def test_a_record_with_the_same_valid_tax_id_joins_the_golden_record(
        sources: list[str], session: Any, registry: Any) -> None:
    [g1] = load(session, registry, "SAP", {"V1": MUELLER})
    [g2] = load(session, registry, "COUPA", {"C9": MUELLER_COUPA})

    assert g2 == g1
    golden = session.get(GoldenRecord, g1)
    assert golden.version == 2 and golden.status == ACTIVE
    rows = decisions(session, g1)
    # only what changed something is stored: the merge, not the first record's "new"
    assert [(d.action, d.mode) for d in rows] == [("merge", "incremental")]
    merge = rows[0]
    assert merge.probability == 1.0 and merge.related_golden_ids == []
    pair = merge.explanation["pairs"][0]
    assert pair["rule"] == "same_valid_tax_id" and pair["outcome"] == "auto_merge"
    assert {c["comparison"] for c in pair["contributions"]} >= {"name", "tax_id", "street"}
    settings = settings_for(registry.get("supplier"))
    assert merge.settings_version == settings.version
    assert merge.explanation["record_id"] == f"sr:{merge.source_record_id}"
    # Both records are in the blocking index under the current settings.
    assert session.scalar(select(func.count(func.distinct(MatchBlockingKey.source_record_id)))) == 2


def test_between_the_thresholds_a_review_task_is_opened(
        sources: list[str], session: Any, registry: Any) -> None:
    [g1] = load(session, registry, "SAP", {"V1": MUELLER})
    [g2] = load(session, registry, "SFDC", {"A-1": MUELLER_CRM})

    assert g2 != g1
    task = session.scalar(select(ReviewTask))
    assert task.golden_ids == sorted([g1, g2]) and 0.8 <= task.score < 0.99
    [d] = [d for d in decisions(session, g2) if d.golden_id == g2]
    assert d.action == "review" and d.review_task_id == task.id
    assert d.related_golden_ids == [g1]
    assert task.explanation["pairs"][0]["outcome"] == "review"


def test_another_valid_tax_id_starts_a_new_golden_record(
        sources: list[str], session: Any, registry: Any) -> None:
    [g1] = load(session, registry, "SAP", {"V1": MUELLER})
    [g2] = load(session, registry, "COUPA", {"C1": MUELLER_OTHER})

    assert g2 != g1
    assert session.scalar(select(func.count()).select_from(ReviewTask)) == 0
    assert decisions(session, g2) == []  # a new golden record with nothing near it


def test_records_of_one_request_are_matched_with_each_other_without_chaining(
        sources: list[str], session: Any, registry: Any) -> None:
    g = load(session, registry, "SAP", {"1": MUELLER, "2": SCHMIDT, "3": MUELLER_COUPA,
                                        "4": SCHMIDT_COUPA, "5": MUELLER_OTHER})
    assert g[0] == g[2] and g[1] == g[3]
    assert len({g[0], g[1], g[4]}) == 3


def test_an_updated_record_is_reindexed_in_the_same_transaction(
        sources: list[str], session: Any, registry: Any) -> None:
    load(session, registry, "SAP", {"2": SCHMIDT})
    load(session, registry, "SAP", {"2": {**SCHMIDT, "name": "Hanse Spedition AG"}})
    sr_id = session.scalar(select(SourceRecord.id).where(SourceRecord.source_id == "2"))
    settings = settings_for(registry.get("supplier"))
    renamed = Record("x", "SAP", {**SCHMIDT, "name": "Hanse Spedition AG"})
    wanted = {index.key_hash("supplier", k)
              for k in index.keys_of(settings, settings.prepare(renamed))}
    stored = set(session.scalars(select(MatchBlockingKey.key_hash)
                                 .where(MatchBlockingKey.source_record_id == sr_id)))
    assert stored == wanted  # the old name's keys are gone, the new name's are there
    # and the renamed record is found under its new name
    [g] = load(session, registry, "COUPA", {"H": {**SCHMIDT, "name": "Hanse Spedition AG",
                                                  "phone": "+49 40 123456"}})
    sr = session.scalar(select(SourceRecord).where(SourceRecord.source_id == "2"))
    assert g == sr.golden_id


def test_candidate_lookup_is_capped_per_key(session: Any, registry: Any,
                                            sources: list[str]) -> None:
    load(session, registry, "SAP", {str(i): {"name": f"Nordwind {i} GmbH", "country": "DE"}
                                    for i in range(8)})
    found = index.lookup(session, "supplier", ["country+name:first_token:DE\x1fnordwind"], cap=5)
    assert len(found["country+name:first_token:DE\x1fnordwind"]) == 5


# --- domains and settings ----------------------------------------------------------------------

PERSON = {"name": "person", "attributes": [{"name": "surname"}, {"name": "postcode"}]}


def test_domains_choose_their_settings() -> None:
    assert settings_for(parse_definition(PERSON)) is None  # custom, no match block
    off = parse_definition({**PERSON, "match": {"enabled": False}})
    assert isinstance(linker_factory(off), linking.NewGoldenLinker)
    block = {"features": [{"name": "surname"}, {"name": "postcode", "normalizer": "postcode"}],
             "comparisons": [{"type": "ExactMatch", "feature": "surname"}],
             "blocking": [{"name": "postcode", "keys": ["postcode"]}], "version": "p-1"}
    own = parse_definition({**PERSON, "match": block})
    assert settings_for(own).version.startswith("p-1+")
    assert isinstance(linker_factory(own), MatchingLinker)
    with pytest.raises(DefinitionError, match="invalid match settings"):
        settings_for(parse_definition({**PERSON, "name": "bad", "match": {"features": []}}))


# --- batch -------------------------------------------------------------------------------------

def current_clusters(session: Any) -> set[frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for sr_id, gid in session.execute(select(SourceRecord.id, SourceRecord.golden_id)).all():
        groups.setdefault(gid, set()).add(sr_id)
    return {frozenset(v) for v in groups.values()}


def test_incremental_and_batch_agree_on_the_same_data(
        sources: list[str], session: Any, registry: Any) -> None:
    for system, sid, attrs in [("SAP", "1", MUELLER), ("SAP", "2", SCHMIDT),
                               ("COUPA", "1", MUELLER_COUPA), ("SAP", "3", DUPONT),
                               ("COUPA", "2", SCHMIDT_COUPA), ("SFDC", "1", MUELLER_OTHER),
                               ("SFDC", "2", {**DUPONT, "name": "DuPont Fournitures"})]:
        load(session, registry, system, {sid: attrs})
    before = current_clusters(session)
    assert len(before) == 4

    report = service.rematch(session, registry, cli_context(), "supplier", dry_run=True,
                             train=False, workers=1)

    assert report.records == 7 and report.merges == [] and report.splits == []
    assert report.unchanged == 4


def test_dry_run_reports_merges_and_splits_and_changes_nothing(
        session: Any, registry: Any, sources: list[str], no_matching: None) -> None:
    a, b, _ = load(session, registry, "SAP", {"1": MUELLER, "2": SCHMIDT, "3": DUPONT})
    [a2] = load(session, registry, "COUPA", {"1": MUELLER_COUPA})
    # A wrong merge from the past: a different company sits in Schmidt's golden record.
    other = session.scalar(select(SourceRecord).where(SourceRecord.source_id == "3"))
    other.golden_id = b
    session.commit()

    report = service.rematch(session, registry, cli_context(), "supplier", dry_run=True,
                             train=False, workers=1)

    merged_records = sorted(session.scalars(
        select(SourceRecord.id).where(SourceRecord.golden_id.in_([a, a2]))))
    assert report.merges == [{"golden_ids": sorted([a, a2]),
                              "source_record_ids": merged_records}]
    assert [s["golden_id"] for s in report.splits] == [b]
    assert session.scalar(select(func.count()).select_from(GoldenRecord)
                          .where(GoldenRecord.status == MERGED)) == 0
    assert session.scalar(select(func.count()).select_from(MatchParams)) == 0
    assert session.scalar(select(func.count()).select_from(MatchDecisionRecord)) == 0


def test_applying_a_rematch_merges_through_stewardship_and_respects_not_a_match(
        app: Any, session: Any, registry: Any, sources: list[str], no_matching: None) -> None:
    [a, b] = load(session, registry, "SAP", {"1": MUELLER, "2": SCHMIDT})
    [a2, b2] = load(session, registry, "COUPA", {"1": MUELLER_COUPA, "2": SCHMIDT_COUPA})
    stewardship.mark_not_a_match(session, registry, cli_context(), "supplier",
                                 reason="different branches", golden_ids=[b, b2])
    linking.set_linker_factory(linker_factory)

    report = service.rematch(session, registry, cli_context(), "supplier", train=False,
                             workers=1)

    assert [m["golden_ids"] for m in report.merges] == [sorted([a, a2])]
    assert report.applied["merged"] == 1 and report.applied["failed"] == []
    assert session.get(GoldenRecord, a2).status == MERGED
    assert session.get(GoldenRecord, b2).status == ACTIVE  # a steward said no
    [d] = session.scalars(select(MatchDecisionRecord).where(MatchDecisionRecord.mode == "batch"))
    assert d.actor == "matching" and d.golden_id == a and d.related_golden_ids == [a2]
    assert d.explanation["pairs"][0]["rule"] == "same_valid_tax_id"
    assert d in service.decisions_for_golden(session, a)
    # every record is in the index for incremental matching afterwards
    assert session.scalar(select(func.count(func.distinct(MatchBlockingKey.source_record_id)))) == 4


def test_applying_a_rematch_splits_a_wrong_merge_without_a_lasting_not_a_match(
        session: Any, registry: Any, sources: list[str], no_matching: None) -> None:
    a, b, c = load(session, registry, "SAP", {"1": MUELLER, "2": SCHMIDT, "3": DUPONT})
    # A wrong merge from the past (an old matcher): DuPont sits in Schmidt's record.
    dupont = session.scalar(select(SourceRecord).where(SourceRecord.source_id == "3"))
    dupont.golden_id = b
    session.commit()

    report = service.rematch(session, registry, cli_context(), "supplier", train=False,
                             workers=1)

    assert [s["golden_id"] for s in report.splits] == [b]
    assert report.applied["split"] == 1 and report.applied["splits_held"] == []
    session.expire_all()
    moved = session.get(SourceRecord, dupont.id)
    assert moved.golden_id not in (a, b, c)
    assert session.get(GoldenRecord, moved.golden_id).attributes["name"] == DUPONT["name"]
    assert session.get(GoldenRecord, b).attributes["name"] == SCHMIDT["name"]
    assert current_clusters(session) == {frozenset([r]) for r in session.scalars(
        select(SourceRecord.id))}
    # the split is the matcher's finding, not a steward's ruling: nothing is pinned
    assert stewardship.not_a_match_pairs(session, "supplier") == set()
    again = service.rematch(session, registry, cli_context(), "supplier", dry_run=True,
                            train=False, workers=1)
    assert again.splits == [] and again.merges == []


def test_a_split_of_records_a_person_merged_is_held_for_a_steward(
        session: Any, registry: Any, sources: list[str], no_matching: None) -> None:
    _, b, c = load(session, registry, "SAP", {"1": MUELLER, "2": SCHMIDT, "3": DUPONT})
    alice = RequestContext(Actor(name="alice", role="steward"), "req-alice")
    stewardship.merge(session, registry, alice, [b, c], reason="same company, I checked")
    before = current_clusters(session)

    report = service.rematch(session, registry, cli_context(), "supplier", train=False,
                             workers=1)

    [held] = report.applied["splits_held"]
    survivor = session.scalar(select(SourceRecord.golden_id).where(SourceRecord.source_id == "2"))
    assert held["golden_id"] == survivor and survivor in (b, c)
    assert "made by a person" in held["reason"]
    assert report.applied["split"] == 0
    session.expire_all()
    assert current_clusters(session) == before


def test_a_trained_run_stores_parameters_that_incremental_matching_then_uses(
        sources: list[str], session: Any, registry: Any) -> None:
    load(session, registry, "SAP", {str(i): {"name": f"Firma {w} GmbH", "country": "DE",
                                             "city": c, "postal_code": p}
                                    for i, (w, c, p) in enumerate(
                                        [("Alpha", "Berlin", "10115"), ("Beta", "Köln", "50667"),
                                         ("Gamma", "Bonn", "53111"), ("Delta", "Ulm", "89073"),
                                         ("Epsilon", "Kiel", "24103"), ("Zeta", "Jena", "07743")])})
    report = service.rematch(session, registry, cli_context(), "supplier", workers=1)
    row = session.scalar(select(MatchParams))
    assert row is not None and row.params_version == report.params_version
    view = service.settings_view(session, registry, "supplier")
    assert view["params"]["source"] == "trained" and view["params"]["version"] == row.params_version
    [g] = load(session, registry, "COUPA", {"x": {"name": "Firma Alpha GmbH", "country": "DE",
                                                  "city": "Berlin", "postal_code": "10115"}})
    [d] = service.decisions_for_golden(session, g)
    assert d.action in ("merge", "review") and d.params_version == row.params_version
