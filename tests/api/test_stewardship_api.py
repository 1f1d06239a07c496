"""A stewardship day through the HTTP API: queue, merge, unmerge, not-a-match, rematch,
pins, four-eyes IBAN changes, history, as-of and lineage, checking crosswalk and audit."""
from __future__ import annotations

import time
from datetime import UTC, datetime

from mdm.db import db
from mdm.stewardship import service

VAT = "DE136695976"
IBAN_1 = "DE89370400440532013000"
IBAN_2 = "GB82WEST12345698765432"
IBAN_3 = "DE44500105175407324931"


def send(client, headers, system, source_id, attrs):
    r = client.post("/domains/supplier/records", headers=headers,
                    json={"source_system": system, "source_id": source_id, "attributes": attrs})
    assert r.status_code == 200, r.json
    return r.json


def etag(client, headers, path):
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.json
    return r.headers["ETag"]


def golden(client, headers, gid):
    return client.get(f"/golden/{gid}", headers=headers).json


def crosswalk(client, headers, system, source_id):
    return client.get(f"/domains/supplier/crosswalk/{system}/{source_id}", headers=headers).json


def audit_actions(client, headers, request_id):
    return [e["action"] for e in
            client.get("/audit", headers=headers, query_string={"request_id": request_id}).json]


def open_task(app, golden_ids, score, explanation=None):
    from mdm.context import cli_context

    with app.app_context():
        task = service.open_review_task(
            db.session, cli_context("matching"), domain="supplier", golden_ids=golden_ids,
            source_record_ids=None, score=score,
            explanation=explanation or {"name": {"jaro_winkler": 0.97}})
        tid = task.id
        db.session.commit()
        db.remove_session()
    return tid


