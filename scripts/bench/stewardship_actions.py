"""Steward actions on a golden record with 1,000 source records, through gunicorn.

    .venv/bin/python scripts/bench/stewardship_actions.py --db sqlite
    .venv/bin/python scripts/bench/stewardship_actions.py --db postgresql --records 1000

Loads one supplier golden record with RECORDS source records (three systems) straight
into a fresh database, computes it with ``mdm survivorship recompute``, starts gunicorn,
then times each steward action over HTTP, ROUNDS times: pin and unpin a value, merge a
small record in, unmerge what that merge brought in, split one source record out,
four-eyes IBAN change (request + approval by a second steward), not-a-match, and the
history and lineage reads. Prints p50 and max per action in milliseconds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).parent))
import _harness as h  # noqa: E402

SYSTEMS = ("SAP", "COUPA", "SFDC")


def load(url: str, records: int) -> str:
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from mdm.db import make_engine, new_id, utcnow
    from mdm.records.models import GoldenRecord, SourceRecord
    from mdm.sources.models import SourceSystem

    engine = make_engine(url)
    now = utcnow()
    gid = new_id()
    with Session(engine) as s:
        ids = dict(s.execute(select(SourceSystem.code, SourceSystem.id)).all())
        s.execute(insert(GoldenRecord.__table__), [{
            "id": gid, "domain": "supplier", "status": "active", "version": 1,
            "attributes": {}, "provenance": {}, "quality_status": "ok", "overrides": {},
            "search_name": "", "created_at": now, "updated_at": now}])
        rows = []
        for i in range(records):
            attrs = {"name": "Acme Holding GmbH" if i % 3 else "ACME Holding GmbH",
                     "country": "DE", "city": ["Berlin", "Munich", "Hamburg"][i % 3],
                     "street": f"Industriestrasse {i % 40}", "phone": f"+49 30 {1000 + i}",
                     "iban": "DE89370400440532013000"}
            rows.append({"domain": "supplier", "source_system_id": ids[SYSTEMS[i % 3]],
                         "source_id": f"V-{i}", "golden_id": gid, "attributes": attrs,
                         "content_hash": "x", "active": True, "quality_status": "ok",
                         "version": 1, "created_at": now, "updated_at": now})
        s.execute(insert(SourceRecord.__table__), rows)
        s.commit()
    engine.dispose()
    return gid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = h.fresh_database(args.db, Path(tmp))
        for code in SYSTEMS:
            h.mdm(url, "sources", "add", code, "--name", code, "--kind", "erp")
        gid = load(url, args.records)
        h.mdm(url, "survivorship", "recompute", "supplier", "--quiet")
        admin = h.mdm(url, "keys", "create", "--role", "admin").splitlines()[0]
        alice = h.mdm(url, "keys", "create", "--role", "steward").splitlines()[0]
        bob = h.mdm(url, "keys", "create", "--role", "steward").splitlines()[0]
        with h.server(url, workers=1, threads=1) as base:
            timings = run(base, gid, args.rounds, {"admin": admin, "alice": alice, "bob": bob})
    print(f"\nsteward actions on one golden record with {args.records:,} source records "
          f"({args.db}, {args.rounds} rounds, gunicorn 1 worker), milliseconds:")
    print(f"{'action':<34}{'p50':>8}{'max':>8}")
    worst = 0.0
    for action, values in timings.items():
        ms = [v * 1000 for v in values]
        worst = max(worst, max(ms))
        print(f"{action:<34}{h.percentile(ms, 50):>8.1f}{max(ms):>8.1f}")
    print(f"slowest single action: {worst:.1f} ms")


def run(base: str, gid: str, rounds: int, keys: dict[str, str]) -> dict[str, list[float]]:
    http = requests.Session()
    auth = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
    timings: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, call: Callable[[dict[str, str]], requests.Response]) -> Any:
        etag = {"If-Match": tag()}  # read first: only the action itself is timed
        t = time.perf_counter()
        r = call(etag)
        timings[name].append(time.perf_counter() - t)
        if r.status_code != 200:
            raise SystemExit(f"{name}: {r.status_code} {r.text}")
        return r

    def tag() -> str:
        return http.get(f"{base}/golden/{gid}", headers=auth["alice"]).headers["ETag"]

    alice = auth["alice"]

    def one_round(n: int) -> None:
            timed("GET golden", lambda etag: http.get(f"{base}/golden/{gid}", headers=alice))
            timed("pin city", lambda etag: http.put(
                f"{base}/golden/{gid}/overrides/city", headers={**alice, **etag},
                json={"value": "Berlin-Mitte", "reason": "registered office"}))
            timed("unpin city", lambda etag: http.delete(
                f"{base}/golden/{gid}/overrides/city", headers={**alice, **etag},
                params={"reason": "office moved"}))
            small = http.post(f"{base}/domains/supplier/records", headers=auth["admin"], json={
                "source_system": "SAP", "source_id": f"NEW-{n}",
                "attributes": {"name": "Acme Holding GmbH", "country": "DE"}}).json()["golden_id"]
            merged = timed("merge a record in", lambda etag: http.post(
                f"{base}/golden/{gid}/merge", headers={**alice, **etag},
                json={"golden_ids": [small], "reason": "same holding"})).json()
            op = merged["operation"]["id"]
            timed("unmerge what a merge brought in", lambda etag: http.post(
                f"{base}/golden/{gid}/unmerge", headers={**alice, **etag},
                json={"operation_id": op, "reason": "was another company"}))
            split = timed("unmerge one source record", lambda etag: http.post(
                f"{base}/golden/{gid}/unmerge", headers={**alice, **etag},
                json={"source_records": [{"source_system": "COUPA", "source_id": f"V-{3 * n + 1}"}],
                      "reason": "branch office"})).json()
            timed("not-a-match", lambda etag: http.post(
                f"{base}/domains/supplier/not-a-match", headers=alice,
                json={"golden_ids": [gid, split["created"]["id"]], "reason": "differ"}))
            iban = ["GB82WEST12345698765432", "DE44500105175407324931"][n % 2]
            cr = timed("request IBAN change", lambda etag: http.put(
                f"{base}/golden/{gid}/overrides/iban", headers={**alice, **etag},
                json={"value": iban, "reason": "supplier letter"})).json()["change_request"]
            timed("approve IBAN change (4 eyes)", lambda etag: http.post(
                f"{base}/change-requests/{cr['id']}/approve",
                headers={**auth["bob"], "If-Match": f'"{cr["version"]}"'}, json={"reason": "ok"}))
            timed("history", lambda etag: http.get(f"{base}/golden/{gid}/history", headers=alice))
            timed("lineage", lambda etag: http.get(f"{base}/golden/{gid}/lineage", headers=alice))

    for n in range(rounds):
        one_round(n)
    return timings


if __name__ == "__main__":
    main()
