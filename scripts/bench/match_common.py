"""Shared bits of the matching benchmarks: pairwise metrics, memory, a results table.

Not importable logic of the hub: only the scripts in this folder use it.
"""

from __future__ import annotations

import itertools
import multiprocessing
import resource
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from queue import Empty
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
    """Peak resident memory of this process plus its largest (waited-for) child, in MB.

    An upper bound for a process that forks workers: pages the children share with
    their parent copy-on-write are counted once per process.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + kids) / 1024.0  # ru_maxrss is in KiB on Linux


class TreeMemory:
    """Samples the proportional set size (PSS) of a process and all its descendants.

    PSS charges a page shared by k processes 1/k to each, so the sum over the tree is
    the memory the job really occupies, whether it runs threads (DuckDB) or forked
    workers (the hub). Sampled every ``interval`` seconds on a thread; ``peak_mb``
    is the largest sum seen.
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        import psutil

        self._psutil = psutil
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> float:
        total = 0
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except self._psutil.NoSuchProcess:
            return 0.0
        for proc in procs:
            try:
                total += proc.memory_full_info().pss
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                continue
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_isolated(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn`` in a fresh forked process so its memory is its own.

    Adds ``peak_mb`` (sampled PSS of the process tree, see ``TreeMemory``) and
    ``peak_rss_mb`` (own + largest child's peak RSS, an upper bound).
    """
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
    result: dict[str, Any] | None = None
    with TreeMemory(proc.pid) as memory:
        while result is None:
            try:
                result = queue.get(timeout=1.0)
            except Empty:
                if not proc.is_alive():  # died without a word (a signal, a hard crash)
                    result = {"error": f"{getattr(fn, '__name__', fn)} exited with "
                                       f"code {proc.exitcode} and no result"}
    proc.join()
    result["peak_mb"] = round(memory.peak_mb, 1)
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
