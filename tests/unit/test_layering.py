"""The import structure the code is meant to have, checked on every change.

Read from the source with ``ast`` (module-level and function-level imports alike), so an
import hidden inside a function counts as much as one at the top of a file.

* ``contracts`` (the contract checkers and their CLI) never imports ``mdm``: it is usable
  on its own in a CI pipeline.
* No new two-way edge between ``mdm`` packages. The edges still two-way are listed in
  ``PENDING`` with what closes them; the list only shrinks (a listed edge that no longer
  exists fails the test too, so the list stays true).
* The pure matching engine (the modules in ``PURE_MATCHING``) imports no Flask, no
  SQLAlchemy and nothing of the hub but itself and ``mdm.identifiers``: dataclasses and
  arrays in, dataclasses and arrays out. The database-facing rooms of ``mdm.matching``
  (models, index, linker, service, apply, api, cli, domains) are the other modules.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PENDING = {
    frozenset({"audit", "records"}): "records writes audit; audit rebuilds states from history",
    frozenset({"events", "records"}): "records writes events; payloads come from its versions",
    frozenset({"matching", "records"}): "loading runs matching's batch after a large first load",
    frozenset({"records", "stewardship"}): "golden refresh holds risky changes for four eyes",
}

PURE_MATCHING = {
    "__init__", "batch", "blocking", "candidates", "clustering", "comparisons", "decisions",
    "defaults", "engine", "explanations", "features", "incremental", "normalize", "params",
    "records", "rules", "schemas", "settings", "training",
}
PURE_MAY_IMPORT = ("mdm.matching.", "mdm.identifiers")


def imports_of(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def package_of(path: Path) -> str:
    return path.relative_to(ROOT / "mdm").parts[0].removesuffix(".py")


def package_edges() -> dict[tuple[str, str], set[str]]:
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in (ROOT / "mdm").rglob("*.py"):
        here = package_of(path)
        for name in imports_of(path):
            parts = name.split(".")
            if parts[0] == "mdm" and len(parts) > 1 and parts[1] != here:
                edges[(here, parts[1])].add(str(path.relative_to(ROOT)))
    return edges


def test_contracts_is_usable_without_the_hub() -> None:
    offenders = {str(p.relative_to(ROOT)): [n for n in imports_of(p) if n.split(".")[0] == "mdm"]
                 for p in (ROOT / "contracts").rglob("*.py")}
    assert {p: names for p, names in offenders.items() if names} == {}


def test_no_new_two_way_edges_between_packages() -> None:
    edges = package_edges()
    two_way = {frozenset(pair) for pair in edges if pair[::-1] in edges}
    new = {}
    for pair in two_way - PENDING.keys():
        a, b = sorted(pair)
        new[f"{a} <-> {b}"] = sorted(edges[(a, b)] | edges[(b, a)])
    assert new == {}, "a new two-way import between packages (files listed)"
    closed = [sorted(pair) for pair in PENDING.keys() - two_way]
    assert closed == [], "these edges are one-way now: remove them from PENDING"


def test_the_pure_matching_engine_touches_no_framework_or_database() -> None:
    folder = ROOT / "mdm" / "matching"
    assert PURE_MATCHING <= {p.stem for p in folder.glob("*.py")}, "a listed module is gone"
    database_rooms = {f"mdm.matching.{p.stem}" for p in folder.glob("*.py")} - {
        f"mdm.matching.{stem}" for stem in PURE_MATCHING}

    def forbidden(name: str) -> bool:
        top = name.split(".")[0]
        if top in {"flask", "flask_smorest", "sqlalchemy", "alembic"}:
            return True
        if top != "mdm" or name in {"mdm", "mdm.matching"}:
            return False
        room = ".".join(name.split(".")[:3])
        return room in database_rooms or not name.startswith(PURE_MAY_IMPORT)

    offenders = {stem: sorted(filter(forbidden, imports_of(folder / f"{stem}.py")))
                 for stem in sorted(PURE_MATCHING)}
    assert {stem: names for stem, names in offenders.items() if names} == {}


def test_conflicts_are_raised_by_condition() -> None:
    """A 409 a client may act on names its condition (``mdm.errors``: AlreadyExists,
    WrongState, ChangedMeanwhile...), each with its own code: the bare family is not raised."""
    bare = []
    for path in (ROOT / "mdm").rglob("*.py"):
        if path.name == "errors.py" and path.parent.name == "mdm":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "Conflict"):
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == []
