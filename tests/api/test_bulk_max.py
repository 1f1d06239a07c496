"""The documented maximum bulk request (10,000 records) over HTTP: every record answered.

Matching is off for the domain here, as during an initial load (``--match batch``): the
test is about the bulk write path answering every record, in order, in one transaction.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from mdm.records import linking
from mdm.records.models import GoldenRecord, SourceRecord

MAX_BULK = 10_000


def _name(i: int) -> str:
    digest = hashlib.sha1(str(i).encode()).hexdigest()
    return f"{digest[:6]} {digest[6:12]} Trading GmbH"


def test_a_full_bulk_request_answers_every_record_in_order(
    client, admin, sources, app, monkeypatch
) -> None:
    monkeypatch.setattr(linking, "_factory", lambda _definition: linking.NewGoldenLinker())
    records = [
        {"source_id": f"B{i:05d}", "attributes": {"name": _name(i), "country": "DE"}}
        for i in range(MAX_BULK)
    ]
    records[1234]["attributes"]["nope"] = "x"  # one bad record does not stop the others
    r = client.post(
        "/domains/supplier/records/bulk",
        headers=admin,
        json={"source_system": "COUPA", "records": records},
    )
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    body = r.get_json()
    assert body["summary"] == {"created": MAX_BULK - 1, "rejected": 1}
    results = body["results"]
    assert [x["source_id"] for x in results] == [x["source_id"] for x in records]
    assert results[1234]["status"] == "rejected" and "nope" in results[1234]["errors"]
    assert all(x["golden_id"] for k, x in enumerate(results) if k != 1234)
    db = app.extensions["mdm_db"]
    with db.new_session() as session:
        stored = session.scalar(select(func.count()).select_from(SourceRecord))
        golden = session.scalar(select(func.count()).select_from(GoldenRecord))
    assert stored == MAX_BULK - 1
    assert golden == len({x["golden_id"] for x in results if x["golden_id"]})
