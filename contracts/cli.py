"""The `contracts` command: offline compatibility checks, diffs and changelogs for CI.

Exit codes: 0 compatible (or diff/changelog printed), 1 incompatible: verdicts only. 2 for
anything else: unreadable or invalid input, bad configuration, an unreachable registry, and any
unexpected failure, always with a one-line reason on stderr and never a traceback (CI must not
read a bug as a breaking change).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from contracts import __version__
from contracts.compatibility.changelog import changelog_json, changelog_markdown
from contracts.compatibility.loader import Contract, load_contract, read_text
from contracts.compatibility.locate import Source, place_all
from contracts.compatibility.modes import check_compatibility, diff_contracts
from contracts.compatibility.result import CompatibilityResult, Mode
from contracts.compatibility.rules import rule_catalogue
from contracts.errors import ContractError, RegistryError
from contracts.registry.client import KEY_VARIABLE, RegistryApiClient
from contracts.reporting import OUTPUTS, render
from contracts.waivers import WAIVER_EXPIRED, Policy, apply_policy, load_policy

FORMATS = ("auto", "jsonschema", "openapi", "asyncapi")
MODES = [m.value for m in Mode]
DRAFTS = ("draft-04", "draft-06", "draft-07", "2019-09", "2020-12")
# Files on disk may nest deeper than registered contracts; the work runs on a thread with a
# deep stack so that deep nesting is compared, not a RecursionError.
FILE_MAX_DEPTH = 1000
_STACK_BYTES = 512 * 1024 * 1024
_RECURSION_LIMIT = 200_000


def _add_draft(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--draft",
        choices=DRAFTS,
        help="JSON Schema dialect of a schema without $schema (default draft-07, as Confluent "
        "reads it); a declared $schema always wins",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contracts", description="Check data contracts (JSON Schema, OpenAPI, AsyncAPI)."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser(
        "check",
        help="check NEW against earlier versions (or a registry subject)",
        description="contracts check OLD [OLDER...] NEW | contracts check FILE --registry URL "
        "--subject SUBJECT. With several earlier files (oldest first) *_TRANSITIVE modes "
        "check against all of them.",
    )
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--mode", type=str.upper, choices=MODES)
    check.add_argument("--format", choices=FORMATS, default="auto")
    check.add_argument("--output", choices=OUTPUTS, default="text")
    check.add_argument("--config", metavar="FILE", help="YAML with level overrides and waivers")
    check.add_argument("--registry", metavar="URL", help="check against a registry instead")
    check.add_argument("--subject", help="registry subject (with --registry)")
    check.add_argument("--key", help=f"registry API key (default: ${KEY_VARIABLE})")
    _add_draft(check)

    diff = commands.add_parser("diff", help="list every change between OLD and NEW (exit 0)")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--format", choices=FORMATS, default="auto")
    diff.add_argument("--output", choices=OUTPUTS, default="text")
    _add_draft(diff)

    changelog = commands.add_parser("changelog", help="a changelog between OLD and NEW")
    changelog.add_argument("old")
    changelog.add_argument("new")
    changelog.add_argument("--format", choices=FORMATS, default="auto")
    changelog.add_argument("--output", choices=("markdown", "json"), default="markdown")
    _add_draft(changelog)

    register = commands.add_parser("register", help="register FILE as a new subject version")
    register.add_argument("file")
    register.add_argument("--registry", metavar="URL", required=True)
    register.add_argument("--subject", required=True)
    register.add_argument("--format", choices=FORMATS, default="auto")
    register.add_argument("--key", help=f"registry API key (default: ${KEY_VARIABLE})")
    _add_draft(register)
    bump = register.add_mutually_exclusive_group()
    bump.add_argument("--version", help="explicit semantic version, e.g. 2.0.0")
    bump.add_argument(
        "--bump",
        choices=("major", "minor", "patch"),
        help="which part to bump (a breaking change needs major)",
    )

    rules = commands.add_parser(
        "rules", help="list every rule id with its default level (for waivers and overrides)"
    )
    rules.add_argument("--output", choices=("text", "json"), default="text")

    subjects = commands.add_parser("subjects", help="manage registry subjects")
    subject_commands = subjects.add_subparsers(dest="subjects_command", required=True)
    create = subject_commands.add_parser(
        "create",
        help="create a subject (before its first `contracts register`)",
        description="contracts subjects create NAME --owner TEAM [--mode MODE] --registry URL",
    )
    create.add_argument("name")
    create.add_argument("--owner", required=True, metavar="TEAM", help="the owning team")
    create.add_argument(
        "--format", choices=("jsonschema", "openapi", "asyncapi"), default="jsonschema"
    )
    create.add_argument("--mode", type=str.upper, choices=MODES, help="compatibility mode")
    create.add_argument("--domain", help="the master-data domain it describes")
    create.add_argument("--description")
    create.add_argument("--lifecycle", choices=("draft", "active"), default="draft")
    create.add_argument("--registry", metavar="URL", required=True)
    create.add_argument("--key", help=f"registry API key (default: ${KEY_VARIABLE})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    outcome: list[int] = []
    worker = _deep_thread(lambda: outcome.append(_run(args, parser)))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
    try:
        worker.start()
        worker.join()
    finally:
        sys.setrecursionlimit(limit)  # process-wide: other threads have ordinary stacks
    return outcome[0] if outcome else 2


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The command, with every failure turned into exit 2 and one line on stderr."""
    try:
        return int(_COMMANDS[args.command](args, parser))
    except ContractError as exc:
        return _fail(f"error: {exc}")
    except SystemExit as exc:  # parser.error() inside a command
        code = exc.code
        return code if isinstance(code, int) else _fail(str(code))
    except RecursionError:
        return _fail("error: the documents nest too deeply to compare")
    except MemoryError:
        return _fail("error: out of memory while comparing the documents")
    except KeyboardInterrupt:
        return _fail("interrupted")
    except Exception as exc:  # a bug must never read as a verdict (exit 1) nor as a traceback
        reason = " ".join(str(exc).split()) or "no details"
        return _fail(f"internal error ({type(exc).__name__}: {reason[:300]})")


