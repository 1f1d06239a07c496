"""Validation of a hierarchy version: the rule table (``RULES``) and the checks behind it.

Each check returns violations naming the rule, the node and (when known) the line."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import networkx as nx

from mdm.hierarchies.engine.rows import EARLIEST, ONE_DAY, NodeRow, live, period_text


class Rule(StrEnum):
    VALID_PERIOD = "valid_period"
    PARENT_EXISTS = "parent_exists"
    NO_CYCLES = "no_cycles"
    SINGLE_PARENT = "single_parent"
    GOLDEN_RECORD = "golden_record"
    RECORD_VALIDITY = "record_validity"
    POSTING_LEAF = "posting_leaf"
    ACCOUNT_TYPE = "account_type"
    COST_CENTER_ENTITY = "cost_center_entity"
    OWNERSHIP_RANGE = "ownership_range"
    OWNERSHIP_TOTAL = "ownership_total"


@dataclass(frozen=True)
class Violation:
    rule: Rule
    node: str
    message: str
    line: int | None = None
    on: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": str(self.rule), "node": self.node, "message": self.message,
                "line": self.line, "on": self.on.isoformat() if self.on else None}


@dataclass
class RecordFacts:
    """What validation needs from a golden record: its id and attributes (as stored)."""

    golden_id: str
    attributes: dict[str, Any]

    def text(self, name: str) -> str | None:
        """An attribute as text, the way SQL reads a JSON member (``->>``): a number as
        written, so a code stored as 1001 still names the record with code '1001'."""
        value = self.attributes.get(name)
        return value if value is None or isinstance(value, str) else json.dumps(value)


@dataclass
class Subject:
    """A hierarchy version's content plus the facts its rules check against."""

    domain: str
    rows: list[NodeRow]
    allow_shared: bool = False
    kind: str = "standard"
    records: dict[str, RecordFacts] = field(default_factory=dict)  # node key -> golden facts
    entities: dict[str, RecordFacts] = field(default_factory=dict)  # legal-entity code -> facts
    legal_entity_code: str | None = None  # a cost-center hierarchy scoped to one entity
    label: Callable[[str], str] = str  # how messages name a node's golden key
    _by_key: dict[str, list[NodeRow]] | None = None

    @property
    def by_key(self) -> dict[str, list[NodeRow]]:
        if self._by_key is None:
            groups: dict[str, list[NodeRow]] = {}
            several: list[list[NodeRow]] = []
            for row in self.rows:
                if row.valid_to is None or row.valid_to >= row.valid_from:  # _live, inlined
                    rows = groups.get(row.key)
                    if rows is None:
                        groups[row.key] = [row]
                    else:
                        if len(rows) == 1:
                            several.append(rows)
                        rows.append(row)
            for rows in several:  # most nodes have one row: nothing to sort
                rows.sort(key=_start)
            self._by_key = groups
        return self._by_key


def _start(row: NodeRow) -> date:
    return row.valid_from


@dataclass(frozen=True)
class RuleSpec:
    rule: Rule
    description: str
    check: Callable[[Subject], Iterator[Violation]]
    domains: frozenset[str] | None = None  # None: every domain

    def applies_to(self, domain: str) -> bool:
        return self.domains is None or domain in self.domains


@dataclass
class ValidationResult:
    violations: list[Violation]

    @property
    def valid(self) -> bool:
        return not self.violations

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for v in self.violations:
            out[str(v.rule)] += 1
        return dict(out)


def _check_valid_period(s: Subject) -> Iterator[Violation]:
    for row in s.rows:
        if not live(row):
            yield Violation(Rule.VALID_PERIOD, row.key,
                            f"valid_to {row.valid_to} is before valid_from {row.valid_from}",
                            row.line)


def _merged(rows: list[NodeRow]) -> list[tuple[date, date | None]]:
    """A node's periods merged into disjoint spans (touching periods join)."""
    spans: list[tuple[date, date | None]] = []
    for row in rows:  # sorted by valid_from
        if spans:
            start, end = spans[-1]
            if end is None or row.valid_from <= end + ONE_DAY:
                new_end = None if end is None or row.valid_to is None else max(end, row.valid_to)
                spans[-1] = (start, new_end)
                continue
        spans.append((row.valid_from, row.valid_to))
    return spans


def _covers(spans: list[tuple[date, date | None]], start: date, end: date | None) -> bool:
    for s0, s1 in spans:
        if s0 <= start and (s1 is None or s1 >= start):
            return s1 is None or (end is not None and s1 >= end)
    return False


