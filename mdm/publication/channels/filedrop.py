"""File-drop channel: a snapshot or delta as CSV or JSON Lines, written atomically into a
target folder (a hidden temporary name, fsync, then rename), followed by its manifest.

An importer that waits for the manifest never sees a half-written file; the manifest's
checksum and record count let it verify what it reads.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FORMATS = ("csv", "jsonl")
FIXED_COLUMNS = ["golden_id", "status", "version", "merged_into", "quality_status",
                 "updated_at", "target_id"]


class _HashingWriter:
    """A text sink that encodes, hashes and writes through to a binary file."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.sha.update(data)
        self.fh.write(data)
        return len(text)


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
        out = _HashingWriter(fh)
        if fmt == "csv":
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(FIXED_COLUMNS + attribute_names)
            for item in items:
                rec = item["record"]
                attrs = rec.get("attributes") or {}
                target = (item.get("target") or {}).get("id")
                writer.writerow([rec["id"], rec["status"], rec["version"],
                                 _cell(rec.get("merged_into")), rec.get("quality_status"),
                                 _cell(rec.get("updated_at")), _cell(target)]
                                + [_cell(attrs.get(a)) for a in attribute_names])
                count += 1
        else:
            for item in items:
                out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":"),
                                     default=str) + "\n")
                count += 1
        fh.flush()
        os.fsync(fh.fileno())
    _publish(tmp, final)
    return final.name, count, out.sha.hexdigest()


def write_manifest(directory: Path, stem: str, manifest: dict[str, Any]) -> str:
    final = directory / f"{stem}.manifest.json"
    tmp = _atomic_path(final)
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    _publish(tmp, final)
    return final.name
