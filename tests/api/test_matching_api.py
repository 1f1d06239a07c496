"""Matching over HTTP: decisions of a golden record, pair explanations, settings; and the
``mdm match`` command."""
from __future__ import annotations

import json
from typing import Any

from mdm.matching.cli import match_cmd

MUELLER = {"name": "Müller Maschinenbau GmbH", "country": "DE", "tax_id": "DE136695976",
           "street": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin"}
MUELLER_COUPA = {**MUELLER, "name": "Mueller Maschinenbau GmbH", "street": "Hauptstr. 5"}
MUELLER_CRM = {"name": "Müller Maschinenbau GmbH", "country": "DE"}


def send(client: Any, admin: dict[str, str], system: str, source_id: str,
         attributes: dict[str, Any]) -> str:
    r = client.post("/domains/supplier/records", headers=admin,
                    json={"source_system": system, "source_id": source_id,
                          "attributes": attributes})
    assert r.status_code == 200, r.json
    return str(r.json["golden_id"])


def test_decisions_of_a_golden_record_explain_the_merge(
        client: Any, admin: dict[str, str], reader: dict[str, str], sources: list[str]) -> None:
    g1 = send(client, admin, "SAP", "V1", MUELLER)
    assert send(client, admin, "COUPA", "C1", MUELLER_COUPA) == g1

    r = client.get(f"/golden/{g1}/match-decisions", headers=reader)

    assert r.status_code == 200
    [merge] = r.json  # the first record's own golden record changed nothing: not stored
    assert merge["action"] == "merge"
    assert merge["golden_id"] == g1 and merge["probability"] == 1.0
    pair = merge["explanation"]["pairs"][0]
    assert pair["rule"] == "same_valid_tax_id"
    assert merge["settings_version"].startswith("supplier-1+")
    assert client.get("/golden/nope/match-decisions", headers=reader).status_code == 404


def test_explain_a_pair_live_and_from_stored_decisions(
        client: Any, admin: dict[str, str], reader: dict[str, str], sources: list[str]) -> None:
    g1 = send(client, admin, "SAP", "V1", MUELLER)
    g2 = send(client, admin, "SFDC", "A1", MUELLER_CRM)
    assert g1 != g2

    r = client.get(f"/domains/supplier/match/explain?a={g1}&b=SFDC/A1", headers=reader)

    assert r.status_code == 200, r.json
    body = r.json
    assert body["a"]["golden_ids"] == [g1] and body["b"]["golden_ids"] == [g2]
    best = body["best"]
    assert best["outcome"] == "review" and 0.8 <= best["probability"] < 0.99
    levels = {c["comparison"]: c["label"] for c in best["contributions"]}
    assert levels["tax_id"] == "null" and levels["name"] != "null"
    assert [d["action"] for d in body["stored"]] == ["review"]
    sr = body["a"]["source_record_ids"][0]
    assert client.get(f"/domains/supplier/match/explain?a=sr:{sr}&b={g2}",
                      headers=reader).json["best"]["probability"] == best["probability"]


def test_explain_validates_its_keys(client: Any, reader: dict[str, str],
                                    sources: list[str]) -> None:
    bad = client.get("/domains/supplier/match/explain?a=sr:x&b=sr:1", headers=reader)
    assert bad.status_code == 422 and "a" in bad.json["errors"]
    assert client.get("/domains/supplier/match/explain?a=sr:1", headers=reader).status_code == 422
    assert client.get("/domains/supplier/match/explain?a=sr:1&b=SAP/x",
                      headers=reader).status_code == 404
    off = client.get("/domains/person/match/explain?a=sr:1&b=sr:2", headers=reader)
    assert off.status_code == 409 and off.json["code"] == "matching_off"


def test_settings_are_data_with_a_version(client: Any, reader: dict[str, str]) -> None:
    r = client.get("/domains/supplier/match/settings", headers=reader)

    assert r.status_code == 200
    body = r.json
    assert body["enabled"] and body["origin"] == "defaults"
    assert body["version"].startswith("supplier-1+")
    assert body["settings"]["thresholds"]["auto_merge"] == 0.99
    assert body["params"]["source"] == "defaults"
    person = client.get("/domains/person/match/settings", headers=reader).json
    assert person["enabled"] is False and person["settings"] is None


def test_match_command_dry_run_prints_the_report(app: Any, client: Any, admin: dict[str, str],
                                                 sources: list[str]) -> None:
    send(client, admin, "SAP", "V1", MUELLER)
    send(client, admin, "COUPA", "C1", MUELLER_COUPA)

    result = app.test_cli_runner().invoke(
        match_cmd, ["supplier", "--dry-run", "--no-train", "--workers", "1", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["dry_run"] and report["records"] == 2
    assert report["merges"] == [] and report["splits"] == [] and report["unchanged"] == 1
    off = app.test_cli_runner().invoke(match_cmd, ["person", "--dry-run"])
    assert off.exit_code == 2 and "off" in off.output


def test_match_command_holds_a_split_of_a_stewards_merge_and_says_so(
        app: Any, client: Any, admin: dict[str, str], steward: dict[str, str],
        sources: list[str]) -> None:
    other = {"name": "Dupont Fournitures SARL", "country": "FR", "postal_code": "75002",
             "street": "12 rue de la Paix", "city": "Paris"}
    g1 = send(client, admin, "SAP", "V1", MUELLER)
    g2 = send(client, admin, "COUPA", "C9", other)
    tag = client.get(f"/golden/{g1}", headers=steward).headers["ETag"]
    r = client.post(f"/golden/{g1}/merge", headers={**steward, "If-Match": tag},
                    json={"golden_ids": [g2], "reason": "same group, one vendor"})
    assert r.status_code == 200, r.json
    runner = app.test_cli_runner()

    dry = runner.invoke(match_cmd, ["supplier", "--dry-run", "--no-train", "--workers", "1"])
    assert dry.exit_code == 0, dry.output
    assert f"would split: {g1} into" in dry.output

    applied = runner.invoke(match_cmd, ["supplier", "--no-train", "--workers", "1"])
    assert applied.exit_code == 0, applied.output
    assert f"held split: {g1} (merge operation" in applied.output
    assert client.get("/domains/supplier/crosswalk/SAP/V1", headers=steward).json["golden_id"] == g1
    assert client.get("/domains/supplier/crosswalk/COUPA/C9",
                      headers=steward).json["golden_id"] == g1
