"""Semantic versions and consumers' version ranges of the contract registry (pure)."""

from __future__ import annotations

import pytest

from contracts.registry.errors import InvalidRequest
from contracts.registry.semver import SemVer, VersionRange


@pytest.mark.parametrize(
    ("spec", "admitted", "refused"),
    [
        ("^1.2.0", ["1.2.0", "1.9.9"], ["1.1.9", "2.0.0"]),
        ("^0.3.1", ["0.3.1", "0.3.9"], ["0.4.0"]),
        ("~1.2", ["1.2.0", "1.2.7"], ["1.3.0"]),
        ("1.x", ["1.0.0", "1.99.0"], ["2.0.0"]),
        ("1.2.0", ["1.2.0"], ["1.2.1"]),
        (">=1.0.0 <2.0.0", ["1.5.0"], ["2.0.0", "0.9.0"]),
        (">=1.0.0,<2.0.0", ["1.0.0"], ["2.0.0"]),
        ("*", ["0.0.1", "9.0.0"], []),
    ],
)
def test_ranges(spec: str, admitted: list[str], refused: list[str]) -> None:
    version_range = VersionRange.parse(spec)
    assert all(version_range.admits(v) for v in admitted)
    assert not any(version_range.admits(v) for v in refused)


@pytest.mark.parametrize("spec", ["next", "^x", ">=", "1.2.3.4.5 <"])
def test_bad_ranges_are_refused(spec: str) -> None:
    with pytest.raises(InvalidRequest):
        VersionRange.parse(spec)


def test_versions_order_and_bump() -> None:
    assert SemVer.parse("1.10.0") > SemVer.parse("1.9.3")
    assert [str(SemVer(1, 2, 3).bump(p)) for p in ("major", "minor", "patch")] == [
        "2.0.0",
        "1.3.0",
        "1.2.4",
    ]
    for bad in ("1.2", "01.2.3", "v1.2.3", "1.2.3-rc.1"):
        with pytest.raises(InvalidRequest):
            SemVer.parse(bad)
