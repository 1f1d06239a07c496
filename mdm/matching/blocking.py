"""Blocking rules: which record pairs are worth comparing at all.

A rule is a conjunction of key parts (a feature, optionally transformed). Two records
are candidates under a rule when every part is present and equal. The same key is
computed per record (``blocking_keys``), so the hub can keep a blocking index and
fetch candidates for one new record without scanning the domain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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


TRANSFORMS: dict[str, Callable[..., str | None]] = {
    "first_token": _first_token,
    "sorted_tokens": _sorted_tokens,
    "prefix": _prefix,
    "suffix": _suffix,
    "longest_tokens": _first_tokens_sorted,
    "digits": _digits,
    "word_prefix": _word_prefix,
    "word_suffix": _word_suffix,
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
    this rule's blocks more tightly than the settings do (a broad typo-tolerant key)."""

    name: str
    parts: list[KeyPart]
    max_block_size: int | None = None
    window: int | None = None
    _compiled: list[tuple[tuple[int, ...], Callable[..., str | None] | None, tuple[Any, ...]]] = (
        field(default_factory=list, repr=False, compare=False)
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlockingRule:
        return cls(data["name"], [KeyPart.parse(p) for p in data["keys"]],
                   data.get("max_block_size"), data.get("window"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "keys": [p.to_dict() for p in self.parts]}
        if self.max_block_size is not None:
            out["max_block_size"] = self.max_block_size
        if self.window is not None:
            out["window"] = self.window
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


def block_on(*parts: str | Sequence[Any], name: str | None = None,
             max_block_size: int | None = None, window: int | None = None) -> dict[str, Any]:
    """Declare a blocking rule as settings data, Splink style.

    ``block_on("tax_id")``, ``block_on("country", ("name", "first_token"))``,
    ``block_on("postcode", ("name", "prefix", 3))``; ``max_block_size`` and ``window``
    override the settings' for this rule only.
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
    return out


def blocking_keys(record: PreparedRecord, rules: Sequence[BlockingRule]) -> list[str]:
    """Index keys for a record: ``"<rule>:<key>"`` for each rule whose key is present."""
    out = []
    for rule in rules:
        key = rule.key(record.values)
        if key is not None:
            out.append(f"{rule.name}:{key}")
    return out
