"""Semantic versions of contract versions (MAJOR.MINOR.PATCH) and consumers' version ranges.

Ranges use PEP 440 specifier syntax (`>=1.2.0,<2.0.0`, `==1.*`, `~=1.2`) through `packaging`,
plus the npm shorthands people write for APIs: `^1.2.0`, `~1.2.0`, `1.x`, `*` and an exact
version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from contracts.registry.errors import InvalidRequest

_SEMVER = re.compile(r"^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$")
_X_RANGE = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.[xX*])?$|^(\d+)\.[xX*](?:\.[xX*])?$")
BUMPS = ("major", "minor", "patch")
RANGE_RULE = "A range such as '>=1.0.0,<2.0.0', '^1.2.0', '~1.2.0', '1.x', '1.2.0' or '*'."


@total_ordering
@dataclass(frozen=True, slots=True)
class SemVer:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str, field: str = "version") -> SemVer:
        match = _SEMVER.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise InvalidRequest(
                f"{text!r} is not a semantic version",
                errors={field: ["MAJOR.MINOR.PATCH, e.g. 1.2.0."]},
            )
        return cls(*(int(part) for part in match.groups()))

    @classmethod
    def is_valid(cls, text: str) -> bool:
        return bool(_SEMVER.match(text))

    def bump(self, part: str) -> SemVer:
        if part == "major":
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            return SemVer(self.major, self.minor + 1, 0)
        return SemVer(self.major, self.minor, self.patch + 1)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SemVer):
            return NotImplemented
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


FIRST = SemVer(1, 0, 0)


@dataclass(frozen=True, slots=True)
class VersionRange:
    text: str
    specifiers: SpecifierSet

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        try:
            return cls(text, SpecifierSet(_to_pep440(text.strip())))
        except (InvalidSpecifier, ValueError) as exc:
            raise InvalidRequest(
                f"{text!r} is not a version range",
                errors={"version_range": [RANGE_RULE]},
            ) from exc

    def admits(self, version: SemVer | str) -> bool:
        return self.specifiers.contains(Version(str(version)), prereleases=True)


def _to_pep440(text: str) -> str:
    if text in ("", "*", "x", "X"):
        return ""
    if text.startswith("^"):
        low = _loose(text[1:])
        if low.major > 0:
            high = SemVer(low.major + 1, 0, 0)
        elif low.minor > 0:
            high = SemVer(0, low.minor + 1, 0)
        else:
            high = SemVer(0, 0, low.patch + 1)
        return f">={low},<{high}"
    if text.startswith("~") and not text.startswith("~="):
        low = _loose(text[1:])
        return f">={low},<{SemVer(low.major, low.minor + 1, 0)}"
    if _SEMVER.match(text):
        return f"=={text}"
    x_range = _X_RANGE.match(text)
    if x_range:
        major, minor, major_only = x_range.groups()
        if major_only is not None:
            return f"=={major_only}.*"
        return f"=={major}.{minor}.*" if minor is not None else f"=={major}.*"
    # npm writes ">=1.0.0 <2.0.0"; PEP 440 separates with commas
    parts = [p for p in re.split(r"[\s,]+", text) if p]
    if any(p[0].isdigit() for p in parts):
        raise ValueError(text)
    return ",".join(parts)


def _loose(text: str) -> SemVer:
    pieces = text.strip().split(".")
    if not 1 <= len(pieces) <= 3 or not all(p.isdigit() for p in pieces):
        raise ValueError(text)
    numbers = [int(p) for p in pieces] + [0] * (3 - len(pieces))
    return SemVer(*numbers)
