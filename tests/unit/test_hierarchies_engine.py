"""The pure hierarchy engine: each validation rule failing and passing, as-of trees and
queries, move impact, version diffs, and the CSV/JSON formats."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mdm.hierarchies import formats
from mdm.hierarchies.engine import (
    EARLIEST,
    DatedLinks,
    MoveError,
    NodeRow,
    RecordFacts,
    Rule,
    Snapshot,
    Subject,
    diff,
    move_impact,
    validate,
)

JAN, APR, JUL = date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1)
MAR31 = date(2025, 3, 31)


def row(key: str, parent: str | None, start: date = EARLIEST, end: date | None = None,
        **attrs: Any) -> NodeRow:
    name = attrs.pop("name", key.title())
    return NodeRow(key, parent, start, end, name, attrs)


def facts(**attributes: Any) -> RecordFacts:
    return RecordFacts(golden_id=f"g-{attributes.get('code', 'x')}", attributes=attributes)


def subject(rows: list[NodeRow], domain: str = "cost_center", records: dict | None = None,
            **kw: Any) -> Subject:
    if records is None:  # every node is a golden record unless the test says otherwise
        records = {r.key: facts(legal_entity_code="DE01") for r in rows}
    kw.setdefault("entities", {"DE01": facts(code="DE01")})
    return Subject(domain=domain, rows=rows, records=records, **kw)


def rules_of(s: Subject) -> set[Rule]:
    return {v.rule for v in validate(s).violations}


def assert_violates(s: Subject, rule: Rule, node: str) -> None:
    found = [v for v in validate(s).violations if v.rule == rule]
    assert any(v.node == node for v in found), f"expected {rule} on {node}, got {found}"


def assert_passes(s: Subject, rule: Rule) -> None:
    assert rule not in rules_of(s), [v for v in validate(s).violations if v.rule == rule]


TREE = [row("root", None), row("a", "root"), row("b", "root"), row("a1", "a"), row("a2", "a")]


# --- rules, each with a failing and a passing case -------------------------------------------

def test_valid_period() -> None:
    assert_violates(subject([row("root", None, APR, MAR31)]), Rule.VALID_PERIOD, "root")
    assert_passes(subject([row("root", None, APR, APR)]), Rule.VALID_PERIOD)


def test_parent_exists_over_the_childs_period() -> None:
    assert_violates(subject([row("root", None), row("a", "nowhere")]), Rule.PARENT_EXISTS, "a")
    late_parent = [row("root", None, APR), row("a", "root", JAN)]
    assert_violates(subject(late_parent), Rule.PARENT_EXISTS, "a")
    # a parent whose two touching periods cover the child passes
    touching = [row("root", None, JAN, MAR31), row("root", None, APR), row("a", "root", JAN)]
    assert_passes(subject(touching), Rule.PARENT_EXISTS)


def test_no_cycles_on_any_date() -> None:
    cyclic = [row("root", None), row("a", "b"), row("b", "a")]
    s = subject(cyclic)
    assert_violates(s, Rule.NO_CYCLES, "a")
    assert_violates(s, Rule.NO_CYCLES, "b")
    assert_violates(subject([row("a", "a")]), Rule.NO_CYCLES, "a")
    # a -> b until March and b -> a from April is never a cycle on one date
    alternating = [row("root", None), row("a", "b", JAN, MAR31), row("a", "root", APR),
                   row("b", "root", JAN, MAR31), row("b", "a", APR)]
    assert_passes(subject(alternating), Rule.NO_CYCLES)
    assert_passes(subject(TREE), Rule.NO_CYCLES)


def test_single_parent_unless_shared() -> None:
    two = [*TREE, row("a1", "b")]
    assert_violates(subject(two), Rule.SINGLE_PARENT, "a1")
    assert_passes(subject(two, allow_shared=True), Rule.SINGLE_PARENT)
    # a move is two touching periods, not two parents
    moved = [*TREE[:3], row("a1", "a", EARLIEST, MAR31), row("a1", "b", APR)]
    assert_passes(subject(moved), Rule.SINGLE_PARENT)


def test_every_node_is_a_golden_record() -> None:
    records = {r.key: facts(legal_entity_code="DE01") for r in TREE if r.key != "a2"}
    assert_violates(subject(TREE, records=records), Rule.GOLDEN_RECORD, "a2")
    assert_passes(subject(TREE), Rule.GOLDEN_RECORD)


def test_node_periods_lie_within_the_golden_records_validity() -> None:
    records = {r.key: facts(legal_entity_code="DE01", valid_from="2025-04-01") for r in TREE}
    assert_violates(subject([row("root", None, JAN)], records=records), Rule.RECORD_VALIDITY,
                    "root")
    assert_passes(subject([row("root", None, APR)], records=records), Rule.RECORD_VALIDITY)


GL_TREE = [row("1000", None), row("1100", "1000"), row("4000", None), row("4100", "4000")]


def gl_records(**overrides: dict[str, Any]) -> dict[str, RecordFacts]:
    base = {"1000": {"account_type": "asset", "posting_allowed": False},
            "1100": {"account_type": "asset", "posting_allowed": True},
            "4000": {"account_type": "revenue", "posting_allowed": False},
            "4100": {"account_type": "revenue", "posting_allowed": True}}
    for key, attrs in overrides.items():
        base[key] = {**base.get(key, {}), **attrs}
    return {k: facts(code=k, **v) for k, v in base.items()}


def test_only_leaf_accounts_allow_postings() -> None:
    bad = subject(GL_TREE, "gl_account", gl_records(**{"1000": {"posting_allowed": True}}))
    assert_violates(bad, Rule.POSTING_LEAF, "1000")
    assert_passes(subject(GL_TREE, "gl_account", gl_records()), Rule.POSTING_LEAF)


def test_revenue_does_not_roll_into_assets() -> None:
    rows = [*GL_TREE, row("4200", "1000")]
    records = gl_records(**{"4200": {"account_type": "revenue", "posting_allowed": True}})
    assert_violates(subject(rows, "gl_account", records), Rule.ACCOUNT_TYPE, "4200")
    # an untyped total in between does not hide the mismatch
    rows = [*GL_TREE, row("1900", "1000"), row("4200", "1900")]
    records = gl_records(**{"1900": {"posting_allowed": False},
                            "4200": {"account_type": "revenue", "posting_allowed": True}})
    assert_violates(subject(rows, "gl_account", records), Rule.ACCOUNT_TYPE, "4200")
    # revenue and expense may share an operating-result total; anything rolls into a total
    rows = [*GL_TREE, row("5000", "4000"), row("TOTAL", None), row("1000x", "TOTAL")]
    records = gl_records(**{"5000": {"account_type": "expense", "posting_allowed": True},
                            "TOTAL": {}, "1000x": {"account_type": "asset"}})
    assert_passes(subject(rows, "gl_account", records), Rule.ACCOUNT_TYPE)


def test_cost_centers_legal_entity_exists_and_is_valid_over_its_dates() -> None:
    rows = [row("cc1", None, JAN)]
    missing = {"cc1": facts(legal_entity_code="XX99")}
    assert_violates(subject(rows, records=missing), Rule.COST_CENTER_ENTITY, "cc1")
    late = {"DE01": facts(code="DE01", valid_from="2025-04-01")}
    assert_violates(subject(rows, entities=late), Rule.COST_CENTER_ENTITY, "cc1")
    assert_violates(subject(rows, legal_entity_code="FR01"), Rule.COST_CENTER_ENTITY, "cc1")
    assert_passes(subject(rows, legal_entity_code="DE01"), Rule.COST_CENTER_ENTITY)


def le_subject(rows: list[NodeRow]) -> Subject:
    return subject(rows, "legal_entity", {r.key: facts(code=r.key) for r in rows},
                   kind="ownership", allow_shared=True)


def test_ownership_percentages_between_0_and_100() -> None:
    for bad in ("0", "100.5", "-3"):
        s = le_subject([row("hold", None), row("sub", "hold", ownership_pct=bad)])
        assert_violates(s, Rule.OWNERSHIP_RANGE, "sub")
    assert_violates(le_subject([row("hold", None), row("sub", "hold")]),
                    Rule.OWNERSHIP_RANGE, "sub")
    assert_passes(le_subject([row("hold", None), row("sub", "hold", ownership_pct="100")]),
                  Rule.OWNERSHIP_RANGE)


def test_owners_hold_at_most_100_percent_on_any_date() -> None:
    base = [row("h1", None), row("h2", None)]
    over = [*base, row("sub", "h1", ownership_pct="60"), row("sub", "h2", APR, ownership_pct="50")]
    s = le_subject(over)
    assert_violates(s, Rule.OWNERSHIP_TOTAL, "sub")
    assert [v.on for v in validate(s).violations if v.rule == Rule.OWNERSHIP_TOTAL] == [APR]
    # the first owner sells down to 50% the day the second buys in
    ok = [*base, row("sub", "h1", EARLIEST, MAR31, ownership_pct="60"),
          row("sub", "h1", APR, ownership_pct="50"), row("sub", "h2", APR, ownership_pct="50")]
    assert_passes(le_subject(ok), Rule.OWNERSHIP_TOTAL)


def test_a_clean_tree_is_valid_and_rules_apply_per_domain() -> None:
    assert validate(subject(TREE)).valid
    # account rules do not run on cost centers (no account_type facts there)
    assert Rule.POSTING_LEAF not in rules_of(subject(TREE))


# --- as-of trees and queries -----------------------------------------------------------------

PLANNED = [row("root", None), row("a", "root"), row("b", "root"),
           row("a1", "a", EARLIEST, MAR31), row("a1", "b", APR), row("a1x", "a1")]


def test_a_move_planned_ahead_leaves_todays_view_alone() -> None:
    before, after = Snapshot(PLANNED, JAN), Snapshot(PLANNED, APR)
    assert before.parents_of("a1") == ["a"]
    assert after.parents_of("a1") == ["b"]
    assert before.children_of("a") == ["a1"] and after.children_of("a") == []
    assert after.ancestors("a1x") == ["a1", "b", "root"]
    assert before.paths("a1x") == [["root", "a", "a1", "a1x"]]
    assert before.level("a1x") == 3 and before.level("root") == 0


def test_descendants_leaves_and_subtree() -> None:
    snap = Snapshot(TREE, JAN)
    assert snap.descendants("root") == [("a", 1), ("a1", 2), ("a2", 2), ("b", 1)]
    assert snap.descendants("root", max_depth=1) == [("a", 1), ("b", 1)]
    assert snap.leaves("root") == ["a1", "a2", "b"]
    assert snap.roots() == ["root"]
    tree = snap.subtree("a")
    assert tree == {"node": "a", "name": "A", "children": [
        {"node": "a1", "name": "A1", "children": []},
        {"node": "a2", "name": "A2", "children": []}]}


def test_queries_survive_a_cycle_in_a_draft() -> None:
    snap = Snapshot([row("a", "b"), row("b", "a")], JAN)
    assert {n for n, _ in snap.descendants("a")} == {"b"}
    assert snap.ancestors("a") == ["b"]
    assert snap.paths("a") == []


def dated(rows: list[NodeRow]) -> DatedLinks:
    return DatedLinks((r.key, r.parent, r.valid_from, r.valid_to, r.name, r.golden_id)
                      for r in rows)


# a planned move, a shared node (s under a and b), a cycle (c1 <-> c2 under b) and a node
# that leaves the tree for a quarter
TANGLED = [*PLANNED, row("s", "a"), row("s", "b"), row("c1", "b"), row("c1", "c2"),
           row("c2", "c1"), row("gap", "a", EARLIEST, MAR31), row("gap", "a", JUL)]


@pytest.mark.parametrize("at", [JAN, APR, date(2025, 5, 1), JUL])
def test_links_in_memory_answer_as_the_snapshot_of_that_day(at: date) -> None:
    links, day = dated(TANGLED), Snapshot(TANGLED, at)
    for key in ("root", "a", "b", "a1", "s", "c1", "gap"):
        assert sorted(links.node(key, at)) == sorted(
            (r.key, r.parent, r.name, None) for r in TANGLED if r.key == key and r.valid_at(at))
        below = Snapshot.from_links(links.node(key, at)[:1] + links.below(key, at), at)
        for depth in (None, 1):
            assert below.descendants(key, depth) == day.descendants(key, depth)
            assert [(n, d, leaf) for n, d, _, _, leaf in links.descendants(key, at, depth)] == [
                (n, d, day.is_leaf(n)) for n, d in day.descendants(key, depth)]
        above = Snapshot.from_links(links.above(key, at), at)
        assert above.ancestors(key) == day.ancestors(key)
        assert above.paths(key) == day.paths(key)
        assert [c for c, *_ in links.children(key, at)] == day.children_of(key)
    assert Snapshot.from_links(links.valid(at), at).roots() == day.roots()


def test_move_impact_lists_the_moved_subtree_and_postable_accounts() -> None:
    snap = Snapshot(TREE, JAN)
    impact = move_impact(snap, "a", "b", postable=snap.is_leaf)
    assert impact.descendants == ["a1", "a2"]
    assert impact.postable == ["a1", "a2"]
    assert impact.ancestors_gaining == ["b"] and impact.ancestors_losing == []
    with pytest.raises(MoveError):
        move_impact(snap, "a", "a1", postable=snap.is_leaf)


# --- diff ------------------------------------------------------------------------------------

def test_diff_reports_added_removed_moved_and_renamed_with_effective_dates() -> None:
    draft = [row("root", None), row("a", "root", name="Alpha"), row("b", "root"),
             row("a1", "a", EARLIEST, MAR31), row("a1", "b", APR), row("c", "root")]
    result = diff(TREE, draft).to_dict()
    assert [d["node"] for d in result["added"]] == ["c"]
    assert [d["node"] for d in result["removed"]] == ["a2"]
    assert result["moved"] == [{"node": "a1", "from_parents": ["a"], "to_parents": ["b"],
                                "on": "2025-04-01"}]
    assert result["renamed"][0]["node"] == "a" and result["renamed"][0]["to_name"] == "Alpha"
    # compared on one date, the planned move is not there yet
    assert diff(TREE, draft, JAN).moved == []


# --- formats ---------------------------------------------------------------------------------

def test_csv_round_trip() -> None:
    text = formats.to_csv(PLANNED)
    rows = formats.parse_csv(text)
    assert formats.to_csv(rows) == text
    assert [(r.key, r.parent, r.valid_from, r.valid_to) for r in rows if r.key == "a1"] == [
        ("a1", "a", EARLIEST, MAR31), ("a1", "b", APR, None)]


def test_json_round_trip_keeps_ownership() -> None:
    rows = [row("h", None), row("s", "h", APR, ownership_pct="51.5")]
    doc = formats.to_json(rows, {"hierarchy": "x"})
    back = formats.parse_json(doc)
    assert formats.to_json(back, {"hierarchy": "x"})["nodes"] == [
        {**n, "golden_id": None} for n in doc["nodes"]]
    assert back[1].attributes == {"ownership_pct": "51.5"}


def test_csv_errors_are_reported_per_line_and_nothing_is_returned() -> None:
    text = ("node,parent,valid_from\nroot,,\na,root,2025-13-01\n,root,\n"
            "b,root,\nb,root,\n")
    with pytest.raises(formats.ParseFailed) as caught:
        formats.parse_csv(text)
    assert set(caught.value.errors) == {"line 3", "line 4", "line 6"}
    assert "not a date" in caught.value.errors["line 3"][0]


def test_csv_header_problems_and_ignored_record_columns() -> None:
    with pytest.raises(formats.ParseFailed) as caught:
        formats.parse_csv("node,colour\nroot,red\n")
    assert "colour" in caught.value.errors["line 1"][0]
    rows = formats.parse_csv("source_id,code,parent_code,name,account_type\n1,1000,,Assets,asset\n",
                             ignore={"source_id", "account_type"})
    assert (rows[0].key, rows[0].parent, rows[0].name) == ("1000", None, "Assets")


def test_json_errors_name_the_item() -> None:
    with pytest.raises(formats.ParseFailed) as caught:
        formats.parse_json({"nodes": [{"node": "a"}, "x", {"node": "b", "colour": 1},
                                      {"node": "c", "ownership_pct": "lots"}]})
    assert set(caught.value.errors) == {"item 2", "item 3", "item 4"}
