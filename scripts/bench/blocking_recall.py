"""Blocking recall: the share of true pairs that blocking ever puts up for comparison.

    .venv/bin/python scripts/bench/blocking_recall.py --n 100000

On both generators (``gen_suppliers`` and the independently written
``gen_suppliers_adversarial``), with tax id, website, phone and postcode removed from
every record, so only names, addresses and the remaining identifiers can bring a pair
together. Two figures per generator:

* batch: pairs produced by the batch candidate generator (``BlockIndex``: the shipped
  supplier blocking rules, huge blocks windowed), as ``mdm match`` compares them;
* incremental: records arrive one by one in file order, and each is compared with the
  records the hub's blocking index returns for its keys (at most ``CANDIDATES_PER_KEY``
  newest per key). A lower bound: the hub also compares whole golden records, so a
  pair can be reached through a record merged earlier.

Also the number of candidate pairs per record (what scoring costs) and of blocking-key
rows per record (what the incremental index stores).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import gen_suppliers
import gen_suppliers_adversarial
import numpy as np
from match_common import print_table

from mdm.matching import DEFAULT_SETTINGS, MatchSettings, Record
from mdm.matching.candidates import BlockIndex
from mdm.matching.index import CANDIDATES_PER_KEY

try:
    from mdm.matching.index import key_cap
except ImportError:  # measuring a hub from before per-rule block bounds
    key_cap = None

REMOVED = ("tax_id", "website", "phone", "postal_code")
GENERATORS = {"gen_suppliers": gen_suppliers.generate,
              "gen_suppliers_adversarial": gen_suppliers_adversarial.generate}


def load(generator: str, n: int, seed: int) -> tuple[list[Record], list[str]]:
    records, entity = [], []
    for r in GENERATORS[generator](n, seed):
        attrs = {k: v for k, v in r["attrs"].items() if k not in REMOVED}
        records.append(Record(r["id"], r["source_system"], attrs))
        entity.append(r["entity"])
    return records, entity


def true_pairs(entity: list[str]) -> set[int]:
    """Truth as pair codes ``i * n + j`` (i < j, row numbers)."""
    n = len(entity)
    members: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(entity):
        members[e].append(i)
    return {a * n + b for rows in members.values() for k, a in enumerate(rows)
            for b in rows[k + 1:]}


def batch_pairs(settings: MatchSettings, rows: list[tuple[Any, ...]],
                sources: list[str]) -> tuple[set[int], int]:
    index = BlockIndex(
        rows, sources, settings.blocking, link_type=settings.link_type,
        max_block_size=settings.max_block_size, window=settings.window,
        sort_position=(settings.schema.positions[settings.window_sort]
                       if settings.window_sort else None))
    n = len(rows)
    found: set[int] = set()
    total = 0
    for chunk in index.pairs():
        lo = np.minimum(chunk.left, chunk.right)
        hi = np.maximum(chunk.left, chunk.right)
        total += lo.size
        found.update((lo * n + hi).tolist())
    return found, total


def incremental_pairs(settings: MatchSettings, keys: Iterable[list[str]],
                      n: int) -> tuple[set[int], int]:
    """Pairs (earlier, new) the index lookup returns, records arriving in order."""
    holders: dict[str, list[int]] = defaultdict(list)
    found: set[int] = set()
    for i, record_keys in enumerate(keys):
        for key in record_keys:
            held = holders[key]
            found.update(j * n + i for j in held[-_cap(settings, key):])
            held.append(i)
    return found, len(found)


def _cap(settings: MatchSettings, key: str) -> int:
    if key_cap is None:  # a hub from before per-rule bounds: one cap for every key
        return CANDIDATES_PER_KEY
    return key_cap(settings, key, CANDIDATES_PER_KEY)


def measure(generator: str, n: int, seed: int) -> dict[str, Any]:
    records, entity = load(generator, n, seed)
    settings = MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"])
    t = time.perf_counter()
    prepared = [settings.prepare(r) for r in records]
    rows = [p.values for p in prepared]
    truth = true_pairs(entity)
    batch, batch_total = batch_pairs(settings, rows, [r.source_system for r in records])
    block_seconds = time.perf_counter() - t
    # The hub's index truncates keys to the column width; recall is unaffected.
    keys = [list(dict.fromkeys(settings.blocking_keys(p))) for p in prepared]
    inc, inc_total = incremental_pairs(settings, keys, len(rows))
    return {"generator": generator, "records": len(rows), "true_pairs": len(truth),
            "batch_recall": len(truth & batch) / len(truth),
            "batch_pairs_per_record": batch_total / len(rows),
            "incremental_recall": len(truth & inc) / len(truth),
            "incremental_pairs_per_record": inc_total / len(rows),
            "keys_per_record": sum(map(len, keys)) / len(rows),
            "rules": len(settings.blocking), "seconds": block_seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--generator", choices=sorted(GENERATORS), action="append")
    args = parser.parse_args(argv)
    rows = [measure(g, args.n, args.seed) for g in (args.generator or sorted(GENERATORS))]
    print_table(rows, ["generator", "records", "true_pairs", "batch_recall",
                       "batch_pairs_per_record", "incremental_recall",
                       "incremental_pairs_per_record", "keys_per_record", "rules",
                       "seconds"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
