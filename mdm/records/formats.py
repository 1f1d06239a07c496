"""Reading source-record files (CSV, JSON Lines) for ``mdm load``.

``check`` reads the whole file once before anything is written: it proves the encoding,
refuses binary files and counts lines (for progress). ``read`` then yields one
``IngestItem`` per record or a ``BadRow`` (with its line) for a row that cannot become a
record; a file that cannot be read at all raises ``UnusableFile`` with one line of reason.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdm.records.ingest import IngestItem

FORMATS = ("csv", "jsonl")
DELIMITERS = (",", ";", "\t", "|")  # tried in this order when none is given
_CHUNK = 1 << 20
NEWLINE = b"\n"
_FALSE = ("false", "0", "no")


class UnusableFile(Exception):
    """The file cannot be loaded at all (encoding, binary content, header)."""


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True)
class FileCheck:
    lines: int  # physical lines, for progress
    encoding: str


def format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"


def _python_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise UnusableFile(f"unknown encoding '{encoding}'") from exc
    # A UTF-8 file may start with a byte order mark (Excel writes one): skip it.
    return "utf-8-sig" if name == "utf-8" else name


def check(path: Path, encoding: str = "utf-8") -> FileCheck:
    """Decode the whole file once: count its lines, refuse undecodable or binary content."""
    name = _python_encoding(encoding)
    decoder = codecs.getincrementaldecoder(name)(errors="strict")
    wide = name.startswith(("utf-16", "utf-32"))  # NUL bytes are normal there
    lines = offset = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if not wide and (nul := chunk.find(b"\x00")) >= 0:
                line = lines + chunk.count(NEWLINE, 0, nul) + 1
                raise UnusableFile(
                    f"{path}: a binary file, not text (NUL byte at offset {offset + nul}, "
                    f"line {line})"
                )
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = max(0, min(exc.start, len(chunk) - 1))
                line = lines + chunk.count(NEWLINE, 0, at) + 1
                raise UnusableFile(
                    f"{path}: not valid {encoding}: byte 0x{chunk[at]:02x} at offset "
                    f"{offset + at} (line {line}); give "
                    f"the file's encoding with --encoding, e.g. --encoding cp1252"
                ) from None
            lines += chunk.count(NEWLINE)
            offset += len(chunk)
            last = chunk
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise UnusableFile(f"{path}: not valid {encoding}: the file ends inside a character") \
            from None
    if last and not last.endswith(b"\n"):
        lines += 1
    return FileCheck(lines, name)


def read(
    path: Path,
    fmt: str,
    attributes: set[str],
    *,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> Iterator[IngestItem | BadRow]:
    """Records of ``path`` in file order (``check`` it first: decoding errors are not
    expected here)."""
    name = _python_encoding(encoding)
    if fmt == "csv":
        yield from _csv(path, attributes, name, delimiter)
    else:
        yield from _jsonl(path, name)


def _sniff(header: str, delimiter: str | None) -> str:
    if delimiter is not None:
        if len(delimiter) != 1:
            raise UnusableFile(f"the delimiter must be one character, not '{delimiter}'")
        return delimiter
    for candidate in DELIMITERS:
        if "source_id" in (c.strip().strip('"') for c in header.split(candidate)):
            return candidate
    return ","


def _csv(
    path: Path, attributes: set[str], encoding: str, delimiter: str | None
) -> Iterator[IngestItem | BadRow]:
    with path.open(newline="", encoding=encoding) as fh:
        first = fh.readline()
        fh.seek(0)
        sep = _sniff(first, delimiter)
        reader = csv.reader(fh, delimiter=sep)
        header = next(reader, None)
        if not header:
            raise UnusableFile(f"{path}: empty file, the CSV needs a header line")
        header = [c.strip() for c in header]
        if "source_id" not in header:
            hint = "" if delimiter else " (or give its --delimiter)"
            raise UnusableFile(f"{path}: the CSV needs a 'source_id' column{hint}")
        twice = sorted({c for c in header if header.count(c) > 1})
        if twice:
            raise UnusableFile(f"{path}: columns named twice: {', '.join(twice)}")
        unknown = [c for c in header if c not in attributes and c not in ("source_id", "active")]
        if unknown:
            raise UnusableFile(f"{path}: unknown columns {', '.join(unknown)}")
        width = len(header)
        sid_at = header.index("source_id")
        active_at = header.index("active") if "active" in header else None
        attr_cols = [(k, c) for k, c in enumerate(header) if k != sid_at and k != active_at]
        start = reader.line_num + 1
        for cells in reader:
            # reader.line_num counts physical lines, so quoted multi-line cells stay honest;
            # a record's line is where it starts
            line, start = start, reader.line_num + 1
            if len(cells) > width:
                yield BadRow(line, f"{len(cells)} cells, but the header has {width} columns")
                continue
            if not cells:
                continue  # a blank line
            cells += [""] * (width - len(cells))
            active = True
            if active_at is not None:
                active = (cells[active_at].strip().lower() or "true") not in _FALSE
            yield IngestItem(
                cells[sid_at] or None, {c: cells[k] for k, c in attr_cols}, active, line
            )


def _jsonl(path: Path, encoding: str) -> Iterator[IngestItem | BadRow]:
    with path.open(encoding=encoding) as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj: Any = json.loads(line)
            except (json.JSONDecodeError, RecursionError, ValueError) as exc:
                yield BadRow(n, f"not JSON: {exc}")
                continue
            if not isinstance(obj, dict):
                yield BadRow(n, "not a JSON object")
                continue
            attrs = obj.get("attributes")
            if attrs is None:
                attrs = {k: v for k, v in obj.items() if k not in ("source_id", "active")}
            yield IngestItem(obj.get("source_id"), attrs, obj.get("active", True) is not False, n)
