"""Default match settings for the built-in finance domains, as plain dicts.

Embed ``DEFAULT_SETTINGS[domain]`` as the ``match`` block of a domain definition;
``MatchSettings.from_dict`` accepts it unchanged. Thresholds are probabilities.
"""

from __future__ import annotations

import copy
from typing import Any

from mdm.matching.blocking import block_on

__all__ = ["DEFAULT_SETTINGS", "default_settings"]


def _rule(name: str, outcome: str, *tests: tuple[str, str]) -> dict[str, Any]:
    return {"name": name, "outcome": outcome,
            "when": [{"feature": f, "test": t} for f, t in tests]}


def _p(*weights: float) -> list[float]:
    """Level probabilities from relative weights (so each list sums to exactly 1)."""
    total = sum(weights)
    return [w / total for w in weights]


def _at_least(*tests: tuple[str, str]) -> list[dict[str, str]]:
    """One alternative of evidence: every comparison at or above its level."""
    return [{"comparison": c, "at_least": level} for c, level in tests]


def _is_not(*tests: tuple[str, str]) -> list[dict[str, str]]:
    """Tests that every comparison is not at its level (missing values pass)."""
    return [{"comparison": c, "is_not": level} for c, level in tests]


def _is(*tests: tuple[str, str]) -> list[dict[str, str]]:
    """One alternative of evidence: every comparison exactly at its level."""
    return [{"comparison": c, "is": level} for c, level in tests]


# Priors per level, most similar first, "else" last: what an untrained hub scores with.
# u is the chance two *different* organisations land on the level. Shared values are
# common among different companies (a legal form: every third pair; a city or a big
# postcode: one pair in 20 or 100), so agreeing on them is weak evidence; names,
# streets, phones and identifiers rarely agree by chance. Term frequencies then refine
# the exact level per value.
_PARTY_PRIORS: dict[str, tuple[list[float], list[float]]] = {
    "name": (_p(0.55, 0.2, 0.1, 0.07, 0.08), _p(2e-5, 1e-4, 1e-3, 1e-2, 0.98888)),
    # The same with the "adds_words" level before "else" ("Acme" / "Acme Services":
    # a dropped word, or a sister company of one group).
    "name_adds_words": (_p(0.55, 0.2, 0.1, 0.07, 0.04, 0.04),
                        _p(2e-5, 1e-4, 1e-3, 1e-2, 3e-3, 0.98588)),
    "legal_form": (_p(0.9, 0.1), _p(0.3, 0.7)),
    "tax_id": (_p(0.6, 0.15, 0.05, 0.02, 0.18), _p(1e-6, 1e-5, 1e-4, 0.6, 0.399889)),
    "street": (_p(0.6, 0.2, 0.1, 0.1), _p(2e-3, 3e-3, 2e-2, 0.975)),
    "postcode": (_p(0.85, 0.05, 0.1), _p(0.01, 0.03, 0.96)),
    "city": (_p(0.85, 0.07, 0.08), _p(0.05, 0.01, 0.94)),
    "phone": (_p(0.6, 0.05, 0.35), _p(1e-5, 1e-4, 0.99989)),
    "email_domain": (_p(0.7, 0.3), _p(1e-4, 0.9999)),
    "website": (_p(0.7, 0.3), _p(1e-4, 0.9999)),
    # Companies keep several accounts: two valid, different IBANs say little.
    "iban": (_p(0.5, 0.1, 0.05, 0.3, 0.05), _p(1e-6, 1e-5, 1e-4, 0.6, 0.399889)),
    "duns": (_p(0.9, 0.1), _p(1e-6, 0.999999)),
}
_TERM_FREQUENCY = frozenset({"name", "legal_form", "street", "postcode", "city"})


