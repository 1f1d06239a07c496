"""Parent-child CSV and JSON: reading a whole hierarchy (errors per line) and writing it back.

Pure functions: text or decoded JSON in, ``NodeRow`` lists out, and the reverse. A file with
any bad line raises ``ParseFailed`` listing every bad line, so nothing is half-applied.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

from mdm.csvsafe import escape_row, unescape
from mdm.hierarchies.engine import EARLIEST, NodeRow

KEY_MAX = 120
NAME_MAX = 300
# Column (CSV) or member (JSON) -> the NodeRow field it fills. ``code``/``parent_code`` let a
# golden-record load file (e.g. a chart of accounts) double as the hierarchy file.
ALIASES = {"node": "node", "code": "node", "parent": "parent", "parent_code": "parent",
           "name": "name", "valid_from": "valid_from", "valid_to": "valid_to",
           "ownership_pct": "ownership_pct"}
ATTR_PREFIX = "attr."
CSV_COLUMNS = ["node", "parent", "name", "valid_from", "valid_to", "ownership_pct"]


class ParseFailed(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(f"{len(errors)} bad line(s)")
        self.errors = errors


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string")
    value = value.strip()
    return value or None


def _date(value: Any, name: str) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} '{text}' is not a date (YYYY-MM-DD)") from None


def _pct(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("ownership_pct must be a number")
    try:
        dec = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"ownership_pct '{value}' is not a number") from None
    if not dec.is_finite():
        raise ValueError(f"ownership_pct '{value}' is not a number")
    return format(dec.normalize(), "f")


def _row(fields: dict[str, Any], attributes: dict[str, Any], line: int) -> NodeRow:
    """One record -> NodeRow; raises ValueError listing every problem of the record."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name in ("node", "parent", "name"):
        try:
            values[name] = _text(fields.get(name))
        except ValueError as exc:
            problems.append(f"{name} {exc}")
    for name in ("valid_from", "valid_to"):
        try:
            values[name] = _date(fields.get(name), name)
        except ValueError as exc:
            problems.append(str(exc))
    try:
        pct = _pct(fields.get("ownership_pct"))
    except ValueError as exc:
        problems.append(str(exc))
        pct = None
    node, parent = values.get("node"), values.get("parent")
    if not problems and node is None:
        problems.append("node is required")
    for name, limit in (("node", KEY_MAX), ("parent", KEY_MAX), ("name", NAME_MAX)):
        if isinstance(values.get(name), str) and len(values[name]) > limit:
            problems.append(f"{name} is longer than {limit} characters")
    if problems:
        raise ValueError("; ".join(problems))
    attrs = dict(attributes)
    if pct is not None:
        attrs["ownership_pct"] = pct
    assert isinstance(node, str)  # checked above: no problems means a node key
    return NodeRow(key=node, parent=parent, valid_from=values["valid_from"] or EARLIEST,
                   valid_to=values["valid_to"], name=values["name"], attributes=attrs, line=line)


def _finish(rows: list[NodeRow], errors: dict[str, list[str]], unit: str) -> list[NodeRow]:
    # one set first: a file without repeats (nearly every file) needs no second look
    repeats = len({(r.key, r.parent, r.valid_from) for r in rows}) != len(rows)
    seen: dict[tuple[str, str | None, date], int | None] = {}
    for row in rows if repeats else ():
        ident = (row.key, row.parent, row.valid_from)
        if ident in seen:
            errors.setdefault(f"{unit} {row.line}", []).append(
                f"repeats {unit} {seen[ident]} (same node, parent and valid_from)")
        else:
            seen[ident] = row.line
    if errors:
        raise ParseFailed(errors)
    if not rows:
        raise ParseFailed({"file": ["no nodes"]})
    return rows


_CSV_FIELDS = ("node", "parent", "name", "valid_from", "valid_to", "ownership_pct")


