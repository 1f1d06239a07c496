from __future__ import annotations

import json

import pytest
import yaml

from mdm.matching import DEFAULT_SETTINGS, MatchEngine, MatchSettings, ModelParams, block_on

from .factories import (
    DE_VAT_A,
    DE_VAT_B,
    acme_family,
    supplier,
    supplier_params,
    supplier_settings,
)


@pytest.mark.parametrize("domain", sorted(DEFAULT_SETTINGS))
def test_default_settings_round_trip_and_keep_their_version(domain):
    settings = MatchSettings.from_dict(DEFAULT_SETTINGS[domain])
    again = MatchSettings.from_dict(json.loads(json.dumps(settings.to_dict())))
    via_yaml = MatchSettings.from_dict(yaml.safe_load(yaml.safe_dump(settings.to_dict())))
    assert again.to_dict() == settings.to_dict()
    assert again.version == settings.version == via_yaml.version
    assert settings.version.startswith(f"{domain}-1+")


def test_any_content_change_changes_the_version():
    base = supplier_settings()
    changed = supplier_settings(thresholds={"auto_merge": 0.995, "review": 0.8})
    assert base.version != changed.version


def test_settings_reject_unknown_features():
    data = dict(DEFAULT_SETTINGS["supplier"])
    data["comparisons"] = [*data["comparisons"], {"type": "ExactMatch", "feature": "shoe"}]
    with pytest.raises(ValueError, match="unknown features"):
        MatchSettings.from_dict(data)


def test_params_round_trip_and_must_fit_the_settings():
    settings = supplier_settings()
    params = supplier_params(settings)
    again = ModelParams.from_dict(json.loads(json.dumps(params.to_dict())))
    assert again.version == params.version
    other = MatchSettings.from_dict(DEFAULT_SETTINGS["gl_account"])
    with pytest.raises(ValueError, match="retrain"):
        MatchEngine(other, params)


def test_blocking_keys_are_per_record_and_shared_by_likely_duplicates():
    settings = supplier_settings()
    s1, s2, s3, _ = acme_family()
    keys = [set(settings.blocking_keys(r)) for r in (s1, s2, s3)]
    assert f"tax_id:{DE_VAT_A}" in keys[0] & keys[1]
    assert keys[0] & keys[2]  # no tax id on s3, but name/phone/address keys meet
    assert block_on("country", ("name", "prefix", 3)) == {
        "name": "country+name:prefix:3",
        "keys": [{"feature": "country"}, {"feature": "name", "transform": "prefix",
                                          "args": [3]}],
    }


def _engine():
    settings = supplier_settings()
    return settings, MatchEngine(settings, supplier_params(settings))


def _rule(engine, settings, a, b):
    hit = engine.rule_for(settings.prepare(a).values, settings.prepare(b).values)
    return hit and hit[0]


def test_same_valid_tax_id_in_same_country_is_a_match_despite_other_names():
    settings, engine = _engine()
    a = supplier("a", name="Acme GmbH", tax_id=DE_VAT_A)
    b = supplier("b", name="Totally Different AG", tax_id=DE_VAT_A.removeprefix("DE"))
    assert _rule(engine, settings, a, b) == "same_valid_tax_id"
    assert engine.explain(settings.prepare(a), settings.prepare(b)).probability == 1.0


def test_two_valid_different_tax_ids_are_a_hard_non_match():
    settings, engine = _engine()
    a = supplier("a", name="Acme GmbH", street="Hauptstr. 1", tax_id=DE_VAT_A)
    b = supplier("b", name="Acme GmbH", street="Hauptstr. 1", tax_id=DE_VAT_B)
    assert _rule(engine, settings, a, b) == "different_valid_tax_ids"
    assert engine.conflict(settings.prepare(a).values, settings.prepare(b).values) == (
        "rule:different_valid_tax_ids")


def test_an_invalid_tax_id_does_not_trigger_the_hard_rule():
    settings, engine = _engine()
    a = supplier("a", name="Acme GmbH", tax_id=DE_VAT_A)
    b = supplier("b", name="Acme GmbH", tax_id="DE136695975")  # bad check digit
    assert _rule(engine, settings, a, b) is None


def test_same_brand_in_different_countries_stays_apart():
    settings, engine = _engine()
    a = supplier("a", name="Acme SE", website="acme.com", country="DE")
    b = supplier("b", name="Acme SE", website="acme.com", country="FR")
    assert _rule(engine, settings, a, b) == "different_country"


def test_gl_accounts_match_on_chart_and_code():
    settings = MatchSettings.from_dict(DEFAULT_SETTINGS["gl_account"])
    engine = MatchEngine(settings, ModelParams.defaults(settings))
    a = settings.prepare(supplier("a", chart="IFRS", code="4000", name="Revenue"))
    b = settings.prepare(supplier("b", chart="ifrs", code="4000", name="Sales revenue"))
    c = settings.prepare(supplier("c", chart="IFRS", code="4010", name="Revenue"))
    assert engine.rule_for(a.values, b.values) == ("same_chart_and_code", True)
    assert engine.rule_for(a.values, c.values) == ("same_chart_other_code", False)
