"""Hierarchies over HTTP: a chart of accounts from import to published roll-up queries."""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mdm.hierarchies.schemas import HierarchyNodeListSchema, HierarchySubtreeSchema

SAMPLE = Path(__file__).parents[2] / "scripts" / "sample" / "chart_of_accounts.csv"
NEXT_YEAR = f"{date.today().year + 1}-01-01"
H = "/hierarchies/GRP-MGMT"


@pytest.fixture
def chart(client: Any, admin: dict[str, str], sources: list[str]) -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    records = [{"source_id": r.pop("source_id"), "attributes": {
        k: (v == "true" if k == "posting_allowed" else v) for k, v in r.items() if v}}
        for r in csv.DictReader(io.StringIO(text))]
    r = client.post("/domains/gl_account/records/bulk", headers=admin,
                    json={"source_system": "SAP", "records": records})
    assert r.status_code == 200 and r.json["summary"] == {"created": 20}, r.json
    return text


@pytest.fixture
def imported(client: Any, steward: dict[str, str], chart: str) -> str:
    r = client.post("/hierarchies", headers=steward, json={
        "name": "GRP-MGMT", "domain": "gl_account", "kind": "management", "chart": "GRP"})
    assert r.status_code == 201, r.json
    r = client.post(f"{H}/versions", headers=steward, json={"csv": chart})
    assert r.status_code == 201, r.json
    assert r.json["validation"]["valid"] and r.json["node_count"] == 20
    return chart


def publish(client: Any, author: dict[str, str], second: dict[str, str], number: int) -> None:
    for who, action in ((author, "submit"), (second, "approve"), (second, "publish")):
        r = client.post(f"{H}/versions/{number}/{action}", headers=who, json={})
        assert r.status_code == 200, (action, r.json)


def test_approval_needs_a_second_steward(client, steward, make_key, imported) -> None:
    r = client.post(f"{H}/versions/1/submit", headers=steward, json={})
    assert r.status_code == 200 and r.json["status"] == "submitted"
    r = client.post(f"{H}/versions/1/approve", headers=steward, json={})
    assert r.status_code == 403 and r.json["code"] == "forbidden"
    other = make_key("steward")
    assert client.post(f"{H}/versions/1/approve", headers=other, json={}).status_code == 200
    r = client.post(f"{H}/versions/1/publish", headers=other, json={})
    assert r.status_code == 200 and r.json["status"] == "published"
    feed = client.get("/changes?domain=gl_account&limit=1000", headers=steward).json["items"]
    assert [e["golden_version"] for e in feed if e["type"] == "hierarchy_published"] == [1]


def test_an_invalid_draft_cannot_be_submitted(client, steward, chart) -> None:
    client.post("/hierarchies", headers=steward, json={
        "name": "GRP-MGMT", "domain": "gl_account", "chart": "GRP"})
    nodes = [{"node": "BS"}, {"node": "1000", "parent": "BS"}, {"node": "4100", "parent": "1000"}]
    r = client.post(f"{H}/versions", headers=steward, json={"nodes": nodes})
    assert r.status_code == 201
    assert r.json["validation"]["counts"] == {"account_type": 1}
    r = client.get(f"{H}/versions/1/validation", headers=steward)
    assert r.json["violations"][0]["node"] == "4100"
    r = client.post(f"{H}/versions/1/submit", headers=steward, json={})
    assert r.status_code == 422 and "account_type" in r.json["errors"]


