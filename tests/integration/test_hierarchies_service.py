"""Hierarchy services on a real database: golden-record lookups, imports that are all or
nothing, effective-dated moves, the four-eyes approval flow, publication events, version
diffs and export round trips."""
from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mdm.context import Actor, RequestContext
from mdm.errors import Conflict, Forbidden, NotFound, ValidationFailed
from mdm.events.models import ChangeEvent
from mdm.hierarchies import formats, queries, service, storage
from mdm.hierarchies.engine import Rule
from mdm.hierarchies.models import HierarchyNode
from mdm.records.ingest import IngestItem, ingest

SAMPLE = Path(__file__).parents[2] / "scripts" / "sample" / "chart_of_accounts.csv"
TODAY = date.today()
NEXT_YEAR = date(TODAY.year + 1, 1, 1)


def steward(name: str) -> RequestContext:
    return RequestContext(Actor(name=f"key:{name}:steward", role="steward", key_id=name))


ALICE, BOB = steward("alice"), steward("bob")


@pytest.fixture
def registry(app: Any) -> Any:
    return app.extensions["mdm_domains"]


def load(session: Any, registry: Any, domain: str, rows: list[dict[str, Any]]) -> None:
    items = [IngestItem(r.pop("source_id", None) or r["code"], r) for r in rows]
    results = ingest(session, registry, domain, "SAP", items, ALICE, from_text=True)
    assert all(r.status == "created" for r in results), [r.errors for r in results]


@pytest.fixture
def chart(session: Any, registry: Any, sources: list[str]) -> str:
    with SAMPLE.open(encoding="utf-8") as fh:
        load(session, registry, "gl_account", list(csv.DictReader(fh)))
    return SAMPLE.read_text(encoding="utf-8")


def import_chart(session: Any, registry: Any, text: str, name: str = "GRP-MGMT",
                 ctx: RequestContext = ALICE) -> service.ImportOutcome:
    return service.import_file(session, registry, ctx, name, text, "csv",
                               domain="gl_account", kind="management", chart="GRP")


def publish(session: Any, name: str, number: int) -> None:
    h = service.get_hierarchy(session, name)
    service.transition(session, ALICE, h, number, "submit")
    service.transition(session, BOB, h, number, "approve")
    service.transition(session, BOB, h, number, "publish")


def test_import_resolves_golden_records_and_validates(session, registry, chart) -> None:
    outcome = import_chart(session, registry, chart)
    assert outcome.validation.valid, outcome.validation.violations
    assert outcome.version.node_count == 20
    ids = session.scalars(select(HierarchyNode.golden_id)
                          .where(HierarchyNode.version_id == outcome.version.id)).all()
    assert len(ids) == 20 and all(ids)


def test_a_node_without_a_golden_record_is_reported_with_its_line(session, registry,
                                                                   chart) -> None:
    outcome = import_chart(session, registry, chart + "X-9,GRP,9999,Ghost,,,PL,false\n")
    [violation] = outcome.validation.violations
    assert (violation.rule, violation.node, violation.line) == (Rule.GOLDEN_RECORD, "9999", 22)
    with pytest.raises(ValidationFailed) as refused:
        service.transition(session, ALICE, outcome.hierarchy, 1, "submit")
    assert "golden_record" in refused.value.errors


def test_a_bad_file_is_refused_whole(session, registry, chart) -> None:
    bad = chart + "X-1,GRP,1300,Other,asset,debit,1000,maybe,2025-02-30\n"
    with pytest.raises(ValidationFailed):
        import_chart(session, registry, bad.replace("posting_allowed", "posting_allowed,valid_to"))
    with pytest.raises(ValidationFailed) as refused:
        service.import_file(session, registry, ALICE, "GRP-MGMT",
                            "node,parent,valid_from\n1000,,\n1100,1000,someday\n", "csv",
                            domain="gl_account", chart="GRP")
    assert list(refused.value.errors) == ["line 3"]
    session.rollback()
    with pytest.raises(NotFound):  # not even the hierarchy was created
        service.get_hierarchy(session, "GRP-MGMT")
    assert session.scalar(select(func.count()).select_from(HierarchyNode)) == 0


def test_four_eyes_approval_and_publication_event(session, registry, chart) -> None:
    h = import_chart(session, registry, chart).hierarchy
    with pytest.raises(Conflict):
        service.transition(session, BOB, h, 1, "approve")  # not submitted yet
    service.transition(session, ALICE, h, 1, "submit")
    with pytest.raises(Forbidden):
        service.transition(session, ALICE, h, 1, "approve")
    service.transition(session, BOB, h, 1, "approve")
    with pytest.raises(Conflict):
        queries.export(session, "GRP-MGMT", 1)  # approved is not published
    v = service.transition(session, BOB, h, 1, "publish")
    assert (v.status, v.approved_by, v.submitted_by) == ("published", BOB.actor.name,
                                                         ALICE.actor.name)
    [event] = session.scalars(select(ChangeEvent)
                              .where(ChangeEvent.type == "hierarchy_published")).all()
    assert (event.domain, event.golden_id, event.golden_version) == ("gl_account", h.id, 1)
    assert event.payload["record"]["node_count"] == 20


