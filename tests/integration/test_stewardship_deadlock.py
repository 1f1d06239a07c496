"""A steward's merge that deadlocks with an ingestion is run again, not answered 500.

Ingestion locks source records, then their golden records; a merge locks the golden
records, then moves their source records. Overlapping, the two wait for each other and
PostgreSQL ends one of them. Here the other transaction takes ingestion's locks in
ingestion's order by hand (so the cycle happens every time, not by chance) and waits
long before checking for deadlocks, so the merge is the victim.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from mdm.db import db


def post(client: Any, headers: dict[str, str], system: str, source_id: str,
         name: str) -> str:
    r = client.post("/domains/supplier/records", headers=headers, json={
        "source_system": system, "source_id": source_id,
        "attributes": {"name": name, "country": "DE"}})
    assert r.status_code == 200, r.json
    return r.json["golden_id"]  # type: ignore[no-any-return]


@pytest.mark.postgres
def test_a_merge_chosen_as_deadlock_victim_is_run_again(app: Any, client: Any,
                                                        admin: dict[str, str],
                                                        sources: list[str]) -> None:
    survivor = post(client, admin, "SAP", "1", "Quillon Werkzeuge GmbH")
    victim = post(client, admin, "COUPA", "7", "Zabrowski Spedition AG")
    assert survivor != victim
    etag = client.get(f"/golden/{survivor}", headers=admin).headers["ETag"]
    holding = threading.Event()
    errors: list[BaseException] = []

    def ingestion_order() -> None:
        """Lock the victim's source record, then (once the merge holds the golden
        records and waits for that source record) the survivor's golden record."""
        try:
            with app.app_context(), db.engine.connect() as conn:  # type: ignore[union-attr]
                with conn.begin():
                    conn.execute(text("SET LOCAL deadlock_timeout = '20s'"))
                    conn.execute(text("SELECT id FROM source_record WHERE golden_id = :g "
                                      "FOR UPDATE"), {"g": victim})
                    holding.set()
                    time.sleep(0.5)  # the merge locks both golden records meanwhile
                    conn.execute(text("SELECT id FROM golden_record WHERE id = :g "
                                      "FOR UPDATE"), {"g": survivor})
        except BaseException as exc:  # reported to the test, not lost in the thread
            errors.append(exc)

    other = threading.Thread(target=ingestion_order)
    other.start()
    assert holding.wait(10)
    r = client.post(f"/golden/{survivor}/merge", headers={**admin, "If-Match": etag},
                    json={"golden_ids": [victim], "reason": "same company"})
    other.join(30)
    assert errors == []
    assert r.status_code == 200, r.json
    assert client.get(f"/golden/{victim}", headers=admin).json["merged_into"] == survivor
    actions = [e["action"] for e in client.get(
        "/audit", headers=admin, query_string={"entity_id": victim}).json]
    assert actions.count("golden.merge") == 1  # the failed attempt left nothing behind
