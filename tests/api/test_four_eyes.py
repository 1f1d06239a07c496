"""Four eyes on approval attributes through the API: removing a value is a change that
waits for a second steward, a formatting-only difference is no change, and the golden
record's provenance never names a source record that no longer carries the value."""
from __future__ import annotations

from typing import Any

from mdm.identifiers import compact

VAT = "DE136695976"
VAT_SPACED = "DE 136 695 976"
IBAN = "DE89370400440532013000"
IBAN_SPACED = "DE89 3704 0044 0532 0130 00"
IBAN_OTHER = "DE44500105175407324931"


def send(client: Any, headers: dict[str, str], system: str, source_id: str,
         attrs: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/domains/supplier/records", headers=headers,
                    json={"source_system": system, "source_id": source_id, "attributes": attrs})
    assert r.status_code == 200, r.json
    return r.json


def golden(client: Any, headers: dict[str, str], gid: str) -> dict[str, Any]:
    r = client.get(f"/golden/{gid}", headers=headers)
    assert r.status_code == 200, r.json
    return r.json


def change_requests(client: Any, headers: dict[str, str], gid: str,
                    status: str = "pending") -> list[dict[str, Any]]:
    r = client.get("/change-requests", headers=headers,
                   query_string={"golden_id": gid, "status": status})
    assert r.status_code == 200, r.json
    return r.json["items"]


def assert_provenance_is_current(client: Any, headers: dict[str, str], gid: str) -> None:
    """Every attribute that names a source record names one that carries that value now."""
    g = golden(client, headers, gid)
    for attr, prov in g["provenance"].items():
        if "source_id" not in prov:
            continue
        r = client.get(f"/domains/supplier/records/{prov['source_system']}/{prov['source_id']}",
                       headers=headers)
        assert r.status_code == 200 and r.json["active"], (attr, prov)
        assert r.json["golden_id"] == gid, (attr, prov)
        attrs = r.json["attributes"]
        assert attrs.get(attr) is not None, f"{attr} named {prov} which no longer carries it"
        assert compact(attrs[attr]) == compact(g["attributes"][attr]), (attr, prov)