# A value most records share (an account type, a currency, a parent): weak evidence.
_SHARED_VALUE = (_p(0.9, 0.1), _p(0.3, 0.7))
_LEDGER_PRIORS: dict[str, tuple[list[float], list[float]]] = {
    "code": (_p(0.8, 0.1, 0.1), _p(1e-4, 1e-3, 0.9989)),
    "name": (_p(0.6, 0.2, 0.1, 0.1), _p(1e-4, 1e-3, 1e-2, 0.9889)),
    "account_type": _SHARED_VALUE,
    "normal_balance": (_p(0.95, 0.05), _p(0.5, 0.5)),
    "parent_code": (_p(0.9, 0.1), _p(0.05, 0.95)),
    "currency": _SHARED_VALUE,
    "manager": (_p(0.8, 0.1, 0.1), _p(0.02, 0.01, 0.97)),
}
_LEGAL_ENTITY_PRIORS = {
    **{k: _PARTY_PRIORS[k] for k in ("name", "legal_form", "tax_id")},
    "code": (_p(0.8, 0.2), _p(1e-4, 0.9999)),
    "currency": _SHARED_VALUE,
    "lei": _PARTY_PRIORS["tax_id"],
    # Sister companies share their parent.
    "parent_code": (_p(0.9, 0.1), _p(0.05, 0.95)),
}


def _priors(comparisons: list[dict[str, Any]],
            priors: dict[str, tuple[list[float], list[float]]],
            term_frequency: frozenset[str] = _TERM_FREQUENCY) -> list[dict[str, Any]]:
    for c in comparisons:
        name = c.get("name", c["feature"])
        levels = f"{name}_adds_words" if c.get("adds_words") else name
        if levels in priors:
            c["m"], c["u"] = priors[levels]
        if name in term_frequency:
            c["term_frequency_adjustments"] = True
    return comparisons


# Whatever the parameters, a score alone never merges two organisations whose names
# have nothing in common (a business centre is one address for many firms) or whose
# legal forms differ (S.r.l. and S.p.A. of one group are two legal entities): such
# pairs go to review; identifiers still merge by rule.
#
# A close name alone is not enough either when the street or the postcode disagrees
# (a mistyped house number in the same postcode aside): a name, and the website a name
# gives, recurs at another address for another firm or a group company; a firm that
# moved keeps its phone or its identifiers.
_PARTY_AUTO_MERGE_REQUIRES = {
    "any": [[*_at_least(("name", "token_set>=0.7")), *_is_not(("street", "else"),
                                                                ("postcode", "else"))],
            _at_least(("name", "token_set>=0.7"), ("postcode", "exact")),
            _at_least(("name", "token_set>=0.7"), ("phone", "exact")),
            _at_least(("tax_id", "equal")), _at_least(("iban", "equal")),
            _at_least(("duns", "exact"))],
    "unless": [_is(("legal_form", "else"))],
}
# Untrained, a merge also needs: a close name and one agreeing street, contact or
# identifier; or a nearly identical name in the same postcode (firm names must be
# distinguishable within one place, as the German commercial code puts it); or a
# related name at the same street and phone. And never when any part of the address
# disagrees (the same brand and website at another address is often a sister company).
_PARTY_STRONG_EVIDENCE = {
    "any": [
        *(_at_least(("name", "token_set>=0.85"), other) for other in (
            ("street", "token_set>=0.9"), ("phone", "exact"), ("email_domain", "exact"),
            ("website", "exact"), ("iban", "equal"), ("duns", "exact"),
            ("tax_id", "equal"))),
        _at_least(("name", "token_set>=0.92"), ("postcode", "exact")),
        _at_least(("name", "token_set>=0.7"), ("street", "token_set>=0.9"),
                  ("phone", "exact")),
    ],
    "unless": [_is(("street", "else")), _is(("postcode", "else")), _is(("city", "else"))],
}


_TYPO_BLOCKS: dict[str, Any] = {"max_block_size": 20, "window": 3}
# Min-hash bands of the name's letter pairs (two hashes per band): names sharing most of
# their letter pairs (typos in every word, a wrong first letter, swapped words) share a
# band. A band is a key row per record in the hub's index, so there are few. A huge
# band block (a common trade word dominates many names' pairs) is windowed along the
# names, the reversed names or the cities in turn: a first-letter typo sorts apart by
# name but together reversed.
_NAME_BANDS = 6
_BAND_ORDERS: tuple[tuple[str, ...] | str | None, ...] = (None, ("name", "reversed"), "city")
# House number and one min-hash of the street's letter pairs: one entity's street
# however mistyped or abbreviated, when both names are too mistyped to meet.
_STREET_BANDS = 2