def _check_parent_exists(s: Subject) -> Iterator[Violation]:
    spans: dict[str, list[tuple[date, date | None]]] = {}
    for key, rows in s.by_key.items():
        for row in rows:
            if row.parent is None:
                continue
            parent_rows = s.by_key.get(row.parent)
            if not parent_rows:
                yield Violation(Rule.PARENT_EXISTS, key,
                                f"parent '{row.parent}' is not a node of this hierarchy", row.line)
                continue
            first = parent_rows[0]
            if first.valid_from <= row.valid_from and first.valid_to is None:
                continue  # the common case: a parent that is there from before, for good
            if row.parent not in spans:
                spans[row.parent] = _merged(parent_rows)
            if not _covers(spans[row.parent], row.valid_from, row.valid_to):
                yield Violation(
                    Rule.PARENT_EXISTS, key,
                    f"parent '{row.parent}' is not in the hierarchy for all of "
                    f"{period_text(row.valid_from, row.valid_to)}", row.line, row.valid_from)


def _cycle_suspects(s: Subject, internal: set[str | None]) -> set[str]:
    """Nodes that may lie on a cycle of the all-dates graph: peel off nodes without children
    until none is left (Kahn); what remains is cycles and their ancestors. A node on a cycle
    has a child, so only ``internal`` nodes (those with children: the few thousand totals of
    a 100,000-account chart) take part. Linear, so a hierarchy without cycles never builds a
    networkx graph at all."""
    pending: dict[str, int] = {}  # node -> links from children not yet peeled
    ups: dict[str, list[str]] = {}
    for key in internal:
        if key is None:
            continue
        for row in s.by_key.get(key, ()):
            parent = row.parent
            if parent is not None and parent != key:
                ups.setdefault(key, []).append(parent)
                pending[parent] = pending.get(parent, 0) + 1
    queue = [n for n in ups if n not in pending]  # nodes without internal children
    while queue:
        for parent in ups.get(queue.pop(), ()):
            pending[parent] -= 1
            if not pending[parent]:
                queue.append(parent)
    return {n for n, links in pending.items() if links}  # never peeled


def _check_no_cycles(s: Subject) -> Iterator[Violation]:
    internal = {row.parent for rows in s.by_key.values() for row in rows}
    for key, rows in s.by_key.items():
        if key in internal:  # its own parent means its own child
            for row in rows:
                if row.parent == key:
                    yield Violation(Rule.NO_CYCLES, key, "node is its own parent", row.line)
    suspects = _cycle_suspects(s, internal)
    if not suspects:
        return
    graph = nx.DiGraph((key, row.parent) for key in suspects for row in s.by_key.get(key, ())
                       if row.parent in suspects and row.parent != key)
    # without a strongly connected component there is no cycle on any date
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        rows = [r for k in component for r in s.by_key[k]
                if r.parent in component and r.parent != r.key]
        dates = sorted({r.valid_from for r in rows}
                       | {r.valid_to + ONE_DAY for r in rows if r.valid_to})
        reported: set[frozenset[str]] = set()
        for at in dates:
            day = nx.DiGraph((r.key, r.parent) for r in rows if r.valid_at(at))
            try:
                cycle = [u for u, _ in nx.find_cycle(day)]
            except nx.NetworkXNoCycle:
                continue
            if frozenset(cycle) in reported:
                continue
            reported.add(frozenset(cycle))
            text = " -> ".join([*cycle, cycle[0]])
            for node in sorted(cycle):
                line = next((r.line for r in rows if r.key == node and r.valid_at(at)), None)
                yield Violation(Rule.NO_CYCLES, node, f"cycle {text} on {at.isoformat()}",
                                line, at)


def _check_single_parent(s: Subject) -> Iterator[Violation]:
    for key, rows in s.by_key.items():
        if len(rows) < 2:
            continue
        for i, row in enumerate(rows):
            for other in rows[i + 1:]:
                if other.valid_from > (row.valid_to or date.max):
                    break
                if not row.overlaps(other):
                    continue
                start = max(row.valid_from, other.valid_from)
                if row.parent == other.parent:
                    yield Violation(Rule.SINGLE_PARENT, key,
                                    f"two overlapping periods under the same parent "
                                    f"'{row.parent or '(root)'}' from {start}", other.line, start)
                elif not s.allow_shared or row.parent is None or other.parent is None:
                    yield Violation(Rule.SINGLE_PARENT, key,
                                    f"two parents ('{row.parent or '(root)'}' and "
                                    f"'{other.parent or '(root)'}') from {start}; this "
                                    "hierarchy does not allow shared nodes", other.line, start)


def _first_line(rows: list[NodeRow]) -> int | None:
    lines = [r.line for r in rows if r.line is not None]
    return min(lines) if lines else None