def _fail(message: str) -> int:
    print(f"contracts: {message}", file=sys.stderr)
    return 2


def _deep_thread(target: Callable[[], None]) -> threading.Thread:
    """A thread with a deep stack (main() raises the recursion limit while it runs)."""
    previous = threading.stack_size(_STACK_BYTES)
    try:
        return threading.Thread(target=target, name="contracts")
    finally:
        threading.stack_size(previous)


def _load(path: str, fmt: str, draft: str | None = None) -> Contract:
    return _read(path, fmt, draft)[0]


def _read(path: str, fmt: str, draft: str | None = None) -> tuple[Contract, Source]:
    text = read_text(path)
    contract = load_contract(
        text, fmt, source=path, draft=draft, max_depth=FILE_MAX_DEPTH, bounded_numbers=False
    )
    return contract, Source(path, contract.document, text)


def _placed(result: CompatibilityResult, earlier: list[Source], new: Source) -> CompatibilityResult:
    """Every change with the document it belongs to, a pointer resolving there and its line."""
    if not result.changes:
        return result
    return place_all(result, {source.label: source for source in earlier}, new)


def _check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    policy = load_policy(args.config) if args.config else Policy()
    mode = Mode(args.mode) if args.mode else (policy.mode or Mode.BACKWARD)
    if args.registry:
        return _check_remote(args, parser)
    if len(args.files) < 2:
        parser.error("check needs OLD and NEW files (or --registry URL --subject SUBJECT)")
    *earlier, new = args.files
    new_contract, new_source = _read(new, args.format, args.draft)
    read = [_read(path, args.format, args.draft) for path in earlier]
    result = check_compatibility(
        new_contract, [contract for contract, _ in read], mode, args.format, labels=earlier
    )
    result = _placed(apply_policy(result, policy), [source for _, source in read], new_source)
    print(render(result, args.output, earlier[-1], new, all_levels=False, earlier=earlier))
    return 0 if result.compatible else 1