def _minhash_rules() -> list[dict[str, Any]]:
    return [
        *(block_on("country", ("name", "minhash", band, 2), window_sort=_BAND_ORDERS[band % 3],
                   **_TYPO_BLOCKS) for band in range(_NAME_BANDS)),
        *(block_on(("street", "digits"), ("street", "minhash", band, 1), **_TYPO_BLOCKS)
          for band in range(_STREET_BANDS)),
    ]


def _party(version: str) -> dict[str, Any]:
    """Suppliers and customers: organisations identified by name, tax id and address."""
    return {
        "version": version,
        "link_type": "link_and_dedupe",
        "features": [
            {"name": "name", "from": "name", "normalizer": "company_name"},
            {"name": "country", "from": "country", "normalizer": "country"},
            {"name": "tax_id", "from": "tax_id", "normalizer": "tax_id",
             "country_from": "country"},
            {"name": "street", "from": "street", "normalizer": "street"},
            {"name": "postcode", "from": "postal_code", "normalizer": "postcode"},
            {"name": "city", "from": "city", "normalizer": "text"},
            {"name": "phone", "from": "phone", "normalizer": "phone",
             "country_from": "country"},
            {"name": "email_domain", "from": "email", "normalizer": "email_domain"},
            {"name": "website", "from": "website", "normalizer": "website_domain"},
            {"name": "iban", "from": "iban", "normalizer": "iban"},
            {"name": "duns", "from": "duns", "normalizer": "duns"},
        ],
        "comparisons": _priors([
            {"type": "TokenSetAtThresholds", "feature": "name",
             "thresholds": [0.92, 0.85, 0.7], "words_agree": True, "adds_words": True},
            {"type": "ExactMatch", "feature": "name.legal_form", "name": "legal_form"},
            {"type": "IdentifierComparison", "feature": "tax_id"},
            {"type": "TokenSetAtThresholds", "feature": "street", "thresholds": [0.9, 0.7],
             "numbers_agree": True},
            {"type": "LevenshteinAtThresholds", "feature": "postcode", "thresholds": [1]},
            {"type": "JaroWinklerAtThresholds", "feature": "city", "thresholds": [0.9]},
            {"type": "LevenshteinAtThresholds", "feature": "phone", "thresholds": [1]},
            {"type": "ExactMatch", "feature": "email_domain"},
            {"type": "ExactMatch", "feature": "website"},
            {"type": "IdentifierComparison", "feature": "iban"},
            {"type": "ExactMatch", "feature": "duns"},
        ], _PARTY_PRIORS),
        "blocking": [
            block_on("tax_id"),
            block_on("country", ("name", "first_token")),
            block_on("country", ("name", "longest_tokens", 1)),
            block_on("postcode", ("name", "prefix", 3)),
            # Address-only rule: finds pairs whose names are both mistyped.
            block_on("postcode", ("street", "longest_tokens", 1)),
            block_on("phone"),
            block_on("iban"),
            block_on("duns"),
            block_on("country", "website"),
            # Typo-tolerant keys, for records sharing no identifier: a typo in one word
            # (or a missing or unrecognised country) must not keep a pair from ever
            # being compared. House number plus the start of the name or street; the two
            # most distinctive words; the start of the first word within the city; the
            # name's min-hash bands (typos in every word, a wrong first letter: they
            # replace the first word's prefix and suffix keys, whose blocks were as broad)
            # and the street's with the house number. Only the name bands carry the
            # country: a pair in two countries is refused by a rule anyway. Their blocks
            # are bounded tightly (all pairs up to 20 records, else the 3 nearest): the
            # extra pairs per record stay constant as the domain grows.
            block_on(("street", "digits"), ("name", "word_prefix", 3, "first"), **_TYPO_BLOCKS),
            block_on(("street", "digits"), ("street", "word_prefix", 3, "longest"),
                     **_TYPO_BLOCKS),
            block_on(("name", "longest_tokens", 2), **_TYPO_BLOCKS),
            block_on("city", ("name", "word_prefix", 4, "first"), **_TYPO_BLOCKS),
            *_minhash_rules(),
        ],
        "rules": [
            _rule("same_valid_tax_id", "match",
                  ("tax_id", "valid_equal"), ("country", "equal")),
            _rule("different_valid_tax_ids", "non_match", ("tax_id", "valid_different")),
            _rule("different_country", "non_match", ("country", "different")),
        ],
        "thresholds": {"auto_merge": 0.99, "review": 0.8, "conflict_evidence_below": 0.0},
        # Until parameters are trained on the hub's own data, a merge needs one of these
        # (tax ids merge by rule anyway); a high score from shared legal form, postcode
        # and city alone goes to review.
        "auto_merge_requires": _PARTY_AUTO_MERGE_REQUIRES,
        "untrained_auto_merge": _PARTY_STRONG_EVIDENCE,
        # m is learned on blocks of identifiers, where nearly every pair is one entity.
        # A name block is full of group companies (same brand and website, other
        # address) that EM would otherwise take for a second kind of "match".
        "training": {"em_blocking": ["tax_id", "phone", "iban"],
                     # A fresh hub trains itself once it holds 1,000 records (and at
                     # every doubling up to 25,000): priors cannot know this hub's data.
                     "auto_train_from": 1000},
        # A block of 100 already means 4,950 pairs; bigger ones (a common first word
        # in one country) are compared along a window over the sorted names instead.
        "max_block_size": 100,
        "window": 10,
        "window_sort": "name",
    }


