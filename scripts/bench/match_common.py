"""Shared bits of the matching benchmarks: pairwise metrics, memory, a results table.

Not importable logic of the hub: only the scripts in this folder use it.
"""

from __future__ import annotations

import itertools
import multiprocessing
import resource
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any


def pairs_of(clusters: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for c in clusters for p in itertools.combinations(sorted(c), 2)}


def prf(predicted: set[frozenset[str]], truth: set[frozenset[str]]) -> dict[str, float]:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "tp": tp,
            "fp": len(predicted) - tp, "fn": len(truth) - tp}


def peak_rss_mb() -> float:
    """Peak resident memory of this process plus its (waited-for) children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss is in KiB on Linux. Children report their own peak; a fork pool's
    # workers run concurrently with us, so the sum is an upper bound.
    return (own + kids) / 1024.0


def run_isolated(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn`` in a fresh forked process so its peak memory is its own."""
    ctx = multiprocessing.get_context("fork")
    queue: Any = ctx.Queue()

    def target() -> None:
        try:
            out = fn(*args)
            out["peak_rss_mb"] = peak_rss_mb()
            queue.put(out)
        except Exception:  # noqa: BLE001 - report any failure as a table row
            queue.put({"error": traceback.format_exc()})

    proc = ctx.Process(target=target)
    proc.start()
    result = queue.get()
    proc.join()
    return result


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}" if v < 10 else f"{v:.1f}"
        return "" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for row in cells:
        print(" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    sys.stdout.flush()