def assert_recompute_finds_nothing(app: Any) -> None:
    result = app.test_cli_runner().invoke(
        args=["survivorship", "recompute", "supplier", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "0 would change" in result.output, result.output


def test_removing_an_iban_waits_for_a_second_steward(app: Any, client: Any, make_key: Any,
                                                     sources: list[str]) -> None:
    sap, coupa = make_key("source", "SAP"), make_key("source", "COUPA")
    alice = make_key("steward")
    gid = send(client, sap, "SAP", "4711", {"name": "Acme GmbH", "country": "DE",
                                            "tax_id": VAT, "iban": IBAN})["golden_id"]
    # The same VAT number written with spaces: the same tax id, so nothing to approve.
    assert send(client, coupa, "COUPA", "V-100", {"name": "ACME GmbH", "country": "DE",
                                                  "tax_id": VAT_SPACED})["golden_id"] == gid
    assert change_requests(client, alice, gid) == []
    assert_provenance_is_current(client, alice, gid)

    # SAP sends 4711 again without its tax id and IBAN.
    send(client, sap, "SAP", "4711", {"name": "Acme GmbH", "country": "DE"})
    g = golden(client, alice, gid)
    assert g["attributes"]["iban"] == IBAN  # still paid there until a steward agrees
    (cr,) = change_requests(client, alice, gid)
    assert (cr["attribute"], cr["value"], cr["previous"]) == ("iban", None, IBAN)
    assert g["provenance"]["iban"] == {"rule": "held_by_change_request",
                                       "change_request_id": cr["id"]}
    # COUPA still carries the tax id: it is the source now, and no request was opened.
    assert compact(g["attributes"]["tax_id"]) == VAT
    assert (g["provenance"]["tax_id"]["source_system"],
            g["provenance"]["tax_id"]["source_id"]) == ("COUPA", "V-100")
    assert_provenance_is_current(client, alice, gid)
    assert_recompute_finds_nothing(app)
    # Sending the same record again opens nothing new and changes nothing.
    version = g["version"]
    assert send(client, sap, "SAP", "4711", {"name": "Acme GmbH", "country": "DE"})[
        "status"] == "unchanged"
    send(client, sap, "SAP", "4711", {"name": "Acme GmbH", "country": "DE", "city": "Bonn"})
    g = golden(client, alice, gid)
    assert g["attributes"]["iban"] == IBAN and g["version"] == version + 1
    assert [c["id"] for c in change_requests(client, alice, gid)] == [cr["id"]]

    r = client.post(f"/change-requests/{cr['id']}/approve",
                    headers={**alice, "If-Match": f'"{cr["version"]}"'},
                    json={"reason": "account closed, confirmed by phone"})
    assert r.status_code == 200, r.json
    g = golden(client, alice, gid)
    assert "iban" not in g["attributes"] and "iban" not in g["provenance"]
    assert_provenance_is_current(client, alice, gid)
    assert_recompute_finds_nothing(app)


def test_a_rejected_removal_keeps_the_iban_and_says_why(app: Any, client: Any, make_key: Any,
                                                        sources: list[str]) -> None:
    sap = make_key("source", "SAP")
    alice = make_key("steward")
    gid = send(client, sap, "SAP", "1", {"name": "Birch AG", "country": "DE",
                                         "iban": IBAN})["golden_id"]
    send(client, sap, "SAP", "1", {"name": "Birch AG", "country": "DE"})
    (cr,) = change_requests(client, alice, gid)
    r = client.post(f"/change-requests/{cr['id']}/reject",
                    headers={**alice, "If-Match": f'"{cr["version"]}"'},
                    json={"reason": "the supplier still uses this account"})
    assert r.status_code == 200, r.json
    g = golden(client, alice, gid)
    assert g["attributes"]["iban"] == IBAN
    # still held by that request, which now says "rejected"
    assert g["provenance"]["iban"] == {"rule": "held_by_change_request",
                                       "change_request_id": cr["id"]}
    assert_recompute_finds_nothing(app)
    # The same removal is not raised again; the source sending the IBAN again names it.
    send(client, sap, "SAP", "1", {"name": "Birch AG.", "country": "DE"})
    assert change_requests(client, alice, gid) == []
    send(client, sap, "SAP", "1", {"name": "Birch AG.", "country": "DE", "iban": IBAN_SPACED})
    g = golden(client, alice, gid)
    assert compact(g["attributes"]["iban"]) == IBAN
    assert g["provenance"]["iban"]["source_id"] == "1"
    assert change_requests(client, alice, gid) == []
    assert_provenance_is_current(client, alice, gid)
    assert_recompute_finds_nothing(app)


def test_formatting_is_no_change_but_a_new_iban_still_is(app: Any, client: Any, make_key: Any,
                                                         sources: list[str]) -> None:
    sap = make_key("source", "SAP")
    alice = make_key("steward")
    gid = send(client, sap, "SAP", "7", {"name": "Cedar SA", "country": "DE",
                                         "tax_id": VAT, "iban": IBAN})["golden_id"]
    send(client, sap, "SAP", "7", {"name": "Cedar SA", "country": "DE",
                                   "tax_id": VAT_SPACED.lower(), "iban": IBAN_SPACED})
    assert change_requests(client, alice, gid) == []
    assert_provenance_is_current(client, alice, gid)
    send(client, sap, "SAP", "7", {"name": "Cedar SA", "country": "DE", "tax_id": VAT,
                                   "iban": IBAN_OTHER})
    g = golden(client, alice, gid)
    assert compact(g["attributes"]["iban"]) == IBAN
    (cr,) = change_requests(client, alice, gid)
    assert (cr["attribute"], cr["value"]) == ("iban", IBAN_OTHER)
    assert g["provenance"]["iban"] == {"rule": "held_by_change_request",
                                       "change_request_id": cr["id"]}
    assert_recompute_finds_nothing(app)
