"""How many stored records a blocking key brings (``index.key_cap``): its rule's bound."""
from __future__ import annotations

from mdm.matching import index
from mdm.matching.defaults import default_settings
from mdm.matching.settings import MatchSettings


def settings_with(*extra: dict) -> MatchSettings:
    data = default_settings("supplier")
    data["blocking"] = [*data["blocking"], *extra]
    return MatchSettings.from_dict(data)


def test_a_key_takes_the_bound_of_the_longest_rule_name_it_starts_with() -> None:
    # rule names hold ":" themselves; "name" is a prefix of the default rules' names
    settings = settings_with({"name": "name", "keys": [{"features": ["name"]}],
                              "max_block_size": 5})
    for rule in settings.blocking:
        expected = min(50, rule.max_block_size or 50)
        for value in ("ACME", "ACME:GMBH", ""):
            assert index.key_cap(settings, f"{rule.name}:{value}") == expected, rule.name
    assert index.key_cap(settings, "name:ACME") == 5
    assert index.key_cap(settings, "name:longest_tokens:2:ACME") == 20


def test_a_key_of_no_rule_or_an_unbounded_rule_takes_the_cap() -> None:
    settings = settings_with()
    assert index.key_cap(settings, "nonsense:ACME") == 50
    assert index.key_cap(settings, "no colon at all") == 50
    assert index.key_cap(settings, "tax_id:DE136695976", cap=7) == 7
    assert index.key_cap(settings, "name:word_prefix:4:first:ACME", cap=7) == 7
