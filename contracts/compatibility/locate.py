"""Where a change is: a JSON pointer that resolves in the document it belongs to, and its line.

A change's `path` describes what was compared: it walks through `$ref`s and names parameters
and `required` entries by name, so it often resolves in neither document. `locate` follows
the same walk through the real document (into `$ref` targets, parameters by location and
name, `required` names by index) and gives the deepest pointer that exists there. Removals
belong to the old document, everything else to the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import yaml

from contracts.compatibility.pointer import join as join_pointer
from contracts.compatibility.pointer import split as split_pointer
from contracts.compatibility.result import Change, CompatibilityResult

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _deref(root: Any, node: Any, actual: list[str]) -> tuple[Any, list[str]]:
    """Follow local `$ref`s from `node`; the pointer becomes the target's."""
    for _ in range(32):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#"):
            return node, actual
        target, parts = root, []
        for part in split_pointer(ref[1:]):
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                return node, actual
            parts.append(part)
        node, actual = target, parts
    return node, actual


def locate(root: Any, path: str) -> tuple[str, bool]:
    """(the deepest pointer of `path` that exists in `root`, whether all of it does)."""
    segments = split_pointer(path)
    node: Any = root
    actual: list[str] = []
    trail: list[tuple[Any, list[str]]] = []
    index = 0
    while index < len(segments):
        segment = segments[index]
        if isinstance(node, dict) and segment not in node and "$ref" in node:
            node, actual = _deref(root, node, actual)
        trail.append((node, actual))
        step = _step(root, node, segment, segments[index + 1 :], actual, trail)
        if step is None:
            return join_pointer(actual), False
        node, actual, used = step
        index += used
    return join_pointer(actual), True


def _step(
    root: Any,
    node: Any,
    segment: str,
    rest: list[str],
    actual: list[str],
    trail: list[tuple[Any, list[str]]],
) -> tuple[Any, list[str], int] | None:
    if isinstance(node, dict):
        if segment in node:
            return node[segment], actual + [segment], 1
        if segment.isdigit() and int(segment) in node:  # YAML status codes read as integers
            return node[int(segment)], actual + [segment], 1
        if segment == "parameters" and len(rest) >= 2:  # API pointers: parameters/{in}/{name}
            for holder, where in (trail[-1], trail[-2] if len(trail) > 1 else (None, [])):
                if not isinstance(holder, dict) or not isinstance(holder.get("parameters"), list):
                    continue
                for i, raw in enumerate(holder["parameters"]):
                    param, _ = _deref(root, raw, [])
                    if (
                        isinstance(param, dict)
                        and str(param.get("in")) == rest[0]
                        and str(param.get("name", "")).lower() == rest[1].lower()
                    ):
                        found, pointer = _deref(root, raw, where + ["parameters", str(i)])
                        return found, pointer, 3
        return None
    if isinstance(node, list):
        if segment.isdigit() and int(segment) < len(node):
            return node[int(segment)], actual + [segment], 1
        if actual and actual[-1] == "required" and segment in node:
            return segment, actual + [str(node.index(segment))], 1
    return None


class LineMap:
    """Source lines of pointers in one text (JSON or YAML), composed once, walked on demand."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self._root: Any = None
        self._failed = False

    def line(self, pointer: str) -> int | None:
        if self.text is None or self._failed:
            return None
        if self._root is None:
            try:
                self._root = yaml.compose(self.text, Loader=_LOADER)
            except (yaml.YAMLError, RecursionError, ValueError):
                self._failed = True
                return None
        node, line = self._root, 1
        for part in split_pointer(pointer):
            if isinstance(node, yaml.MappingNode):
                match = next(
                    ((k, v) for k, v in node.value if str(getattr(k, "value", "")) == part), None
                )
                if match is None:
                    break
                line = match[0].start_mark.line + 1
                node = match[1]
            elif isinstance(node, yaml.SequenceNode) and part.isdigit():
                if int(part) >= len(node.value):
                    break
                node = node.value[int(part)]
                line = node.start_mark.line + 1
            else:
                break
        return line


@dataclass
class Source:
    """One document as the CLI read it: its label (a file name), parsed data and text."""

    label: str
    document: Any
    text: str | None = None
    lines: LineMap | None = None

    def line(self, pointer: str) -> int | None:
        if self.lines is None:
            self.lines = LineMap(self.text)
        return self.lines.line(pointer)


_REMOVAL_WORDS = ("REMOVED", "removed")


def place(change: Change, old: Source, new: Source, with_lines: bool = True) -> Change:
    """The change with `document`, `pointer` (resolving there) and `line` filled in."""
    in_new = locate(new.document, change.path)
    in_old = locate(old.document, change.path)
    removal = any(word in change.rule for word in _REMOVAL_WORDS)
    if in_new[1] and in_old[1]:
        source, pointer = (old, in_old[0]) if removal else (new, in_new[0])
    elif in_old[1]:
        source, pointer = old, in_old[0]
    elif in_new[1]:
        source, pointer = new, in_new[0]
    elif len(in_old[0]) > len(in_new[0]):
        source, pointer = old, in_old[0]
    else:
        source, pointer = new, in_new[0]
    line = source.line(pointer) if with_lines else None
    return replace(change, document=source.label, pointer=pointer, line=line)


def place_all(
    result: CompatibilityResult, earlier: dict[str, Source], new: Source, with_lines: bool = True
) -> CompatibilityResult:
    """Place every change; `earlier` maps each earlier version's label to its source."""
    fallback = next(reversed(earlier.values()))
    return result.with_changes(
        place(change, earlier.get(change.against or "", fallback), new, with_lines)
        for change in result.changes
    )