def _supplier() -> dict[str, Any]:
    return _party("supplier-1")


def _customer() -> dict[str, Any]:
    settings = _party("customer-1")
    settings["features"].append({"name": "segment", "from": "segment", "normalizer": "text"})
    # Customers of one segment are many: agreeing on it is weak evidence.
    settings["comparisons"].append({"type": "ExactMatch", "feature": "segment",
                                    "m": _SHARED_VALUE[0], "u": _SHARED_VALUE[1],
                                    "term_frequency_adjustments": True})
    return settings


def _gl_account() -> dict[str, Any]:
    return {
        "version": "gl_account-1",
        "link_type": "link_and_dedupe",
        "features": [
            {"name": "chart", "from": "chart", "normalizer": "code"},
            {"name": "code", "from": "code", "normalizer": "code"},
            {"name": "name", "from": "name", "normalizer": "text"},
            {"name": "account_type", "from": "account_type", "normalizer": "text"},
            {"name": "normal_balance", "from": "normal_balance", "normalizer": "text"},
            {"name": "parent_code", "from": "parent_code", "normalizer": "code"},
            {"name": "currency", "from": "currency", "normalizer": "code"},
        ],
        "comparisons": _priors([
            {"type": "LevenshteinAtThresholds", "feature": "code", "thresholds": [1]},
            {"type": "TokenSetAtThresholds", "feature": "name", "thresholds": [0.92, 0.8]},
            {"type": "ExactMatch", "feature": "account_type"},
            {"type": "ExactMatch", "feature": "normal_balance"},
            {"type": "ExactMatch", "feature": "parent_code"},
            {"type": "ExactMatch", "feature": "currency"},
        ], _LEDGER_PRIORS, frozenset({"name", "account_type", "parent_code", "currency"})),
        "blocking": [
            block_on("chart", "code"),
            block_on("code"),
            block_on("chart", ("name", "first_token")),
        ],
        "rules": [
            # Within one chart of accounts the code is the identifier.
            _rule("same_chart_and_code", "match", ("chart", "equal"), ("code", "equal")),
            _rule("same_chart_other_code", "non_match",
                  ("chart", "equal"), ("code", "different")),
        ],
        "thresholds": {"auto_merge": 0.99, "review": 0.7, "conflict_evidence_below": 0.0},
    }