def _check_remote(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Ask the registry what registering FILE would do, under the subject's own mode."""
    if len(args.files) != 1 or not args.subject:
        parser.error("with --registry give exactly one FILE and --subject")
    contract = _load(args.files[0], args.format, args.draft)
    answer = RegistryApiClient(args.registry, args.key).check(args.subject, contract.document)
    compatible = bool(answer.get("registrable", answer.get("compatible")))
    if args.output == "json":
        print(
            json.dumps(
                {
                    "compatible": compatible,
                    "mode": answer.get("mode"),
                    "proposed_version": answer.get("proposed_version"),
                    "changes": answer.get("changes") or [],
                    "affected_consumers": answer.get("affected_consumers") or [],
                },
                indent=2,
            )
        )
    else:
        verdict = "compatible" if compatible else "NOT compatible"
        reason = f" ({answer['reason']})" if answer.get("reason") else ""
        print(f"{args.subject}: {verdict}{reason}")
        for change in answer.get("changes") or []:
            print(
                f"  [{change.get('level')}] {change.get('path') or '/'}: {change.get('message')}"
                f" ({change.get('rule')})"
            )
        for consumer in answer.get("affected_consumers") or []:
            print(f"  affects consumer: {consumer}")
    return 0 if compatible else 1


def _diff(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    (old, old_source), (new, new_source) = (
        _read(args.old, args.format, args.draft),
        _read(args.new, args.format, args.draft),
    )
    result = _placed(diff_contracts(old, new), [old_source], new_source)
    print(render(result, args.output, args.old, args.new, all_levels=True, kind="diff"))
    return 0


def _changelog(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    (old_contract, old_source), (new_contract, new_source) = (
        _read(args.old, args.format, args.draft),
        _read(args.new, args.format, args.draft),
    )
    result = _placed(diff_contracts(old_contract, new_contract), [old_source], new_source)
    old, new = Path(args.old).name, Path(args.new).name
    if args.output == "json":
        print(changelog_json(result, old, new))
    else:
        print(changelog_markdown(result, old, new), end="")
    return 0


def _register(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    contract = _load(args.file, args.format, args.draft)
    client = RegistryApiClient(args.registry, args.key)
    try:
        version = client.register(
            args.subject, contract.document, version=args.version, bump=args.bump
        )
    except RegistryError as exc:
        if "409" in str(exc):  # refused: a breaking change without a major bump
            print(f"contracts: refused: {exc}", file=sys.stderr)
            return 1
        raise
    state = "registered" if version.get("created", True) else "already registered"
    print(f"{state} {args.file} as {args.subject} {version.get('version')}")
    return 0


def _subjects(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    fields = {
        "compatibility": args.mode,
        "domain": args.domain,
        "description": args.description,
        "lifecycle": args.lifecycle,
    }
    client = RegistryApiClient(args.registry, args.key)
    created = client.create_subject(
        args.name, args.format, args.owner, **{k: v for k, v in fields.items() if v is not None}
    )
    mode = created.get("compatibility") or created.get("effective_compatibility") or "default"
    print(
        f"created subject {created.get('name', args.name)} ({created.get('format', args.format)}, "
        f"owner {created.get('owner_team', args.owner)}, mode {mode})"
    )
    return 0


def _rules(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    rows = rule_catalogue() + [
        {
            "id": WAIVER_EXPIRED,
            "level": "breaking",
            "applies_to": "all",
            "summary": "a waiver in the --config file has expired",
        }
    ]
    if args.output == "json":
        print(json.dumps({"schema_version": 1, "rules": rows}, indent=2))
    else:
        width = max(len(row["id"]) for row in rows)
        for row in rows:
            print(f"{row['id']:<{width}}  {row['level']:<8}  {row['summary']}")
    return 0


_COMMANDS = {
    "rules": _rules,
    "check": _check,
    "diff": _diff,
    "changelog": _changelog,
    "register": _register,
    "subjects": _subjects,
}


if __name__ == "__main__":
    sys.exit(main())
