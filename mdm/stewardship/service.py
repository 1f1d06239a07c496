"""Steward use cases, one import for the API, the CLI and matching.

Each use case lives in the module of its topic, and this module names them together:

* ``guards``: preconditions (the version the steward saw), row locks, active checks;
* ``merging``: merge, unmerge, lineage;
* ``not_a_match``: not-a-match decisions (and the pairs the matching engine must respect);
* ``overrides``: pinned values;
* ``change_requests``: four-eyes decisions (what is held is ``approvals``' business);
* ``recompute``: survivorship recompute;
* ``queue``: review tasks (``open_review_task`` is the matching engine's way in).

Each use case locks the golden records it changes, checks the caller's precondition, does
every write (golden versions, change events, audit entries, lineage) and commits once.
Concurrent actions on one golden record are serialised by its row lock on PostgreSQL and
by the single write lock on SQLite; the ORM's version check turns any update that still
slips through into a 409.
"""
from __future__ import annotations

from mdm.records.service import survivor_ids as survivors
from mdm.stewardship.change_requests import (
    approve_change_request,
    get_change_request,
    list_change_requests,
    reject_change_request,
)
from mdm.stewardship.guards import (
    GOLDEN_KIND,
    SOURCE_RECORD_KIND,
    SR_PREFIX,
    Precondition,
    check,
    golden_etag,
    group_key,
    lock_goldens,
    source_record_ids_for,
)
from mdm.stewardship.merging import (
    MergeOutcome,
    get_operation,
    lineage,
    mark_merged,
    merge,
    operation_dict,
    pairs_of,
    supersede_requests,
    unmerge,
)
from mdm.stewardship.not_a_match import (
    list_not_a_match,
    mark_not_a_match,
    not_a_match_dict,
    not_a_match_pairs,
    revoke_not_a_match,
)
from mdm.stewardship.overrides import pin, unpin
from mdm.stewardship.queue import open_review_task
from mdm.stewardship.recompute import RecomputeSummary, recompute

__all__ = [
    "GOLDEN_KIND", "SOURCE_RECORD_KIND", "SR_PREFIX", "MergeOutcome", "Precondition",
    "RecomputeSummary", "approve_change_request", "check", "get_change_request",
    "get_operation", "golden_etag", "group_key", "lineage", "list_change_requests",
    "list_not_a_match", "lock_goldens", "mark_merged", "mark_not_a_match", "merge",
    "not_a_match_dict", "not_a_match_pairs", "open_review_task", "operation_dict", "pairs_of",
    "pin", "recompute", "reject_change_request", "revoke_not_a_match", "source_record_ids_for",
    "supersede_requests", "survivors", "unmerge", "unpin",
]