def parse_csv(text: str, ignore: Iterable[str] = ()) -> list[NodeRow]:
    """Rows from parent-child CSV. Columns in ``ignore`` (golden-record attributes of the
    domain, source_id) are skipped; any other unknown column is an error."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    quoted = "'" in text  # cells to_csv escaped against CSV injection read back as they were
    header = [h.strip() for h in next(reader, [])]
    pick, attr_columns = _csv_columns(header, set(ignore))
    width = len(header)
    dates: dict[str, date] = {}  # a file repeats a few dates many times
    rows: list[NodeRow] = []
    errors: dict[str, list[str]] = {}
    for record in reader:
        line = reader.line_num
        if quoted:
            record = [unescape(c) for c in record]
        if len(record) != width:
            if not any(c.strip() for c in record):
                continue  # a blank line
            if len(record) > width:
                errors[f"line {line}"] = ["more cells than header columns"]
                continue
            record = record + [""] * (width - len(record))
        record.append("")
        try:
            rows.append(_csv_row(pick(record), record, attr_columns, line, dates))
        except ValueError as exc:
            errors[f"line {line}"] = [str(exc)]
    return _finish(rows, errors, "line")


def _csv_columns(header: list[str], skip: set[str]
                 ) -> tuple[Callable[[list[str]], Any], list[tuple[int, str]]]:
    """From the header: a picker of the node fields of a record (a missing column picks
    the empty cell appended to every record) and the ``attr.*`` columns; refuses unknown
    columns and a header without a node column."""
    if not any(header):
        raise ParseFailed({"line 1": ["no header row"]})
    errors: dict[str, list[str]] = {}
    unknown = [h for h in header
               if h not in ALIASES and not h.startswith(ATTR_PREFIX) and h not in skip]
    if unknown:
        errors["line 1"] = [f"unknown column(s) {', '.join(unknown) or '(empty)'}"]
    if "node" not in header and "code" not in header:
        errors.setdefault("line 1", []).append("a 'node' (or 'code') column is required")
    if errors:
        raise ParseFailed(errors)
    # an explicit node/parent column wins over the code/parent_code aliases
    preferred = {"node": "node" if "node" in header else "code",
                 "parent": "parent" if "parent" in header else "parent_code"}
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        target = ALIASES.get(h)
        if target and preferred.get(target, h) == h:
            index[target] = i
    attr_columns = [(i, h[len(ATTR_PREFIX):]) for i, h in enumerate(header)
                    if h.startswith(ATTR_PREFIX)]
    width = len(header)
    pick = itemgetter(*(width if index.get(f) is None else index[f] for f in _CSV_FIELDS))
    return pick, attr_columns


def _csv_row(cells: tuple[str, ...], record: list[str], attr_columns: list[tuple[int, str]],
             line: int, dates: dict[str, date]) -> NodeRow:
    """One record's node row; ValueError says what is wrong with it."""
    node, parent, name, start, end = (c.strip() for c in cells[:5])
    pct = cells[5]
    attributes = ({k: record[i] for i, k in attr_columns if record[i] != ""}
                  if attr_columns else {})
    # the common case (plain cells, ISO dates, no percentage) without per-field checks
    if (node and not pct.strip() and len(node) <= KEY_MAX and len(parent) <= KEY_MAX
            and len(name) <= NAME_MAX):
        try:
            valid_from = (dates.get(start) or _iso(dates, start)) if start else EARLIEST
            valid_to = (dates.get(end) or _iso(dates, end)) if end else None
            return NodeRow(node, parent or None, valid_from, valid_to, name or None,
                           attributes, line)
        except ValueError:
            pass
    # something is off: the careful path says exactly what
    fields = (node, parent, name, start, end, pct.strip())
    return _row(dict(zip(_CSV_FIELDS, fields, strict=True)), attributes, line)


def _iso(seen: dict[str, date], text: str) -> date:
    seen[text] = day = date.fromisoformat(text)
    return day


JSON_MEMBERS = {"node", "parent", "name", "valid_from", "valid_to", "ownership_pct",
                "attributes", "golden_id", "code", "parent_code"}


def parse_json(doc: Any) -> list[NodeRow]:
    """Rows from ``{"nodes": [...]}`` or a bare list; each item is an object with node,
    parent, name, valid_from, valid_to, ownership_pct and optional attributes. Items are
    numbered from 1 in error keys ("item 3")."""
    if isinstance(doc, dict):
        items = doc.get("nodes")
    else:
        items = doc
    if not isinstance(items, list):
        raise ParseFailed({"nodes": ["expected a list of node objects (or {\"nodes\": [...]})"]})
    errors: dict[str, list[str]] = {}
    rows: list[NodeRow] = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors[f"item {n}"] = ["not an object"]
            continue
        unknown = sorted(str(k) for k in item if k not in JSON_MEMBERS)
        attributes = item.get("attributes") or {}
        if unknown or not isinstance(attributes, dict):
            errors[f"item {n}"] = [f"unknown member(s) {', '.join(unknown)}" if unknown
                                   else "attributes must be an object"]
            continue
        fields = {ALIASES[k]: v for k, v in item.items() if k in ALIASES}
        try:
            rows.append(_row(fields, attributes, n))
        except ValueError as exc:
            errors[f"item {n}"] = [str(exc)]
    return _finish(rows, errors, "item")


def loads_json(text: str) -> list[NodeRow]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseFailed({f"line {exc.lineno}": [f"not JSON: {exc.msg}"]}) from None
    return parse_json(doc)


def row_dict(row: NodeRow, *, with_golden: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "node": row.key, "parent": row.parent, "name": row.name,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat() if row.valid_to else None,
    }
    attrs = dict(row.attributes)
    if "ownership_pct" in attrs:
        out["ownership_pct"] = attrs.pop("ownership_pct")
    if attrs:
        out["attributes"] = attrs
    if with_golden:
        out["golden_id"] = row.golden_id
    return out


def _sorted(rows: Iterable[NodeRow]) -> list[NodeRow]:
    return sorted(rows, key=lambda r: (r.key, r.valid_from, r.parent or ""))


def to_csv(rows: Iterable[NodeRow]) -> str:
    rows = _sorted(rows)
    extra = sorted({k for r in rows for k in r.attributes if k != "ownership_pct"})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(ATTR_PREFIX + k for k in extra)])
    for r in rows:
        writer.writerow(escape_row([  # CSV injection: formula-like text gets a quote
            r.key, r.parent or "", r.name or "", r.valid_from.isoformat(),
            r.valid_to.isoformat() if r.valid_to else "", r.attributes.get("ownership_pct", ""),
            *(r.attributes.get(k, "") for k in extra)]))
    return out.getvalue()


def to_json(rows: Iterable[NodeRow], meta: dict[str, Any]) -> dict[str, Any]:
    return {**meta, "nodes": [row_dict(r) for r in _sorted(rows)]}
