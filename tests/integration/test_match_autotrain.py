"""Ingestion trains a domain's parameters itself once the domain is big enough, and again
each time it has doubled (``mdm.matching.autotrain``), so a fresh hub fed one record at
a time does not keep matching with priors until someone runs ``mdm match``."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from mdm.context import cli_context
from mdm.domains.registry import DomainRegistry
from mdm.matching import autotrain, default_settings, index
from mdm.matching.domains import settings_for
from mdm.matching.models import MatchDecisionRecord, MatchParams
from mdm.records.ingest import IngestItem, ingest
from mdm.records.models import SourceRecord

FROM, UNTIL = 30, 100
SYLLABLES = ["ka", "lo", "mi", "ne", "ra", "to", "vi", "ber", "stan", "dor", "gel", "hof"]


def company(i: int) -> dict[str, Any]:
    """The i-th of many distinct companies (its own name, street, postcode and phone)."""
    brand = (SYLLABLES[i % 12] + SYLLABLES[(i // 12) % 12] + SYLLABLES[(i * 7) % 12]).title()
    return {"name": f"{brand} Logistik GmbH", "country": "DE",
            "street": f"Hafenweg {i + 1}", "postal_code": f"{20000 + 37 * i}",
            "city": "Hamburg", "phone": f"+49 40 {5550000 + 101 * i}"}


@pytest.fixture
def registry(app: Any, monkeypatch: pytest.MonkeyPatch) -> DomainRegistry:
    """The app's domains, the supplier's settings training from 30 records up to 100
    (and no domain sizes remembered from other tests: every test starts a fresh hub)."""
    monkeypatch.setattr(autotrain, "_SEEN", {})
    block = default_settings("supplier")
    block["training"] = {**block["training"], "auto_train_from": FROM,
                         "auto_train_until": UNTIL}
    domains = app.extensions["mdm_domains"]
    supplier = dataclasses.replace(domains.get("supplier"), match=block)
    return DomainRegistry([supplier if d.name == "supplier" else d for d in domains])


def load(session: Any, registry: DomainRegistry, system: str,
         records: dict[str, dict[str, Any]]) -> None:
    results = ingest(session, registry, "supplier", system,
                     [IngestItem(sid, attrs) for sid, attrs in records.items()],
                     cli_context(f"load-{system}"))
    assert all(r.status == "created" for r in results), results
    session.commit()


def trainings(session: Any) -> list[MatchParams]:
    return list(session.scalars(select(MatchParams).order_by(MatchParams.id)))


def test_ingestion_trains_once_the_domain_holds_enough_records_and_at_each_doubling(
        session: Any, registry: DomainRegistry, sources: list[str]) -> None:
    settings = settings_for(registry.get("supplier"))
    assert settings is not None
    load(session, registry, "SAP", {f"s{i}": company(i) for i in range(FROM - 1)})
    load(session, registry, "SAP", {f"s{FROM - 1}": company(FROM - 1)})
    assert trainings(session) == []  # 29 records were held when the 30th arrived

    load(session, registry, "COUPA", {"c0": company(0)})
    [first] = trainings(session)
    params, _ = index.current_params(session, "supplier", settings)
    assert first.records == FROM and first.params["training"]["auto"] is True
    assert params.trained and params.version == first.params_version
    assert "name" in params.term_frequencies  # counted on the domain's own records
    # The record that arrived as training happened was matched with the new parameters.
    decision = session.scalar(select(MatchDecisionRecord).join(
        SourceRecord, SourceRecord.id == MatchDecisionRecord.source_record_id)
        .where(SourceRecord.source_id == "c0"))
    assert decision is not None and decision.params_version == first.params_version

    # No new training before the domain has doubled (one record at a time)...
    for i in range(FROM + 1, 2 * FROM):
        load(session, registry, "SAP", {f"s{i}": company(i)})
    assert len(trainings(session)) == 1
    # ...and one once it has.
    load(session, registry, "SAP", {f"s{2 * FROM}": company(2 * FROM)})
    first, second = trainings(session)
    assert second.records == 2 * FROM

    # Beyond auto_train_until records, only mdm match trains.
    assert autotrain.due_at(settings, index.current_params(session, "supplier", settings)[0]) \
        is None


def test_a_domain_without_automatic_training_keeps_its_priors(
        session: Any, app: Any, sources: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autotrain, "_SEEN", {})
    block = default_settings("supplier")
    block["training"] = {**block["training"], "auto_train_from": None}
    domains = app.extensions["mdm_domains"]
    supplier = dataclasses.replace(domains.get("supplier"), match=block)
    own = DomainRegistry([supplier if d.name == "supplier" else d for d in domains])
    load(session, own, "SAP", {f"s{i}": company(i) for i in range(FROM)})
    load(session, own, "COUPA", {"c0": company(0)})
    assert trainings(session) == []


def test_a_domain_already_too_big_is_counted_once_and_never_trained(
        session: Any, registry: DomainRegistry, sources: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    load(session, registry, "SAP", {f"s{i}": company(i) for i in range(UNTIL + 1)})
    counts = []
    count = autotrain._count
    monkeypatch.setattr(autotrain, "_count", lambda *a: counts.append(1) or count(*a))
    for i in range(3):
        load(session, registry, "COUPA", {f"c{i}": company(i)})
    assert trainings(session) == [] and len(counts) <= 1