def _check_golden_record(s: Subject) -> Iterator[Violation]:
    for key, rows in s.by_key.items():
        if key not in s.records:
            yield Violation(Rule.GOLDEN_RECORD, key,
                            f"no active {s.domain} golden record {s.label(key)}", _first_line(rows))


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _validity(facts: RecordFacts) -> tuple[date, date | None]:
    return (_as_date(facts.attributes.get("valid_from")) or EARLIEST,
            _as_date(facts.attributes.get("valid_to")))


def _check_record_validity(s: Subject) -> Iterator[Violation]:
    for key, rows in s.by_key.items():
        facts = s.records.get(key)
        if facts is None:
            continue
        attributes = facts.attributes
        if (not attributes.get("valid_from") and not attributes.get("valid_to")
                and rows[0].valid_from >= EARLIEST):
            continue  # a record valid forever covers every period (rows sorted by start)
        start, end = _validity(facts)
        for row in rows:
            if not _covers([(start, end)], row.valid_from, row.valid_to):
                yield Violation(
                    Rule.RECORD_VALIDITY, key,
                    f"node period {period_text(row.valid_from, row.valid_to)} is outside its "
                    f"golden record's validity {period_text(start, end)}", row.line, row.valid_from)


def _check_posting_leaf(s: Subject) -> Iterator[Violation]:
    parents_with_children: dict[str, NodeRow] = {}
    for rows in s.by_key.values():
        for row in rows:
            if row.parent is not None:
                parents_with_children.setdefault(row.parent, row)
    for parent, child_row in parents_with_children.items():
        facts = s.records.get(parent)
        if facts is not None and facts.attributes.get("posting_allowed") is True:
            yield Violation(Rule.POSTING_LEAF, parent,
                            f"account allows postings but has child '{child_row.key}'; only leaf "
                            "accounts may allow postings", _first_line(s.by_key.get(parent, [])),
                            child_row.valid_from)


# Parent account type -> child account types that may roll into it. A parent without a type
# (a pure total such as "Balance sheet") accepts anything; typed nodes are checked against
# their nearest typed ancestor, so untyped intermediate totals do not hide a mismatch.
ACCOUNT_ROLLUPS: dict[str, frozenset[str]] = {
    "asset": frozenset({"asset"}),
    "liability": frozenset({"liability"}),
    # the profit and loss closes into retained earnings
    "equity": frozenset({"equity", "revenue", "expense"}),
    # a net-revenue or operating-result total carries both sides of the P&L
    "revenue": frozenset({"revenue", "expense"}),
    "expense": frozenset({"expense", "revenue"}),
}


def _check_account_type(s: Subject) -> Iterator[Violation]:
    def type_of(key: str) -> str | None:
        facts = s.records.get(key)
        return facts.text("account_type") if facts else None

    anchors: dict[str, frozenset[str]] = {}

    def typed_anchors(key: str) -> frozenset[str]:
        # the nearest typed ancestors-or-self, over all periods; iterative and cycle-safe
        if key in anchors:
            return anchors[key]
        found: set[str] = set()
        seen = {key}
        stack = [key]
        while stack:
            node = stack.pop()
            if node in anchors:
                found |= anchors[node]
            elif type_of(node) is not None:
                found.add(node)
            else:
                for row in s.by_key.get(node, ()):
                    if row.parent is not None and row.parent not in seen:
                        seen.add(row.parent)
                        stack.append(row.parent)
        anchors[key] = frozenset(found)
        return anchors[key]

    # (child type, parent) -> the anchors that type may not roll into: thousands of accounts
    # share a few parents, so each pair is worked out once
    mismatches: dict[tuple[str, str], list[tuple[str, str]]] = {}
    records = s.records
    for key, rows in s.by_key.items():
        facts = records.get(key)  # type_of, inlined: this loop sees every node
        child_type = facts.text("account_type") if facts else None
        if child_type is None:
            continue
        for row in rows:
            if row.parent is None:
                continue
            pair = (child_type, row.parent)
            found = mismatches.get(pair)
            if found is None:
                found = mismatches[pair] = [
                    (anchor, parent_type) for anchor in sorted(typed_anchors(row.parent))
                    if (parent_type := type_of(anchor)) is not None
                    and child_type not in ACCOUNT_ROLLUPS.get(parent_type, frozenset())]
            for anchor, parent_type in found:
                yield Violation(Rule.ACCOUNT_TYPE, key,
                                f"{child_type} account rolls into {parent_type} account "
                                f"'{anchor}'", row.line, row.valid_from)


