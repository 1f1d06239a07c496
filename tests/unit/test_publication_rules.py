"""Pure publication rules: filters, cron ticks, backoff, the CloudEvent envelope."""
from __future__ import annotations

from datetime import UTC, datetime

from mdm.publication import filters, payloads
from mdm.publication.dispatcher import backoff_seconds
from mdm.publication.scheduler import due_tick

ACTIVE_DE = {"status": "active", "quality_status": "ok", "attributes": {"country": "DE"}}


def test_filter_matches_status_attributes_and_quality() -> None:
    spec = {"statuses": ["active"], "attributes": {"country": ["DE", "AT"]},
            "exclude_quality": ["error"]}
    assert filters.matches(spec, ACTIVE_DE, "updated")
    assert not filters.matches(spec, {**ACTIVE_DE, "quality_status": "error"}, "updated")
    assert not filters.matches(spec, {**ACTIVE_DE, "attributes": {"country": "FR"}}, "updated")
    retired = {**ACTIVE_DE, "status": "retired"}
    assert not filters.matches(spec, retired, "snapshot")
    # a target holding the record must hear that it left the set
    assert filters.matches(spec, retired, "retired")
    assert filters.matches(spec, {**ACTIVE_DE, "status": "merged"}, "merged")


def test_filter_validation_names_the_field() -> None:
    assert filters.validate({"statuses": ["gone"]}, ["country"]) == {
        "filter.statuses": ["Allowed values: active, merged, retired."]}
    assert "filter.attributes" in filters.validate({"attributes": {"x": 1}}, ["country"])
    assert filters.validate([], []) == {"filter": ["Must be an object."]}
    assert filters.validate({"attributes": {"country": "DE"}}, ["country"]) == {}


def test_due_tick_is_the_latest_tick_since_the_last_run() -> None:
    since = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert due_tick("0 2 * * *", since, datetime(2026, 1, 1, 1, 59, tzinfo=UTC)) is None
    assert due_tick("0 2 * * *", since, datetime(2026, 1, 3, 3, 0, tzinfo=UTC)) == datetime(
        2026, 1, 3, 2, 0, tzinfo=UTC)


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    assert 0.5 <= backoff_seconds(1, 1.0, 600) <= 1.0
    assert 4.0 <= backoff_seconds(4, 1.0, 600) <= 8.0
    assert backoff_seconds(40, 1.0, 600) <= 600


def test_merge_fields_flow_through_into_the_event_data() -> None:
    event = payloads.cloud_event(
        event_id="e1", domain="supplier", golden_id="g2", change="merged",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC), position=7,
        record={"id": "g2", "version": 3}, extra={"victims": ["g1"], "survivor": "g2"},
        target_system="SAP", target_ids=["4711", "4712"])
    assert event["type"] == "org.mdmhub.golden-record.merged" and event["sequence"] == "7"
    assert event["data"]["victims"] == ["g1"] and event["data"]["survivor"] == "g2"
    assert event["data"]["target"] == {"system": "SAP", "id": "4711", "ids": ["4711", "4712"]}
