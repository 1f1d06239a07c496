"""Loads the built-in domains and any configured extra ones into one registry."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

from mdm.domains.definitions import DefinitionError, DomainDefinition, parse_definition
from mdm.errors import NotFound

BUILTIN_DIR = Path(__file__).parent
BUILTIN = ("supplier", "customer", "gl_account", "cost_center", "legal_entity")


class DomainRegistry:
    def __init__(self, definitions: list[DomainDefinition]):
        self._domains = {d.name: d for d in definitions}

    def get(self, name: str) -> DomainDefinition:
        try:
            return self._domains[name]
        except KeyError:
            raise NotFound(
                f"Unknown domain '{name}'", errors={"domain": [f"Known: {', '.join(self.names())}"]}
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._domains

    def __iter__(self) -> Iterator[DomainDefinition]:
        return iter(self._domains.values())

    def names(self) -> list[str]:
        return list(self._domains)


def _load_file(path: Path, *, builtin: bool) -> list[DomainDefinition]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path}: not valid YAML: {exc}") from exc
    out = []
    for doc in docs:
        try:
            out.append(parse_definition(doc, builtin=builtin))
        except DefinitionError as exc:
            raise DefinitionError(f"{path}: {exc}") from exc
    return out


def load_registry(extra_path: str | None = None) -> DomainRegistry:
    """Built-in domains plus the YAML files at ``extra_path`` (a file or a folder).

    Several paths may be given separated by the OS path separator.
    """
    definitions = []
    for name in BUILTIN:
        definitions.extend(_load_file(BUILTIN_DIR / f"{name}.yaml", builtin=True))
    if extra_path:
        import os

        for part in extra_path.split(os.pathsep):
            p = Path(part)
            if not p.exists():
                raise DefinitionError(f"MDM_DOMAINS_PATH: {p} does not exist")
            files = sorted(p.glob("*.y*ml")) if p.is_dir() else [p]
            for f in files:
                for d in _load_file(f, builtin=False):
                    if d.name in BUILTIN:
                        raise DefinitionError(f"{f}: domain '{d.name}' is built in")
                    definitions.append(d)
    names = [d.name for d in definitions]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise DefinitionError(f"domains defined twice: {sorted(dupes)}")
    return DomainRegistry(definitions)