def test_an_editor_of_the_draft_cannot_approve_it(session, registry, chart) -> None:
    import_chart(session, registry, chart)
    publish(session, "GRP-MGMT", 1)
    h = service.get_hierarchy(session, "GRP-MGMT")
    service.create_version(session, ALICE, h)  # a copy of the published version
    service.plan_move(session, BOB, h, 2, node="5300", new_parent="4000",
                      effective_from=NEXT_YEAR)
    service.transition(session, ALICE, h, 2, "submit")
    with pytest.raises(Forbidden):
        service.transition(session, BOB, h, 2, "approve")
    service.transition(session, steward("carol"), h, 2, "approve")


def test_a_reorganisation_planned_ahead_keeps_todays_view(session, registry, chart) -> None:
    import_chart(session, registry, chart)
    publish(session, "GRP-MGMT", 1)
    h = service.get_hierarchy(session, "GRP-MGMT")
    service.create_version(session, ALICE, h)
    service.plan_move(session, ALICE, h, 2, node="1120", new_parent="1000",
                      effective_from=NEXT_YEAR)
    publish(session, "GRP-MGMT", 2)

    today = queries.open_view(session, "GRP-MGMT")
    ahead = queries.open_view(session, "GRP-MGMT", at=NEXT_YEAR)
    assert today.version.number == 2
    assert queries.node(session, today, "1120")["parents"] == ["1100"]
    assert queries.node(session, ahead, "1120")["parents"] == ["1000"]
    assert [i["node"] for i in queries.children(session, ahead, "1100")["items"]] == ["1110"]
    assert [i["node"] for i in queries.ancestors(session, ahead, "1120")["items"]] == [
        "1000", "BS"]
    assert queries.paths(session, today, "1120")["level"] == 3
    # version 1 is archived, still readable by number
    assert queries.open_view(session, "GRP-MGMT", 1).version.status == "archived"


def test_move_validation(session, registry, chart) -> None:
    h = import_chart(session, registry, chart).hierarchy
    with pytest.raises(Conflict):  # under its own descendant
        service.plan_move(session, ALICE, h, 1, node="1000", new_parent="1110",
                          effective_from=NEXT_YEAR)
    with pytest.raises(ValidationFailed):
        service.plan_move(session, ALICE, h, 1, node="1000", new_parent="nope",
                          effective_from=NEXT_YEAR)
    service.plan_move(session, ALICE, h, 1, node="4200", new_parent="1000",
                      effective_from=NEXT_YEAR)
    result = service.validate_version(session, h, 1)
    assert [(v.rule, v.node) for v in result.violations] == [(Rule.ACCOUNT_TYPE, "4200")]


def test_queries_and_move_impact(session, registry, chart) -> None:
    import_chart(session, registry, chart)
    view = queries.open_view(session, "GRP-MGMT", 1)
    d = queries.descendants(session, view, "1000")
    assert [(i["node"], i["depth"]) for i in d["items"]] == [
        ("1100", 1), ("1110", 2), ("1120", 2), ("1200", 1)]
    assert [i["node"] for i in queries.leaves(session, view, "PL")["items"]] == [
        "4100", "4200", "5100", "5200", "5300"]
    tree = queries.subtree(session, view, "1100")["tree"]
    assert [c["node"] for c in tree["children"]] == ["1110", "1120"]
    impact = queries.move_impact(session, view, "1100", "2000")
    assert impact["postable"] == ["1110", "1120"]
    assert impact["ancestors_losing"] == ["1000"] and impact["ancestors_gaining"] == ["2000"]
    with pytest.raises(NotFound):
        queries.node(session, view, "nope")
    with pytest.raises(NotFound):  # no published version yet
        queries.open_view(session, "GRP-MGMT")


def test_version_diff_against_published(session, registry, chart) -> None:
    import_chart(session, registry, chart)
    publish(session, "GRP-MGMT", 1)
    edited = chart.replace("GRP-5300,GRP,5300,Travel,expense,debit,5000,true\n", "")
    edited = edited.replace(",Rent,expense,debit,5000", ",Rent and leases,expense,debit,5000")
    edited = edited.replace("1200,Trade receivables,asset,debit,1000",
                            "1200,Trade receivables,asset,debit,1100")
    service.import_file(session, registry, ALICE, "GRP-MGMT", edited, "csv")
    result = queries.diff(session, "GRP-MGMT", 2)
    assert result["counts"] == {"added": 0, "removed": 1, "moved": 1, "renamed": 1}
    assert result["moved"][0]["node"] == "1200"
    assert result["moved"][0]["to_parents"] == ["1100"]
    assert result["renamed"][0]["to_name"] == "Rent and leases"


def test_export_round_trip(session, registry, chart) -> None:
    import_chart(session, registry, chart)
    publish(session, "GRP-MGMT", 1)
    meta, rows = queries.export(session, "GRP-MGMT")
    text = formats.to_csv(rows)
    doc = formats.to_json(rows, meta)
    # re-import both files as new drafts: nothing changes
    service.import_file(session, registry, ALICE, "GRP-MGMT", text, "csv")
    import json

    service.import_file(session, registry, ALICE, "GRP-MGMT", json.dumps(doc), "json")
    for number in (2, 3):
        assert queries.diff(session, "GRP-MGMT", number)["counts"] == {
            "added": 0, "removed": 0, "moved": 0, "renamed": 0}
    _, again = queries.export(session, "GRP-MGMT")
    assert formats.to_csv(again) == text
    _, today_rows = queries.export(session, "GRP-MGMT", at=TODAY)
    assert len(today_rows) == 20


def test_cost_center_hierarchy_checks_legal_entities(session, registry, sources) -> None:
    load(session, registry, "legal_entity", [{"code": "DE01", "name": "Acme GmbH"}])
    load(session, registry, "cost_center", [
        {"code": "CC1", "name": "Sales", "legal_entity_code": "DE01"},
        {"code": "CC2", "name": "Ops", "legal_entity_code": "FR01"}])
    outcome = service.import_file(session, registry, ALICE, "DE01-STD",
                                  "node,parent\nCC1,\nCC2,CC1\n", "csv", domain="cost_center",
                                  legal_entity_code="DE01")
    assert [(v.rule, v.node) for v in outcome.validation.violations] == [
        (Rule.COST_CENTER_ENTITY, "CC2"), (Rule.COST_CENTER_ENTITY, "CC2")]


def test_ownership_structure(session, registry, sources) -> None:
    load(session, registry, "legal_entity", [{"code": c, "name": c} for c in ("HOLD", "A", "B")])
    doc = {"nodes": [{"node": "HOLD"}, {"node": "A", "parent": "HOLD", "ownership_pct": 100},
                     {"node": "B", "parent": "HOLD", "ownership_pct": 60},
                     {"node": "B", "parent": "A", "ownership_pct": 40}]}
    import json

    outcome = service.import_file(session, registry, ALICE, "OWNERS", json.dumps(doc), "json",
                                  domain="legal_entity", kind="ownership")
    assert outcome.validation.valid, outcome.validation.violations
    assert outcome.hierarchy.allow_shared
    view = queries.open_view(session, "OWNERS", 1)
    assert len(queries.paths(session, view, "B")["paths"]) == 2


def test_only_drafts_change(session, registry, chart) -> None:
    import_chart(session, registry, chart)
    publish(session, "GRP-MGMT", 1)
    h = service.get_hierarchy(session, "GRP-MGMT")
    with pytest.raises(Conflict):
        service.plan_move(session, ALICE, h, 1, node="1120", new_parent="1000",
                          effective_from=NEXT_YEAR)
    rows = formats.parse_csv("node,parent\nBS,\n")
    with pytest.raises(Conflict):
        service.replace_nodes(session, ALICE, h, 1, [replace(rows[0])])


def test_links_in_memory_match_the_database_walks(session, registry, chart) -> None:
    import_chart(session, registry, chart)
    h = service.get_hierarchy(session, "GRP-MGMT")
    service.plan_move(session, ALICE, h, 1, node="1120", new_parent="1000",
                      effective_from=NEXT_YEAR)
    vid = service.get_version(session, h, 1).id
    memory, database = storage.graph(session, vid), storage.DatabaseLinks(session, vid)
    for at in (TODAY, NEXT_YEAR):
        for key in ("BS", "1000", "1100", "1120", "PL", "5300"):
            for walk in ("node", "children", "below", "above"):
                assert sorted(getattr(memory, walk)(key, at)) == sorted(
                    getattr(database, walk)(key, at)), (walk, key, at)


def test_a_change_to_a_version_invalidates_the_links_in_memory(session, registry,
                                                                 chart) -> None:
    h = import_chart(session, registry, chart).hierarchy
    vid = service.get_version(session, h, 1).id
    view = queries.open_view(session, "GRP-MGMT", 1, NEXT_YEAR)
    below_1100 = ["1110", "1120"]
    assert [i["node"] for i in queries.descendants(session, view, "1100")["items"]] == below_1100
    before = storage.stamp(session, vid)
    assert before is not None and storage.CACHE.get(before) is not None
    # the move bumps the version's revision in the same commit, as any other process would
    service.plan_move(session, ALICE, h, 1, node="1120", new_parent="1000",
                      effective_from=NEXT_YEAR)
    after = storage.stamp(session, vid)
    assert after is not None and after[3] > before[3]
    assert storage.CACHE.get(after) is None  # the copy held is of the old revision
    assert [i["node"] for i in queries.descendants(session, view, "1100")["items"]] == ["1110"]
    assert "1120" in {i["node"] for i in queries.descendants(session, view, "1000")["items"]}
    assert storage.CACHE.get(after) is not None and storage.CACHE.get(before) is None