def test_a_stewardship_day(app, client, make_key, sources) -> None:
    sap, coupa, sfdc = (make_key("source", s) for s in ("SAP", "COUPA", "SFDC"))
    alice, bob, reader = make_key("steward"), make_key("steward"), make_key("reader")

    # 1. Three systems send their suppliers; each starts its own golden record.
    acme = send(client, sap, "SAP", "100", {"name": "Acme GmbH", "country": "DE",
                                            "city": "Berlin", "tax_id": VAT, "iban": IBAN_1})
    time.sleep(0.002)
    acme_coupa = send(client, coupa, "COUPA", "C-9", {"name": "ACME GmbH", "country": "DE",
                                                      "street": "Hauptstrasse 1"})
    acme_uk = send(client, sfdc, "SFDC", "A-1", {"name": "Acme Ltd", "country": "GB",
                                                 "city": "London"})
    logistics = send(client, coupa, "COUPA", "C-77", {"name": "Acme Logistics GmbH",
                                                      "country": "DE"})
    g_sap, g_coupa, g_uk, g_log = (x["golden_id"] for x in (acme, acme_coupa, acme_uk, logistics))
    assert len({g_sap, g_coupa, g_uk, g_log}) == 4

    # 2. Incremental matching queued SAP's and Coupa's Acme between its thresholds; a
    #    second, weaker candidate is queued through the same interface matching uses.
    queued = client.get("/review-tasks", headers=alice).json["items"]
    assert [sorted(t["golden_ids"]) for t in queued] == [sorted([g_sap, g_coupa])]
    t1 = queued[0]["id"]
    t2 = open_task(app, [g_sap, g_uk], 0.71)
    assert open_task(app, [g_coupa, g_sap], 0.5) == t1  # idempotent for the same set
    queue = client.get("/review-tasks", headers=alice, query_string={"domain": "supplier"}).json
    assert [t["id"] for t in queue["items"]] == [t1, t2]
    high = client.get("/review-tasks", headers=alice, query_string={"min_score": 0.8}).json
    assert [t["id"] for t in high["items"]] == [t1]
    by_system = client.get("/review-tasks", headers=alice,
                           query_string={"source_system": "SFDC"}).json
    assert [t["id"] for t in by_system["items"]] == [t2]
    young = client.get("/review-tasks", headers=alice, query_string={"min_age_hours": 1}).json
    assert young["items"] == []
    stats = client.get("/review-tasks/stats", headers=reader).json
    assert stats[0]["domain"] == "supplier" and stats[0]["count"] == 2
    assert "mdm_review_tasks_pending{" in client.get("/metrics").data.decode()

    detail = client.get(f"/review-tasks/{t1}", headers=alice)
    assert detail.status_code == 200
    side = detail.json
    assert [r["golden"]["id"] for r in side["records"]] == sorted([g_sap, g_coupa])
    assert side["explanation"]["action"] == "review" and side["explanation"]["pairs"]
    assert side["score"] > 0.8
    country = next(c for c in side["comparison"] if c["attribute"] == "country")
    assert country["same"] is True
    task_tag = detail.headers["ETag"]
    assert client.post(f"/review-tasks/{t1}/claim", headers=alice).status_code == 428
    claimed = client.post(f"/review-tasks/{t1}/claim", headers={**alice, "If-Match": task_tag})
    assert claimed.status_code == 200 and claimed.json["assignee"].startswith("key:")
    mine = client.get("/review-tasks", headers=alice,
                      query_string={"assignee": claimed.json["assignee"]}).json
    assert [t["id"] for t in mine["items"]] == [t1]
    # Bob cannot take Alice's task by claiming it, and the old ETag is stale anyway.
    assert client.post(f"/review-tasks/{t1}/claim",
                       headers={**bob, "If-Match": task_tag}).status_code == 412
    taken = client.post(f"/review-tasks/{t1}/claim", headers={
        **bob, "If-Match": claimed.headers["ETag"]})
    assert taken.status_code == 409 and taken.json["code"] == "claimed_by_another"

    # 3. Merge: the oldest golden record (SAP's) survives.
    r = client.post(f"/review-tasks/{t1}/decision",
                    headers={**alice, "If-Match": claimed.headers["ETag"],
                             "X-Request-ID": "merge-1"},
                    json={"decision": "merge", "reason": "same VAT and address"})
    assert r.status_code == 200, r.json
    merge_1 = r.json["operation"]
    assert r.json["task"]["status"] == "merged"
    assert merge_1["survivor_id"] == g_sap and merge_1["other_ids"] == [g_coupa]
    survivor = golden(client, alice, g_sap)
    assert survivor["attributes"]["street"] == "Hauptstrasse 1"
    assert survivor["provenance"]["street"]["source_system"] == "COUPA"
    victim = golden(client, alice, g_coupa)
    assert victim["status"] == "merged" and victim["merged_into"] == g_sap
    assert crosswalk(client, alice, "COUPA", "C-9")["golden_id"] == g_sap
    cw = client.get(f"/golden/{g_coupa}/source-records", headers=alice).json
    assert cw["golden_id"] == g_sap and cw["requested_golden_id"] == g_coupa
    actions = audit_actions(client, alice, "merge-1")
    assert {"golden.merge", "stewardship.merge", "review_task.decided"} <= set(actions)
    merged_events = [e for e in client.get("/changes", headers=alice).json["items"]
                     if e["type"] == "merged"]
    assert {e["golden_id"] for e in merged_events} == {g_sap, g_coupa}
    assert all(e["payload"]["survivor"] == g_sap and e["payload"]["victims"] == [g_coupa]
               for e in merged_events)
    # Repeating the decision is refused (stale ETag), as is merging the merged record again.
    assert client.post(f"/review-tasks/{t1}/decision", headers={
        **alice, "If-Match": claimed.headers["ETag"]},
        json={"decision": "merge", "reason": "again"}).status_code == 412
    before_wrong_merge = datetime.now(UTC).isoformat()
    time.sleep(0.01)

    # 4. A wrong merge: Alice merges the UK company in directly.
    tag = etag(client, alice, f"/golden/{g_sap}")
    assert client.post(f"/golden/{g_sap}/merge", headers=alice,
                       json={"golden_ids": [g_uk], "reason": "x"}).status_code == 428
    assert client.post(f"/golden/{g_sap}/merge", headers={**alice, "If-Match": '"1"'},
                       json={"golden_ids": [g_uk], "reason": "x"}).status_code == 412
    r = client.post(f"/golden/{g_sap}/merge", headers={**alice, "If-Match": tag},
                    json={"golden_ids": [g_uk], "reason": "looks like the same Acme"})
    assert r.status_code == 200, r.json
    merge_2 = r.json["operation"]
    assert r.headers["ETag"] == f'"{r.json["golden"]["version"]}"'
    assert crosswalk(client, alice, "SFDC", "A-1")["golden_id"] == g_sap
    tasks = client.get("/review-tasks", headers=alice, query_string={"status": "merged"}).json
    assert {t["id"] for t in tasks["items"]} == {t1, t2}  # t2 settled by the merge
    again = client.post(f"/golden/{g_sap}/merge", headers={**alice, "If-Match": r.headers["ETag"]},
                        json={"golden_ids": [g_uk], "reason": "again"})
    assert again.status_code == 409

    # 5. Discover it, and unmerge what that merge brought in.
    r = client.post(f"/golden/{g_sap}/unmerge",
                    headers={**alice, "If-Match": r.headers["ETag"], "X-Request-ID": "unmerge-1"},
                    json={"operation_id": merge_2["id"], "reason": "UK entity, other VAT"})
    assert r.status_code == 200, r.json
    g_uk2 = r.json["created"]["id"]
    assert r.json["operation"]["undoes"] == merge_2["id"]
    assert r.json["created"]["attributes"]["city"] == "London"
    assert golden(client, alice, g_sap)["attributes"]["city"] == "Berlin"
    assert crosswalk(client, alice, "SFDC", "A-1")["golden_id"] == g_uk2
    assert crosswalk(client, alice, "COUPA", "C-9")["golden_id"] == g_sap
    assert {"golden.unmerge", "stewardship.unmerge", "not_a_match.recorded"} <= set(
        audit_actions(client, alice, "unmerge-1"))
    types = {e["golden_id"]: e["type"] for e in client.get("/changes", headers=alice).json["items"]
             if e["request_id"] == "unmerge-1"}
    assert types == {g_sap: "unmerged", g_uk2: "created"}
    assert client.post(f"/golden/{g_sap}/unmerge",
                       headers={**alice, "If-Match": etag(client, alice, f"/golden/{g_sap}")},
                       json={"operation_id": merge_2["id"], "reason": "again"}).status_code == 409
    nams = client.get("/domains/supplier/not-a-match", headers=alice).json["items"]
    assert [(n["origin"].split(":")[0], {n["left"], n["right"]}) for n in nams] == [
        ("unmerge", {g_sap, g_uk2})]

    # 6. Not-a-match between Acme GmbH and Acme Logistics, and at source-record level.
    r = client.post("/domains/supplier/not-a-match", headers=bob,
                    json={"golden_ids": [g_log, g_coupa], "reason": "different legal entity"})
    assert r.status_code == 200 and r.json["kind"] == "golden"
    nam = r.json
    assert {nam["left"], nam["right"]} == {g_log, g_sap}  # the merged id stands for its survivor
    repeat = client.post("/domains/supplier/not-a-match", headers=bob,
                         json={"golden_ids": [g_sap, g_log], "reason": "again"})
    assert repeat.json["id"] == nam["id"]
    r = client.post("/domains/supplier/not-a-match", headers=bob, json={
        "source_records": [{"source_system": "COUPA", "source_id": "C-77"},
                           {"source_system": "SFDC", "source_id": "A-1"}],
        "reason": "never the same"})
    assert r.status_code == 200 and r.json["left"].startswith("sr:")
    same_golden = client.post("/domains/supplier/not-a-match", headers=bob, json={
        "source_records": [{"source_system": "SAP", "source_id": "100"},
                           {"source_system": "COUPA", "source_id": "C-9"}], "reason": "x"})
    assert same_golden.status_code == 409
    refused = client.post(f"/golden/{g_sap}/merge",
                          headers={**bob, "If-Match": etag(client, bob, f"/golden/{g_sap}")},
                          json={"golden_ids": [g_log], "reason": "try"})
    assert refused.status_code == 409 and "not-a-match" in refused.json["message"]

    # A near-twin from the CRM is queued by matching; Bob decides it is another company.
    twin = send(client, sfdc, "SFDC", "A-2", {"name": "Acme GmbH", "country": "DE",
                                              "city": "Hamburg"})["golden_id"]
    queued = client.get("/review-tasks", headers=bob, query_string={"golden_id": twin}).json
    assert [sorted(t["golden_ids"]) for t in queued["items"]] == [sorted([g_sap, twin])]
    t3 = queued["items"][0]["id"]
    r = client.post(f"/review-tasks/{t3}/decision",
                    headers={**bob, "If-Match": etag(client, bob, f"/review-tasks/{t3}")},
                    json={"decision": "not_a_match", "reason": "Hamburg branch is a separate "
                                                            "legal entity"})
    assert r.status_code == 200 and r.json["task"]["status"] == "not_a_match"

    # 7. Rematch: the systems send the same records again and a batch re-match runs; the
    #    pairs stewards split or marked stay apart, and no task re-opens for them.
    for headers, system, sid, attrs in (
        (sap, "SAP", "100", {"name": "Acme GmbH", "country": "DE", "city": "Berlin",
                             "tax_id": VAT, "iban": IBAN_1}),
        (sfdc, "SFDC", "A-1", {"name": "Acme Ltd", "country": "GB", "city": "London"}),
        (coupa, "COUPA", "C-77", {"name": "Acme Logistics GmbH", "country": "DE"}),
    ):
        assert send(client, headers, system, sid, attrs)["status"] == "unchanged"
    with app.app_context():
        from mdm.context import cli_context
        from mdm.matching.service import rematch

        report = rematch(db.session, app.extensions["mdm_domains"], cli_context("rematch"),
                         "supplier", train=False, workers=1)
        assert report.applied["failed"] == []
        pairs = service.not_a_match_pairs(db.session, "supplier")
        db.remove_session()
    assert {frozenset((g_sap, g_uk2)), frozenset((g_sap, g_log)),
            frozenset((g_sap, twin))} <= pairs
    assert len({crosswalk(client, alice, s, i)["golden_id"] for s, i in (
        ("SAP", "100"), ("SFDC", "A-1"), ("COUPA", "C-77"), ("SFDC", "A-2"))}) == 4
    assert client.get("/review-tasks", headers=bob,
                      query_string={"golden_id": twin}).json["items"] == []
    # Revoking lets matching reconsider the pair (and is idempotent).
    for _ in range(2):
        r = client.post(f"/not-a-match/{nam['id']}/revoke", headers=bob,
                        json={"reason": "checked again: still different, but let matching see"})
        assert r.status_code == 200 and r.json["active"] is False
    with app.app_context():
        assert frozenset((g_sap, g_log)) not in service.not_a_match_pairs(db.session, "supplier")
        db.remove_session()
    twin_nam = client.get("/domains/supplier/not-a-match", headers=bob,
                          query_string={"key": twin}).json["items"]
    assert [n["origin"] for n in twin_nam] == [f"review_task:{t3}"]
    client.post(f"/not-a-match/{twin_nam[0]['id']}/revoke", headers=bob,
                json={"reason": "let matching look again"})
    with app.app_context():
        rematch(db.session, app.extensions["mdm_domains"], cli_context("rematch-2"), "supplier",
                train=False, workers=1)
        db.remove_session()
    reopened = client.get("/review-tasks", headers=bob, query_string={"golden_id": twin}).json
    assert [sorted(t["golden_ids"]) for t in reopened["items"]] == [sorted([g_sap, twin])]

    # 8. Pin a value; it wins survivorship until unpinned.
    tag = etag(client, alice, f"/golden/{g_sap}")
    r = client.put(f"/golden/{g_sap}/overrides/city", headers={**alice, "If-Match": tag},
                   json={"value": "Berlin-Mitte", "reason": "registered office"})
    assert r.status_code == 200 and r.json["change_request"] is None
    assert r.json["golden"]["provenance"]["city"]["rule"] == "steward_override"
    pinned_tag = r.headers["ETag"]
    bad = client.put(f"/golden/{g_sap}/overrides/country",
                     headers={**alice, "If-Match": pinned_tag},
                     json={"value": 42, "reason": "x"})
    assert bad.status_code == 422 and "value" in bad.json["errors"]
    assert client.put(f"/golden/{g_sap}/overrides/city", headers={**alice, "If-Match": tag},
                      json={"value": "Berlin", "reason": "x"}).status_code == 412
    send(client, sap, "SAP", "100", {"name": "Acme GmbH", "country": "DE", "city": "Potsdam",
                                     "tax_id": VAT, "iban": IBAN_1})
    assert golden(client, alice, g_sap)["attributes"]["city"] == "Berlin-Mitte"

    # 9. IBAN changes under four eyes: first from the source system...
    send(client, sap, "SAP", "100", {"name": "Acme GmbH", "country": "DE", "city": "Potsdam",
                                     "tax_id": VAT, "iban": IBAN_2})
    assert golden(client, alice, g_sap)["attributes"]["iban"] == IBAN_1
    pending = client.get("/change-requests", headers=alice,
                         query_string={"golden_id": g_sap}).json["items"]
    assert [(c["attribute"], c["value"], c["origin"]) for c in pending] == [
        ("iban", IBAN_2, "survivorship")]
    assert not any(IBAN_2 in str(e["payload"]) for e in
                   client.get("/changes", headers=alice).json["items"])
    cr = pending[0]
    cr_tag = etag(client, alice, f"/change-requests/{cr['id']}")
    r = client.post(f"/change-requests/{cr['id']}/approve", headers={**alice, "If-Match": cr_tag},
                    json={"reason": "confirmed by phone with the supplier"})
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert golden(client, alice, g_sap)["attributes"]["iban"] == IBAN_2

    # ... then from a steward: the requester cannot approve, a rejection changes nothing.
    tag = etag(client, alice, f"/golden/{g_sap}")
    r = client.put(f"/golden/{g_sap}/overrides/iban", headers={**alice, "If-Match": tag},
                   json={"value": IBAN_3, "reason": "supplier letter of 1 March"})
    assert r.status_code == 200 and r.json["change_request"]["status"] == "pending"
    assert r.json["golden"]["attributes"]["iban"] == IBAN_2
    cr = r.json["change_request"]
    cr_tag = f'"{cr["version"]}"'
    own = client.post(f"/change-requests/{cr['id']}/approve",
                      headers={**alice, "If-Match": cr_tag}, json={})
    assert own.status_code == 403
    r = client.post(f"/change-requests/{cr['id']}/reject", headers={**bob, "If-Match": cr_tag},
                    json={"reason": "letter not on file"})
    assert r.status_code == 200 and r.json["status"] == "rejected"
    assert golden(client, alice, g_sap)["attributes"]["iban"] == IBAN_2
    r = client.put(f"/golden/{g_sap}/overrides/iban", headers={**alice, "If-Match": tag},
                   json={"value": IBAN_3, "reason": "letter now on file"})
    cr = r.json["change_request"]
    r = client.post(f"/change-requests/{cr['id']}/approve",
                    headers={**bob, "If-Match": f'"{cr["version"]}"', "X-Request-ID": "iban-ok"},
                    json={"reason": "letter checked"})
    assert r.status_code == 200, r.json
    now = golden(client, alice, g_sap)
    assert now["attributes"]["iban"] == IBAN_3
    assert now["provenance"]["iban"]["rule"] == "steward_override"
    assert {"golden.override", "change_request.approved"} <= set(
        audit_actions(client, alice, "iban-ok"))

    # 10. History, as-of and lineage answer who changed what, when and why.
    history = client.get(f"/golden/{g_sap}/history", headers=reader).json
    actions = [v["action"] for v in history]
    assert actions[0] == "golden.create"
    assert actions.count("golden.merge") == 2 and "golden.unmerge" in actions
    assert "golden.change_approved" in actions and actions[-1] == "golden.override"
    assert history[-1]["reason"] == "letter now on file"
    past = client.get(f"/golden/{g_sap}", headers=reader,
                      query_string={"as_of": before_wrong_merge}).json
    assert past["attributes"]["city"] == "Berlin" and past["attributes"]["iban"] == IBAN_1
    lineage = client.get(f"/golden/{g_sap}/lineage", headers=reader).json
    assert lineage["came_from"] == [g_coupa, g_uk] and lineage["went_to"] == [g_uk2]
    assert [op["kind"] for op in lineage["operations"]] == ["merge", "merge", "unmerge"]
    victim_lineage = client.get(f"/golden/{g_coupa}/lineage", headers=reader).json
    assert victim_lineage["went_to"] == [g_sap] and victim_lineage["current_id"] == g_sap
    assert client.get(f"/golden/{g_uk2}/lineage", headers=reader).json["came_from"] == [g_sap]

    # 11. Unpin; survivorship decides again (the IBAN reverts only with a second pair of eyes).
    tag = etag(client, alice, f"/golden/{g_sap}")
    r = client.delete(f"/golden/{g_sap}/overrides/city", headers={**alice, "If-Match": tag},
                      query_string={"reason": "office moved back"})
    assert r.status_code == 200 and r.json["golden"]["attributes"]["city"] == "Potsdam"
    r = client.delete(f"/golden/{g_sap}/overrides/iban",
                      headers={**alice, "If-Match": r.headers["ETag"]},
                      query_string={"reason": "source is right again"})
    assert r.json["golden"]["attributes"]["iban"] == IBAN_3
    assert r.json["change_request"]["value"] == IBAN_2


