"""/metrics: one Content-Type, parseable by Prometheus' text and OpenMetrics parsers, and the
database-backed delivery gauges present in gunicorn's multiprocess mode as well."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
WEBHOOK = {"name": "sap-vendors", "domains": ["supplier"], "channel": "webhook",
           "channel_config": {"url": "http://127.0.0.1:9/hook"}}


@pytest.fixture
def pending_delivery(client: Any, admin: Any, sources: Any) -> None:
    """One subscription with one routed, undelivered change."""
    assert client.post("/subscriptions", json=WEBHOOK, headers=admin).status_code == 201
    r = client.post("/domains/supplier/records", headers=admin, json={
        "source_system": "SAP", "source_id": "1", "attributes": {"name": "Acme GmbH"}})
    assert r.status_code in (200, 201), r.json
    from mdm.db import db
    from mdm.publication import router

    with client.application.app_context():
        router.route(db.session)


def _families(parse: Any, text: str) -> dict[str, Any]:
    return {family.name: family for family in parse(text)}


def test_content_type_names_its_charset_once(client: Any) -> None:
    r = client.get("/metrics")
    assert r.status_code == 200
    content_type = r.headers["Content-Type"]
    assert content_type.startswith("text/plain")
    assert content_type.count("charset") == 1, content_type


def test_both_parsers_read_the_metrics_and_no_name_clashes(client: Any,
                                                           pending_delivery: None) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    families = _families(parse_text, text)
    assert "mdm_publication_delivery_state" in families
    r = client.get("/metrics", headers={"Accept": OPENMETRICS})
    assert r.headers["Content-Type"].startswith("application/openmetrics-text")
    assert r.headers["Content-Type"].count("charset") == 1
    # The OpenMetrics parser refuses two families of one name ("Clashing name"); the worker's
    # delivery counter and the delivery-state gauge must not share one.
    families = _families(parse_openmetrics, r.get_data(as_text=True))
    assert families["mdm_publication_deliveries"].type == "counter"
    state = families["mdm_publication_delivery_state"]
    assert state.type == "gauge"
    assert {(s.labels["subscription"], s.labels["state"], s.value) for s in state.samples} == {
        ("sap-vendors", "pending", 1.0)}
    assert "mdm_publication_oldest_pending_seconds" in families


def test_multiprocess_mode_reports_the_database_gauges(client: Any, pending_delivery: None,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # scripts/serve and the Dockerfile run gunicorn with PROMETHEUS_MULTIPROC_DIR set.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    families = _families(parse_text, client.get("/metrics").get_data(as_text=True))
    samples = families["mdm_publication_delivery_state"].samples
    assert [(s.labels["subscription"], s.labels["state"], s.value) for s in samples] == [
        ("sap-vendors", "pending", 1.0)]
    assert "mdm_publication_oldest_pending_seconds" in families
    assert "mdm_review_tasks_pending" in families
