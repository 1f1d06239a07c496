"""Pure hierarchy logic: effective-dated node rows, as-of trees, queries, validation, diffs.

No Flask and no SQLAlchemy: rows in, dataclasses out, so that the 100,000-node paths stay
fast and every rule is testable without a database. One module per topic:

- ``rows``: one period of one node (``NodeRow``) and the date helpers;
- ``tree``: as-of snapshots, dated links, queries and move impact;
- ``validation``: the ``RULES`` table; each rule returns violations naming the rule, the
  node and (when known) the line;
- ``diff``: what changed between two versions.
"""
from mdm.hierarchies.engine.diff import Diff, diff
from mdm.hierarchies.engine.rows import EARLIEST, MAX_PATHS, ONE_DAY, NodeRow, live, period_text
from mdm.hierarchies.engine.tree import (
    CycleError,
    DatedLinks,
    Link,
    MoveError,
    MoveImpact,
    Snapshot,
    move_impact,
)
from mdm.hierarchies.engine.validation import (
    RULES,
    RecordFacts,
    Rule,
    RuleSpec,
    Subject,
    ValidationResult,
    Violation,
    validate,
)

__all__ = [
    "EARLIEST", "MAX_PATHS", "ONE_DAY", "RULES", "CycleError", "DatedLinks", "Diff", "Link",
    "MoveError", "MoveImpact", "NodeRow", "RecordFacts", "Rule", "RuleSpec", "Snapshot",
    "Subject", "ValidationResult", "Violation", "diff", "live", "move_impact", "period_text",
    "validate",
]
