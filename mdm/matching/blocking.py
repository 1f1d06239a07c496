"""Blocking rules: which record pairs are worth comparing at all.

A rule is a conjunction of key parts (a feature, optionally transformed). Two records
are candidates under a rule when every part is present and equal. The same key is
computed per record (``blocking_keys``), so the hub can keep a blocking index and
fetch candidates for one new record without scanning the domain.

Typo-tolerant keys come from a min-hash signature of a value's character bigrams: two
names sharing most of their bigrams (one or two typos per word, a stray or missing
letter anywhere, words swapped) very likely agree on one band of the signature.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mdm.matching.records import PreparedRecord

__all__ = ["BlockingRule", "KeyPart", "TRANSFORMS", "block_on", "blocking_keys"]


def _first_token(value: str) -> str | None:
    return value.split(" ", 1)[0] or None


def _sorted_tokens(value: str) -> str | None:
    return " ".join(sorted(value.split())) or None


def _prefix(value: str, n: int = 4) -> str | None:
    return value[:n] or None


def _first_tokens_sorted(value: str, n: int = 2) -> str | None:
    # The n longest words in alphabetical order: survives word-order changes and
    # dropped short words ("Bäckerei Müller" vs "Mueller Baeckerei").
    words = sorted(value.split(), key=lambda w: (-len(w), w))[:n]
    return " ".join(sorted(words)) or None


def _word(value: str, pick: str) -> str | None:
    # "first": the first word of three or more characters (skips initials and short
    # particles: "j moutinho", "oy ..."); "longest": the longest word (ties: the
    # alphabetically first), the most distinctive one in most company names.
    words = value.split()
    if pick == "first":
        return next((w for w in words if len(w) >= 3), words[0] if words else None)
    if pick == "longest":
        return min(words, key=lambda w: (-len(w), w)) if words else None
    raise ValueError(f"unknown word pick {pick!r}")


def _word_prefix(value: str, n: int = 4, pick: str = "first") -> str | None:
    """The first ``n`` letters of one word: survives a typo further into it."""
    word = _word(value, pick)
    return word[:n] if word else None


def _word_suffix(value: str, n: int = 4, pick: str = "first") -> str | None:
    """The last ``n`` letters of one word: survives a typo (or a stray letter) in front."""
    word = _word(value, pick)
    return word[-n:] if word else None


def _digits(value: str) -> str | None:
    return "".join(ch for ch in value if ch.isdigit()) or None


def _suffix(value: str, n: int = 4) -> str | None:
    return value[-n:] or None


def _reversed(value: str) -> str | None:
    # A window order for names mistyped at the start ("xcinder block", "cinder block").
    return value[::-1] or None


# Min-hash: each function is h(x) = (a * x + b) mod p over a bigram's CRC-32. Fixed
# constants (not Python's salted ``hash``): stored index keys must mean the same in every
# process and every release.
MINHASH_FUNCTIONS = 16
_MERSENNE_61 = (1 << 61) - 1
_MINHASH_AB = tuple(
    (int.from_bytes(d[:8], "big") % (_MERSENNE_61 - 1) + 1,
     int.from_bytes(d[8:], "big") % _MERSENNE_61)
    for d in (hashlib.blake2b(f"mdm-minhash-{i}".encode(), digest_size=16).digest()
              for i in range(MINHASH_FUNCTIONS))
)
_GRAM_HASHES: dict[str, tuple[int, ...]] = {}


def _gram_hashes(gram: str) -> tuple[int, ...]:
    """The gram's value under every min-hash function (few distinct bigrams: cached)."""
    out = _GRAM_HASHES.get(gram)
    if out is None:
        if len(_GRAM_HASHES) > 200_000:  # unusual alphabets: keep the cache bounded
            _GRAM_HASHES.clear()
        x = zlib.crc32(gram.encode())
        out = _GRAM_HASHES[gram] = tuple(
            ((a * x + b) % _MERSENNE_61) >> 29 for a, b in _MINHASH_AB)
    return out


@lru_cache(maxsize=4096)
def minhash_signature(value: str, q: int = 2) -> tuple[int, ...]:
    """Per function, the least hash over the value's character q-grams (each word padded
    with a space at both ends, so word starts and ends are grams too). Cached: every band
    of one record reads the same signature."""
    grams: set[str] = set()
    for word in value.split():
        padded = f" {word} "
        grams.update(padded[i:i + q] for i in range(len(padded) - q + 1))
    if not grams:
        return ()
    return tuple(map(min, zip(*map(_gram_hashes, grams), strict=True)))


def _minhash(value: str, band: int, rows: int = 2, q: int = 2) -> str | None:
    """Band ``band`` of the value's min-hash signature: ``rows`` hashes. Two values whose
    q-gram sets have Jaccard similarity s share one given band with probability s**rows."""
    if (band + 1) * rows > MINHASH_FUNCTIONS:
        raise ValueError(f"min-hash band {band} of {rows} rows needs more than "
                         f"{MINHASH_FUNCTIONS} functions")
    signature = minhash_signature(value, q)
    if not signature:
        return None
    return ".".join(format(h, "x") for h in signature[band * rows:(band + 1) * rows])


TRANSFORMS: dict[str, Callable[..., str | None]] = {
    "first_token": _first_token,
    "sorted_tokens": _sorted_tokens,
    "prefix": _prefix,
    "suffix": _suffix,
    "longest_tokens": _first_tokens_sorted,
    "digits": _digits,
    "word_prefix": _word_prefix,
    "word_suffix": _word_suffix,
    "minhash": _minhash,
    "reversed": _reversed,
}