def test_bad_lines_are_reported_and_nothing_is_stored(client, steward, imported) -> None:
    r = client.put(f"{H}/versions/1/nodes", headers=steward,
                   json={"csv": "node,parent,valid_to\nBS,,\n1000,BS,31.12.2025\n"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["line 3"]
    assert client.get(f"{H}/versions/1", headers=steward).json["node_count"] == 20


def test_roll_up_queries_as_of_a_date(client, steward, make_key, reader, imported) -> None:
    publish(client, steward, make_key("steward"), 1)
    r = client.post(f"{H}/versions", headers=steward, json={"note": "move travel"})
    assert r.status_code == 201 and r.json["based_on"] == 1
    r = client.post(f"{H}/versions/2/moves", headers=steward, json={
        "node": "5300", "new_parent": "4000", "effective_from": NEXT_YEAR})
    assert r.status_code == 200, r.json
    diff = client.get(f"{H}/versions/2/diff", headers=reader).json
    assert diff["moved"] == [{"node": "5300", "from_parents": ["5000"], "to_parents": ["4000"],
                              "on": NEXT_YEAR}]
    impact = client.get(f"{H}/nodes/5000/move-impact?new_parent=BS", headers=reader).json
    assert impact["postable"] == ["5100", "5200", "5300"]
    # moves that cannot be made are refused by condition, each with its own code
    r = client.get(f"{H}/nodes/5000/move-impact?new_parent=5100", headers=reader)
    assert r.status_code == 409 and r.json["code"] == "would_create_cycle"
    r = client.get(f"{H}/nodes/5000/move-impact?new_parent=NOPE", headers=reader)
    assert r.status_code == 404 and r.json["code"] == "not_found"
    r = client.post(f"{H}/versions/2/moves", headers=steward, json={
        "node": "4000", "new_parent": "4100", "effective_from": NEXT_YEAR})
    assert r.status_code == 409 and r.json["code"] == "would_create_cycle"
    r = client.post(f"{H}/versions/2/moves", headers=steward, json={
        "node": "5300", "new_parent": "4000", "effective_from": NEXT_YEAR})
    assert r.status_code == 409 and r.json["code"] == "nothing_to_change"

    leaves = client.get(f"{H}/nodes/PL/leaves", headers=reader).json
    assert [i["node"] for i in leaves["items"]] == ["4100", "4200", "5100", "5200", "5300"]
    later = client.get(f"{H}/nodes/4000/children?version=2&as_of={NEXT_YEAR}", headers=reader)
    assert [i["node"] for i in later.json["items"]] == ["4100", "4200", "5300"]
    node = client.get(f"{H}/nodes/1110", headers=reader).json
    assert (node["parents"], node["level"], node["leaf"]) == (["1100"], 3, True)
    path = client.get(f"{H}/nodes/1110/path", headers=reader).json
    assert [n["node"] for n in path["paths"][0]] == ["BS", "1000", "1100", "1110"]
    anc = client.get(f"{H}/nodes/1110/ancestors", headers=reader).json
    assert [n["node"] for n in anc["items"]] == ["1100", "1000", "BS"]
    desc = client.get(f"{H}/nodes/BS/descendants?max_depth=1", headers=reader).json
    assert [n["node"] for n in desc["items"]] == ["1000", "2000", "3000"]
    tree = client.get(f"{H}/nodes/1100/subtree", headers=reader).json["tree"]
    assert tree["name"] == "Cash and cash equivalents" and len(tree["children"]) == 2
    roots = client.get(f"{H}/roots", headers=reader).json
    assert [n["node"] for n in roots["items"]] == ["BS", "PL"]
    assert client.get(f"{H}/nodes/nope", headers=reader).status_code == 404
    assert client.post(f"{H}/versions/2/submit", headers=reader, json={}).status_code == 403


@pytest.mark.parametrize(("path", "schema"), [
    ("nodes/BS/descendants?version=1", HierarchyNodeListSchema),
    ("nodes/BS/descendants?version=1&max_depth=2", HierarchyNodeListSchema),
    ("nodes/PL/leaves?version=1", HierarchyNodeListSchema),
    ("roots?version=1", HierarchyNodeListSchema),
    ("nodes/1000/subtree?version=1", HierarchySubtreeSchema),
])
def test_large_reads_written_directly_are_what_their_schema_documents(
        client, reader, imported, path, schema) -> None:
    r = client.get(f"{H}/{path}", headers=reader)
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert schema().dump(r.json) == r.json
    assert schema().load(r.json) == r.json  # every required member present, types right


def test_export_csv_and_json_round_trip(client, steward, make_key, reader, imported) -> None:
    assert client.get(f"{H}/export", headers=reader).status_code == 404  # nothing published
    publish(client, steward, make_key("steward"), 1)
    assert client.get(f"{H}/export?version=1", headers=reader).status_code == 200
    exported = client.get(f"{H}/export.csv", headers=reader)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    as_json = client.get(f"{H}/export", headers=reader).json
    assert len(as_json["nodes"]) == 20 and as_json["version"] == 1
    r = client.post(f"{H}/versions", headers=steward, json={"csv": exported.text})
    assert r.json["validation"]["valid"]
    r = client.post(f"{H}/versions", headers=steward, json={"nodes": as_json["nodes"]})
    assert r.json["validation"]["valid"]
    for number in (2, 3):
        counts = client.get(f"{H}/versions/{number}/diff", headers=reader).json["counts"]
        assert counts == {"added": 0, "removed": 0, "moved": 0, "renamed": 0}
    refused = client.get(f"{H}/export?version=2", headers=reader)
    assert refused.status_code == 409 and refused.json["code"] == "wrong_state"


def test_create_hierarchy_input_is_validated(client, steward) -> None:
    r = client.post("/hierarchies", headers=steward, json={"name": "X", "domain": "gl_account"})
    assert r.status_code == 422 and "chart" in r.json["errors"]
    r = client.post("/hierarchies", headers=steward, json={"name": "X", "domain": "supplier"})
    assert r.status_code == 422 and "domain" in r.json["errors"]
    r = client.post("/hierarchies", headers=steward, json={
        "name": "X", "domain": "legal_entity", "kind": "ownership"})
    assert r.status_code == 201 and r.json["allow_shared"] is True
    r = client.post("/hierarchies", headers=steward, json={"name": "X", "domain": "legal_entity"})
    assert r.status_code == 409 and r.json["code"] == "already_exists"
    assert [h["name"] for h in client.get("/hierarchies", headers=steward).json] == ["X"]
    rules = client.get("/hierarchy-rules", headers=steward).json
    assert {r["rule"] for r in rules} >= {"no_cycles", "posting_leaf", "ownership_total"}