def _check_cost_center_entity(s: Subject) -> Iterator[Violation]:
    for key, rows in s.by_key.items():
        facts = s.records.get(key)
        if facts is None:
            continue
        code = facts.text("legal_entity_code")
        line = _first_line(rows)
        if not code:
            yield Violation(Rule.COST_CENTER_ENTITY, key, "cost center has no legal entity", line)
            continue
        if s.legal_entity_code and code != s.legal_entity_code:
            yield Violation(Rule.COST_CENTER_ENTITY, key,
                            f"cost center belongs to legal entity '{code}', not to this "
                            f"hierarchy's '{s.legal_entity_code}'", line)
        entity = s.entities.get(code)
        if entity is None:
            yield Violation(Rule.COST_CENTER_ENTITY, key,
                            f"legal entity '{code}' has no active golden record", line)
            continue
        start, end = _validity(entity)
        for row in rows:
            if not _covers([(start, end)], row.valid_from, row.valid_to):
                yield Violation(
                    Rule.COST_CENTER_ENTITY, key,
                    f"legal entity '{code}' is valid {period_text(start, end)}, not over the cost "
                    f"center's {period_text(row.valid_from, row.valid_to)}", row.line,
                    row.valid_from)


def ownership_pct(row: NodeRow) -> Decimal | None:
    value = row.attributes.get("ownership_pct")
    if value is None or value == "":
        return None
    try:
        pct = Decimal(str(value))
    except InvalidOperation:
        return Decimal("NaN")
    return pct


def _check_ownership_range(s: Subject) -> Iterator[Violation]:
    for key, rows in s.by_key.items():
        for row in rows:
            if row.parent is None:
                continue
            pct = ownership_pct(row)
            if pct is None:
                if s.kind == "ownership":
                    yield Violation(Rule.OWNERSHIP_RANGE, key,
                                    f"no ownership_pct for the holding by '{row.parent}'", row.line)
            elif pct.is_nan() or not Decimal(0) < pct <= Decimal(100):
                yield Violation(Rule.OWNERSHIP_RANGE, key,
                                f"ownership_pct {row.attributes.get('ownership_pct')} held by "
                                f"'{row.parent}' is not above 0 and at most 100", row.line)


def _check_ownership_total(s: Subject) -> Iterator[Violation]:
    for key, rows in s.by_key.items():
        held = [(r, p) for r in rows if r.parent is not None
                and (p := ownership_pct(r)) is not None and not p.is_nan()]
        if len(held) < 2:
            continue
        for at in sorted({r.valid_from for r, _ in held}):
            total = sum((p for r, p in held if r.valid_at(at)), Decimal(0))
            if total > 100:
                owners = ", ".join(sorted(r.parent or "" for r, _ in held if r.valid_at(at)))
                yield Violation(Rule.OWNERSHIP_TOTAL, key,
                                f"owners ({owners}) hold {total}% in total on {at}; at most 100",
                                _first_line(rows), at)


GL, CC, LE = "gl_account", "cost_center", "legal_entity"

RULES: tuple[RuleSpec, ...] = (
    RuleSpec(Rule.VALID_PERIOD, "A period ends on or after the day it starts.",
             _check_valid_period),
    RuleSpec(Rule.PARENT_EXISTS, "A parent is a node of the hierarchy over the child's period.",
             _check_parent_exists),
    RuleSpec(Rule.NO_CYCLES, "No node is its own ancestor on any date.", _check_no_cycles),
    RuleSpec(Rule.SINGLE_PARENT,
             "One parent per node on any date, unless the hierarchy allows shared nodes.",
             _check_single_parent),
    RuleSpec(Rule.GOLDEN_RECORD, "Every node is an active golden record of the domain.",
             _check_golden_record),
    RuleSpec(Rule.RECORD_VALIDITY,
             "A node's periods lie within its golden record's valid_from..valid_to.",
             _check_record_validity),
    RuleSpec(Rule.POSTING_LEAF, "Only leaf GL accounts allow postings.", _check_posting_leaf,
             frozenset({GL})),
    RuleSpec(Rule.ACCOUNT_TYPE,
             "Account types are consistent along a roll-up (revenue does not roll into assets).",
             _check_account_type, frozenset({GL})),
    RuleSpec(Rule.COST_CENTER_ENTITY,
             "A cost center's legal entity exists and is valid over the cost center's dates.",
             _check_cost_center_entity, frozenset({CC})),
    RuleSpec(Rule.OWNERSHIP_RANGE, "Ownership percentages are above 0 and at most 100.",
             _check_ownership_range, frozenset({LE})),
    RuleSpec(Rule.OWNERSHIP_TOTAL, "Owners of one entity hold at most 100% together.",
             _check_ownership_total, frozenset({LE})),
)


def validate(subject: Subject, rules: Iterable[RuleSpec] = RULES) -> ValidationResult:
    violations: list[Violation] = []
    for spec in rules:
        if spec.applies_to(subject.domain):
            violations.extend(spec.check(subject))
    return ValidationResult(violations)