def _cost_center() -> dict[str, Any]:
    return {
        "version": "cost_center-1",
        "link_type": "link_and_dedupe",
        "features": [
            {"name": "legal_entity_code", "from": "legal_entity_code", "normalizer": "code"},
            {"name": "code", "from": "code", "normalizer": "code"},
            {"name": "name", "from": "name", "normalizer": "text"},
            {"name": "parent_code", "from": "parent_code", "normalizer": "code"},
            {"name": "manager", "from": "manager", "normalizer": "text"},
        ],
        "comparisons": _priors([
            {"type": "LevenshteinAtThresholds", "feature": "code", "thresholds": [1]},
            {"type": "TokenSetAtThresholds", "feature": "name", "thresholds": [0.92, 0.8]},
            {"type": "ExactMatch", "feature": "parent_code"},
            {"type": "JaroWinklerAtThresholds", "feature": "manager", "thresholds": [0.9]},
        ], _LEDGER_PRIORS, frozenset({"name", "parent_code", "manager"})),
        "blocking": [
            block_on("legal_entity_code", "code"),
            block_on("legal_entity_code", ("name", "first_token")),
        ],
        "rules": [
            _rule("same_entity_and_code", "match",
                  ("legal_entity_code", "equal"), ("code", "equal")),
            # A cost centre belongs to one legal entity; never merge across entities.
            _rule("different_legal_entity", "non_match", ("legal_entity_code", "different")),
        ],
        "thresholds": {"auto_merge": 0.99, "review": 0.7, "conflict_evidence_below": 0.0},
    }


def _legal_entity() -> dict[str, Any]:
    return {
        "version": "legal_entity-1",
        "link_type": "link_and_dedupe",
        "features": [
            {"name": "code", "from": "code", "normalizer": "code"},
            {"name": "name", "from": "name", "normalizer": "company_name"},
            {"name": "country", "from": "country", "normalizer": "country"},
            {"name": "currency", "from": "currency", "normalizer": "code"},
            {"name": "tax_id", "from": "tax_id", "normalizer": "tax_id",
             "country_from": "country"},
            {"name": "lei", "from": "lei", "normalizer": "lei"},
            {"name": "parent_code", "from": "parent_code", "normalizer": "code"},
        ],
        "comparisons": _priors([
            {"type": "ExactMatch", "feature": "code"},
            {"type": "TokenSetAtThresholds", "feature": "name",
             "thresholds": [0.92, 0.85, 0.7], "words_agree": True},
            {"type": "ExactMatch", "feature": "name.legal_form", "name": "legal_form"},
            {"type": "ExactMatch", "feature": "currency"},
            {"type": "IdentifierComparison", "feature": "tax_id"},
            {"type": "IdentifierComparison", "feature": "lei", "max_edits": 0},
            {"type": "ExactMatch", "feature": "parent_code"},
        ], _LEGAL_ENTITY_PRIORS,
            frozenset({"name", "legal_form", "currency", "parent_code"})),
        "blocking": [
            block_on("lei"),
            block_on("tax_id"),
            block_on("code"),
            block_on("country", ("name", "first_token")),
        ],
        "rules": [
            _rule("same_valid_lei", "match", ("lei", "valid_equal")),
            _rule("same_valid_tax_id", "match",
                  ("tax_id", "valid_equal"), ("country", "equal")),
            _rule("different_valid_lei", "non_match", ("lei", "valid_different")),
            _rule("different_valid_tax_ids", "non_match", ("tax_id", "valid_different")),
            _rule("different_country", "non_match", ("country", "different")),
        ],
        "thresholds": {"auto_merge": 0.99, "review": 0.8, "conflict_evidence_below": 0.0},
        # Sister companies share parent, currency and much of their name: untrained, a
        # merge needs a close name and the same code or identifier.
        "auto_merge_requires": {"unless": [_is(("legal_form", "else"))]},
        "untrained_auto_merge": {"any": [
            _at_least(("name", "token_set>=0.85"), other)
            for other in (("code", "exact"), ("tax_id", "equal"), ("lei", "equal"))
        ]},
    }


_BUILDERS = {
    "supplier": _supplier,
    "customer": _customer,
    "gl_account": _gl_account,
    "cost_center": _cost_center,
    "legal_entity": _legal_entity,
}

DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {name: build() for name, build in _BUILDERS.items()}


def default_settings(domain: str) -> dict[str, Any]:
    """A fresh copy of the default ``match`` block for ``domain`` (safe to edit)."""
    return copy.deepcopy(DEFAULT_SETTINGS[domain])
