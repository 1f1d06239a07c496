"""The stored content hash never changes for the same content: the fast encoding gives
json.dumps's canonical text for every value it takes, and other values take json.dumps."""
from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from mdm.records.ingest import content_hash


def reference(attributes: dict[str, Any], active: bool) -> str:
    raw = json.dumps([attributes, active], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


TEXTS = ["Müller GmbH", "Łęcki Foods S.A.", "東京商事", "emoji 😀 and 𝔘", "quote \" back \\ slash",
         "tab\tnew\nline\r\x00\x1f", "del \x7f", "\u2028\u2029", "", "plain ascii"]


@pytest.mark.parametrize("text", TEXTS)
def test_text_hashes_as_json_dumps_wrote_it(text: str) -> None:
    attrs = {"name": text, "city": "Berlin", "employees": 12, "vip": False, "note": None}
    assert content_hash(attrs, True) == reference(attrs, True)
    assert content_hash(attrs, False) == reference(attrs, False)


def test_every_character_hashes_as_json_dumps_wrote_it() -> None:
    for start in range(0, 0x110000, 0x1000):
        text = "".join(chr(c) for c in range(start, start + 0x1000)
                       if not 0xD800 <= c <= 0xDFFF)
        attrs = {"z": text, "a": 1}
        assert content_hash(attrs, True) == reference(attrs, True), hex(start)


@pytest.mark.parametrize("value", [2**70, -(2**64), 1.5, 1e16, Decimal("1.10"),
                                   date(2026, 1, 2), ["a", "ü"], {"k": "v"}, "\ud800"])
def test_other_values_take_json_dumps(value: Any) -> None:
    attrs = {"value": value, "name": "x"}
    assert content_hash(attrs, True) == reference(attrs, True)


def test_keys_are_sorted_whatever_the_order() -> None:
    assert content_hash({"b": "1", "a": "2"}, True) == content_hash({"a": "2", "b": "1"}, True)
    assert content_hash({"b": "1", "a": "2"}, True) == reference({"a": "2", "b": "1"}, True)