@dataclass(frozen=True)
class KeyPart:
    """One feature (or, with ``unordered``, several features taken as a set)."""

    features: tuple[str, ...]
    transform: str | None = None
    args: tuple[Any, ...] = ()

    @classmethod
    def parse(cls, spec: str | Sequence[Any] | dict[str, Any]) -> KeyPart:
        if isinstance(spec, str):
            return cls((spec,))
        if isinstance(spec, dict):
            feats = spec.get("features") or [spec["feature"]]
            return cls(tuple(feats), spec.get("transform"), tuple(spec.get("args", ())))
        feature, transform, *args = list(spec)
        return cls((feature,), transform, tuple(args))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = (
            {"feature": self.features[0]} if len(self.features) == 1
            else {"features": list(self.features)}
        )
        if self.transform:
            out["transform"] = self.transform
        if self.args:
            out["args"] = list(self.args)
        return out


@dataclass
class BlockingRule:
    """A named conjunction of key parts; ``max_block_size``/``window``, when set, bound
    this rule's blocks more tightly than the settings do (a broad typo-tolerant key);
    ``window_sort``, when set, orders this rule's huge blocks (ties: the settings'
    window order), so several typo keys window along different orders."""

    name: str
    parts: list[KeyPart]
    max_block_size: int | None = None
    window: int | None = None
    window_sort: KeyPart | None = None
    _compiled: list[tuple[tuple[int, ...], Callable[..., str | None] | None, tuple[Any, ...]]] = (
        field(default_factory=list, repr=False, compare=False)
    )
    _sort_compiled: tuple[int, Callable[..., str | None] | None, tuple[Any, ...]] | None = (
        field(default=None, repr=False, compare=False)
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlockingRule:
        sort = data.get("window_sort")
        return cls(data["name"], [KeyPart.parse(p) for p in data["keys"]],
                   data.get("max_block_size"), data.get("window"),
                   KeyPart.parse(sort) if sort is not None else None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "keys": [p.to_dict() for p in self.parts]}
        if self.max_block_size is not None:
            out["max_block_size"] = self.max_block_size
        if self.window is not None:
            out["window"] = self.window
        if self.window_sort is not None:
            out["window_sort"] = self.window_sort.to_dict()
        return out

    @property
    def features(self) -> set[str]:
        return {f for p in self.parts for f in p.features}

    def bind(self, positions: dict[str, int]) -> None:
        compiled = []
        for part in self.parts:
            if part.transform and part.transform not in TRANSFORMS and part.transform != (
                "unordered"
            ):
                raise ValueError(f"unknown blocking transform {part.transform!r}")
            fn = TRANSFORMS.get(part.transform) if part.transform else None
            compiled.append((tuple(positions[f] for f in part.features), fn, part.args))
        self._compiled = compiled
        sort = self.window_sort
        if sort is not None:
            if len(sort.features) != 1 or (sort.transform and sort.transform not in TRANSFORMS):
                raise ValueError(f"rule {self.name!r}: window_sort is one feature and a "
                                 "known transform")
            self._sort_compiled = (positions[sort.features[0]],
                                   TRANSFORMS[sort.transform] if sort.transform else None,
                                   sort.args)

    def key(self, row: Sequence[Any]) -> str | None:
        """The block this row falls in, or None when a key part is missing."""
        pieces: list[str] = []
        piece: str | None
        for idx, fn, args in self._compiled:
            if len(idx) > 1:  # unordered set of several features (swapped names)
                values = [row[i] for i in idx]
                if any(v is None for v in values):
                    return None
                piece = "+".join(sorted(str(v) for v in values))
            else:
                value = row[idx[0]]
                if value is None or value == "":
                    return None
                piece = fn(str(value), *args) if fn else str(value)
                if piece is None:
                    return None
            pieces.append(piece)
        return "\x1f".join(pieces)

    def sort_value(self, row: Sequence[Any]) -> str:
        """Where the row sits in this rule's huge blocks ("" first when missing)."""
        if self._sort_compiled is None:
            raise ValueError(f"rule {self.name!r} has no window_sort")
        idx, fn, args = self._sort_compiled
        value = row[idx]
        if value is None or value == "":
            return ""
        return (fn(str(value), *args) if fn else str(value)) or ""


def block_on(*parts: str | Sequence[Any], name: str | None = None,
             max_block_size: int | None = None, window: int | None = None,
             window_sort: str | Sequence[Any] | None = None) -> dict[str, Any]:
    """Declare a blocking rule as settings data, Splink style.

    ``block_on("tax_id")``, ``block_on("country", ("name", "first_token"))``,
    ``block_on("postcode", ("name", "prefix", 3))``; ``max_block_size`` and ``window``
    override the settings' for this rule only; ``window_sort`` (a key part, e.g.
    ``("name", "reversed")``) orders this rule's huge blocks instead of the settings'.
    """
    key_parts = [KeyPart.parse(p) for p in parts]
    if name is None:
        name = "+".join(
            "&".join(p.features) + (f":{p.transform}" if p.transform else "")
            + "".join(f":{a}" for a in p.args)
            for p in key_parts
        )
    out: dict[str, Any] = {"name": name, "keys": [p.to_dict() for p in key_parts]}
    if max_block_size is not None:
        out["max_block_size"] = max_block_size
    if window is not None:
        out["window"] = window
    if window_sort is not None:
        out["window_sort"] = KeyPart.parse(window_sort).to_dict()
    return out


def blocking_keys(record: PreparedRecord, rules: Sequence[BlockingRule]) -> list[str]:
    """Index keys for a record: ``"<rule>:<key>"`` for each rule whose key is present."""
    out = []
    for rule in rules:
        key = rule.key(record.values)
        if key is not None:
            out.append(f"{rule.name}:{key}")
    return out
