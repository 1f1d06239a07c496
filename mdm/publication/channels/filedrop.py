"""File-drop channel: a snapshot or delta as CSV or JSON Lines, written atomically into a
target folder (a hidden temporary name, fsync, then rename), followed by its manifest.
CSV cells that could start a spreadsheet formula are escaped (mdm.csvsafe).

An importer that waits for the manifest never sees a half-written file; the manifest's
checksum and record count let it verify what it reads.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from mdm.csvsafe import escape_row

FORMATS = ("csv", "jsonl")
BLOCK_ROWS = 2000  # rows encoded, hashed and written at once
# datetimes pass through to ``default=str``, as with the standard json module
_ORJSON_LINE = (orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
                | orjson.OPT_PASSTHROUGH_DATETIME)
FIXED_COLUMNS = ["golden_id", "status", "version", "merged_into", "quality_status",
                 "updated_at", "target_id"]


class _HashingSink:
    """Hashes and writes through to a binary file, a block of rows at a time (one hash
    update and write per block rather than per row)."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()

    def write_bytes(self, data: bytes) -> None:
        self.sha.update(data)
        self.fh.write(data)


_JSON_TYPES = frozenset({dict, list})


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _atomic_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.tmp")


def _publish(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)
    try:  # make the rename itself durable
        dir_fd = os.open(final.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_file(directory: Path, stem: str, fmt: str, attribute_names: list[str],
               items: Iterable[dict[str, Any]]) -> tuple[str, int, str]:
    """Write ``items`` (message ``data`` objects: record + target) as ``stem.fmt``.

    Returns (file name, record count, sha256). Streams: memory does not grow with the file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"{stem}.{fmt}"
    tmp = _atomic_path(final)
    count = 0
    with tmp.open("wb", buffering=1024 * 1024) as fh:
        out = _HashingSink(fh)
        if fmt == "csv":
            count = _write_csv(out, attribute_names, items)
        else:
            count = _write_jsonl(out, items)
        fh.flush()
        os.fsync(fh.fileno())
    _publish(tmp, final)
    return final.name, count, out.sha.hexdigest()


def _write_csv(out: _HashingSink, attribute_names: list[str],
               items: Iterable[dict[str, Any]]) -> int:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FIXED_COLUMNS + attribute_names)
    count = 0
    for item in items:
        rec = item["record"]
        attrs = rec.get("attributes") or {}
        target = item.get("target")
        values = list(map(attrs.get, attribute_names))
        # csv writes None as ""; only JSON values (objects, arrays) need converting
        if not _JSON_TYPES.isdisjoint(map(type, values)):
            values = [_cell(v) for v in values]
        writer.writerow(escape_row([
            rec["id"], rec["status"], rec["version"], _cell(rec.get("merged_into")),
            rec.get("quality_status"), rec.get("updated_at"),
            _cell(target["id"] if target else None), *values]))
        count += 1
        if count % BLOCK_ROWS == 0:
            out.write_bytes(buf.getvalue().encode("utf-8"))
            buf.seek(0)
            buf.truncate()
    out.write_bytes(buf.getvalue().encode("utf-8"))
    return count


def _write_jsonl(out: _HashingSink, items: Iterable[dict[str, Any]]) -> int:
    block: list[bytes] = []
    count = 0
    for item in items:
        block.append(_json_line(item))
        count += 1
        if len(block) >= BLOCK_ROWS:
            out.write_bytes(b"".join(block))
            block = []
    out.write_bytes(b"".join(block))
    return count


def _json_line(item: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(item, default=str, option=_ORJSON_LINE)
    except TypeError:  # what orjson cannot encode (an integer beyond 64 bits)
        return (json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str)
                + "\n").encode("utf-8")


def write_manifest(directory: Path, stem: str, manifest: dict[str, Any]) -> str:
    final = directory / f"{stem}.manifest.json"
    tmp = _atomic_path(final)
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    _publish(tmp, final)
    return final.name
