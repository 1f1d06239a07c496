"""Policy files: level overrides, dated waivers, expired waivers."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts.compatibility import Level, check_compatibility
from contracts.errors import InvalidConfig
from contracts.waivers import WAIVER_EXPIRED, apply_policy, parse_policy

TODAY = dt.date(2026, 6, 1)
NARROWED = check_compatibility({"type": "integer"}, [{"type": "number"}])  # TYPE_NARROWED at /type


def waiver(**overrides):
    entry = {"rule": "TYPE_NARROWED", "path": "/ty*", "reason": "FIN-1", "expires": "2027-01-31"}
    entry.update(overrides)
    return {"waivers": [entry]}


def test_active_waiver_makes_the_check_pass_and_keeps_the_change_visible():
    result = apply_policy(NARROWED, parse_policy(waiver()), TODAY)
    assert result.compatible
    assert result.changes[0].waived and "FIN-1" in result.changes[0].waived


def test_waiver_for_another_path_does_not_apply():
    assert not apply_policy(NARROWED, parse_policy(waiver(path="/properties/*")), TODAY).compatible


def test_expired_waiver_fails_and_is_named():
    result = apply_policy(NARROWED, parse_policy(waiver(expires=dt.date(2026, 1, 1))), TODAY)
    assert not result.compatible
    expired = [c for c in result.changes if c.rule == WAIVER_EXPIRED]
    assert expired and "TYPE_NARROWED" in expired[0].message


@pytest.mark.parametrize("missing", ["reason", "expires", "rule"])
def test_waiver_without_reason_or_expiry_is_invalid(missing):
    entry = waiver()["waivers"][0]
    entry.pop(missing)
    with pytest.raises(InvalidConfig):
        parse_policy({"waivers": [entry]})


def test_level_override_downgrades_a_rule():
    policy = parse_policy({"levels": {"TYPE_NARROWED": "warning"}})
    result = apply_policy(NARROWED, policy, TODAY)
    assert result.compatible and result.changes[0].level is Level.WARNING


@pytest.mark.parametrize(
    "data", [{"levels": {"X": "fatal"}}, {"mode": "SIDEWAYS"}, {"unknown": 1}, ["not a map"]]
)
def test_invalid_config(data):
    with pytest.raises(InvalidConfig):
        parse_policy(data)
