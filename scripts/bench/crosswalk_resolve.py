"""Crosswalk resolve latency against gunicorn at a million crosswalk rows.

    .venv/bin/python scripts/bench/crosswalk_resolve.py --db sqlite --rows 1000000
    .venv/bin/python scripts/bench/crosswalk_resolve.py --db postgresql --rows 1000000

Loads ROWS source records (two systems per golden record) straight into a fresh database
with bulk inserts, starts gunicorn, then measures from several client processes:
single-key GET resolves (p50/p99) and 1,000-key batch resolves (p50/p99).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
import _harness as h  # noqa: E402


def load(url: str, rows: int) -> None:
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from mdm.db import make_engine, new_id, utcnow
    from mdm.records.models import GoldenRecord, SourceRecord
    from mdm.sources.models import SourceSystem

    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as s:
        ids = dict(s.execute(select(SourceSystem.code, SourceSystem.id)).all())
        chunk = 20_000
        for start in range(0, rows // 2, chunk):
            goldens, sources = [], []
            for i in range(start, min(start + chunk, rows // 2)):
                gid = new_id()
                attrs = {"name": f"Supplier {i}", "country": "DE"}
                goldens.append({"id": gid, "domain": "supplier", "status": "active", "version": 1,
                                "attributes": attrs, "provenance": {}, "quality_status": "ok",
                                "overrides": {}, "search_name": f"supplier {i}",
                                "created_at": now, "updated_at": now})
                for code, sid in (("SAP", f"{i}"), ("COUPA", f"V-{i}")):
                    sources.append({"domain": "supplier", "source_system_id": ids[code],
                                    "source_id": sid, "golden_id": gid, "attributes": attrs,
                                    "content_hash": "x", "active": True, "quality_status": "ok",
                                    "version": 1, "created_at": now, "updated_at": now})
            s.execute(insert(GoldenRecord.__table__), goldens)
            s.execute(insert(SourceRecord.__table__), sources)
            s.commit()
            print(f"\rloaded {min(start + chunk, rows // 2) * 2:,} rows", end="", flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    print()
    engine.dispose()


def single_client(args: tuple[str, str, int, float, int]) -> list[float]:
    base, key, n_rows, seconds, seed = args
    rnd = random.Random(seed)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {key}"
    out = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        i = rnd.randrange(n_rows // 2)
        t = time.perf_counter()
        r = s.get(f"{base}/domains/supplier/crosswalk/SAP/{i}")
        out.append(time.perf_counter() - t)
        assert r.status_code == 200 and len(r.json()["records"]) == 2
    return out


def batch_client(args: tuple[str, str, int, int, int]) -> list[float]:
    base, key, n_rows, count, seed = args
    rnd = random.Random(seed)
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {key}"
    out = []
    for _ in range(count):
        keys = [{"source_system": "COUPA", "source_id": f"V-{rnd.randrange(n_rows // 2)}"}
                for _ in range(1000)]
        t = time.perf_counter()
        r = s.post(f"{base}/domains/supplier/crosswalk/resolve", json={"keys": keys})
        out.append(time.perf_counter() - t)
        assert r.status_code == 200 and all(x["found"] for x in r.json()["results"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = h.fresh_database(args.db, Path(tmp))
        h.mdm(url, "sources", "add", "SAP", "--name", "SAP", "--kind", "erp")
        h.mdm(url, "sources", "add", "COUPA", "--name", "Coupa", "--kind", "procurement")
        key = h.mdm(url, "keys", "create", "--role", "reader").splitlines()[0]
        t = time.perf_counter()
        load(url, args.rows)
        print(f"loaded {args.rows:,} crosswalk rows in {time.perf_counter() - t:.0f} s")
        with h.server(url, workers=args.workers, threads=args.threads) as base:
            # warm the caches and connections once
            single_client((base, key, args.rows, 1.0, 0))
            with mp.Pool(args.clients) as pool:
                parts = pool.map(single_client, [(base, key, args.rows, args.seconds, s + 1)
                                                 for s in range(args.clients)])
            lat = [x for p in parts for x in p]
            with mp.Pool(2) as pool:
                parts = pool.map(batch_client, [(base, key, args.rows, args.batches // 2, s + 9)
                                                for s in range(2)])
            blat = [x for p in parts for x in p]
    print(f"db={args.db} rows={args.rows:,} gunicorn workers={args.workers} threads={args.threads}"
          f" clients={args.clients}")
    print(f"single-key resolve: {len(lat):,} requests, {len(lat) / args.seconds:,.0f} req/s, "
          f"p50 {h.percentile(lat, 50) * 1000:.1f} ms, p99 {h.percentile(lat, 99) * 1000:.1f} ms")
    print(f"1,000-key batch resolve: {len(blat)} requests (2 clients), "
          f"p50 {h.percentile(blat, 50) * 1000:.0f} ms, p99 {h.percentile(blat, 99) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
