"""Bulk ingestion through the REST API: records per second and server peak memory.

    .venv/bin/python scripts/bench/ingest_bulk.py --db sqlite --records 100000
    .venv/bin/python scripts/bench/ingest_bulk.py --db postgresql --records 100000

Starts gunicorn on 127.0.0.1 against a fresh database, posts generated suppliers in bulk
requests from a few client threads, and prints throughput and the server's peak RSS.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
import _harness as h  # noqa: E402

CITIES = [("Berlin", "10115", "DE"), ("Paris", "75001", "FR"), ("Wien", "1010", "AT"),
          ("Madrid", "28001", "ES"), ("Milano", "20121", "IT"), ("London", "EC1A 1BB", "GB")]


def supplier(i: int, rnd: random.Random) -> dict:
    city, postcode, country = rnd.choice(CITIES)
    return {"source_id": f"V{i:08d}", "attributes": {
        "name": f"Supplier {i} {rnd.choice(['GmbH', 'SA', 'Ltd', 'SpA', 'SL'])}",
        "street": f"Main Street {rnd.randint(1, 200)}", "postal_code": postcode, "city": city,
        "country": country, "currency": "EUR", "payment_terms": "NET30",
        "email": f"ap{i}@supplier{i}.example"}}


def analyze_every(url: str, seconds: float, stop: threading.Event) -> None:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.wait(seconds):
            conn.execute("ANALYZE source_record, golden_record")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--matching", action="store_true",
                    help="match each record on ingest (default: off, as in an initial load)")
    args = ap.parse_args()
    if not args.matching:
        os.environ["MDM_MATCHING_DISABLED"] = "supplier"

    rnd = random.Random(7)
    batches = [[supplier(i, rnd) for i in range(start, min(start + args.batch, args.records))]
               for start in range(0, args.records, args.batch)]
    with tempfile.TemporaryDirectory() as tmp:
        url = h.fresh_database(args.db, Path(tmp))
        h.mdm(url, "sources", "add", "ERP1", "--name", "Bench ERP", "--kind", "erp")
        key = h.mdm(url, "keys", "create", "--role", "admin").splitlines()[0]
        headers = {"Authorization": f"Bearer {key}"}
        with h.server(url, workers=args.workers) as base:
            import psutil

            gunicorn_pid = [p for p in psutil.Process().children() if "gunicorn" in " ".join(
                p.cmdline())][0].pid
            peak = [0]
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], h.tree_rss(gunicorn_pid))
                    time.sleep(0.2)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            if args.db == "postgresql":
                # Autovacuum is off on this machine's PostgreSQL, so nothing refreshes the
                # planner's statistics while the tables grow from empty, and the look-ups by
                # source key degrade to scanning a whole domain. Do what autovacuum's analyze
                # does in a normal deployment.
                threading.Thread(target=analyze_every, args=(url, 5.0, stop), daemon=True).start()
            counts: dict[str, int] = {}
            session_local = threading.local()

            def send(batch: list[dict]) -> None:
                s = getattr(session_local, "s", None) or requests.Session()
                session_local.s = s
                r = s.post(f"{base}/domains/supplier/records/bulk", headers=headers,
                           json={"source_system": "ERP1", "records": batch}, timeout=300)
                r.raise_for_status()
                for k, v in r.json()["summary"].items():
                    counts[k] = counts.get(k, 0) + v

            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(send, batches))
            elapsed = time.perf_counter() - started
            stop.set()
            sampler.join()
    print(f"db={args.db} records={args.records} batch={args.batch} clients={args.clients} "
          f"gunicorn_workers={args.workers} matching={'on' if args.matching else 'off'}")
    print(f"results: {counts}")
    print(f"elapsed {elapsed:.1f} s   throughput {args.records / elapsed:,.0f} records/s   "
          f"server peak RSS {peak[0] / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