def test_readers_and_sources_cannot_act(client, make_key, sources) -> None:
    reader, src = make_key("reader"), make_key("source", "SAP")
    for headers in (reader, src):
        assert client.post("/golden/x/merge", headers={**headers, "If-Match": '"1"'},
                           json={"golden_ids": ["y"], "reason": "r"}).status_code == 403
        assert client.post("/domains/supplier/not-a-match", headers=headers, json={
            "golden_ids": ["a", "b"], "reason": "r"}).status_code == 403


def test_unmerge_a_single_source_record(client, make_key, sources) -> None:
    admin, steward = make_key("admin"), make_key("steward")
    a = send(client, admin, "SAP", "1", {"name": "Nordwind AG", "country": "DE"})["golden_id"]
    b = send(client, admin, "COUPA", "2", {"name": "Nordwind AG", "country": "DE"})["golden_id"]
    c = send(client, admin, "SFDC", "3", {"name": "Nordwind AG", "country": "AT"})["golden_id"]
    r = client.post(f"/golden/{b}/merge",
                    headers={**steward, "If-Match": etag(client, steward, f"/golden/{b}")},
                    json={"golden_ids": [a, c], "reason": "one company",
                          "versions": {a: 1, c: 1}})
    assert r.status_code == 200 and r.json["golden"]["id"] == a  # the oldest survives
    body = {"source_records": [{"source_system": "SFDC", "source_id": "3"}], "reason": "AT branch"}
    r2 = client.post(f"/golden/{a}/unmerge", headers={**steward, "If-Match": r.headers["ETag"]},
                     json=body)
    assert r2.status_code == 200
    assert r2.json["created"]["attributes"]["country"] == "AT"
    # the last active record cannot be split out
    r3 = client.post(f"/golden/{r2.json['created']['id']}/unmerge", headers={
        **steward, "If-Match": r2.json["created"] and '"1"'}, json=body)
    assert r3.status_code == 422
    bad = client.post(f"/golden/{a}/unmerge", headers={**steward, "If-Match": '"*"'},
                      json={"reason": "r"})
    assert bad.status_code == 422
