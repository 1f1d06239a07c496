"""Publication benchmark: a scheduled full snapshot of N suppliers (default 1,000,000) to a
file drop, with SAP's own ids from the crosswalk. Prints the time and the process's peak
memory during the run (the file is streamed, so memory stays flat as N grows).

    .venv/bin/python scripts/bench/publication_snapshot.py --n 1000000 --format csv

The suppliers are bulk-inserted straight into a fresh SQLite database (setup is not timed);
--database-url uses another (scratch!) database instead.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil
from sqlalchemy import insert, select

from mdm.context import cli_context
from mdm.db import db, new_id, utcnow
from mdm.publication import service
from mdm.records.models import GoldenRecord, SourceRecord
from mdm.sources import service as sources
from mdm.sources.models import SourceSystem


def populate(n: int) -> None:
    session = db.session
    sources.register(session, cli_context("bench"), code="SAP", name="SAP", kind="erp")
    sap = session.scalar(select(SourceSystem.id).where(SourceSystem.code == "SAP"))
    now = utcnow()
    batch = 20_000
    for start in range(0, n, batch):
        goldens, srcs = [], []
        for i in range(start, min(start + batch, n)):
            gid = new_id()
            attrs = {"name": f"Supplier {i:07d} GmbH", "street": f"Hauptstrasse {i % 200}",
                     "postal_code": f"{10000 + i % 89999}", "city": "Berlin", "country": "DE",
                     "currency": "EUR", "payment_terms": "NET30"}
            goldens.append({"id": gid, "domain": "supplier", "status": "active", "version": 1,
                            "attributes": attrs, "provenance": {}, "quality_status": "ok",
                            "overrides": {}, "search_name": attrs["name"].lower(),
                            "created_at": now, "updated_at": now, "merged_into": None})
            srcs.append({"domain": "supplier", "source_system_id": sap, "source_id": f"V{i}",
                         "golden_id": gid, "attributes": attrs, "content_hash": "x",
                         "active": True, "quality_status": "ok", "version": 1,
                         "created_at": now, "updated_at": now})
        session.execute(insert(GoldenRecord), goldens)
        session.execute(insert(SourceRecord), srcs)
        session.commit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()

    from publication_throughput import fresh_app  # same folder: the shared set-up

    tmp = Path(tempfile.mkdtemp(prefix="mdm-bench-"))
    os.environ["MDM_FILE_DROP_ROOT"] = str(tmp)  # the drop folder below
    app = fresh_app(args.database_url or f"sqlite:///{tmp}/bench.sqlite3")
    out = tmp / "drop"
    with app.app_context():
        t0 = time.perf_counter()
        populate(args.n)
        print(f"setup: {args.n:,} suppliers with SAP ids in {time.perf_counter() - t0:.1f}s")
        ctx = cli_context("bench")
        sub, _ = service.create(db.session, ctx, app.extensions["mdm_domains"], {
            "name": "erp-nightly", "domains": ["supplier"], "channel": "file",
            "target_system": "SAP", "trigger": "schedule", "schedule": "0 2 * * *",
            "channel_config": {"directory": str(out), "format": args.format}})
        db.remove_session()

        proc = psutil.Process()
        base = proc.memory_info().rss
        peak = [base]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0, c0 = time.perf_counter(), time.process_time()
        run = service.run_now(db.new_session, ctx, app.extensions["mdm_domains"], sub.id,
                              "snapshot")
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        stop.set()
        sampler.join()
    data_file = out / run.files[0]
    print(f"snapshot ({args.format}): {run.record_count:,} records in {elapsed:.1f}s "
          f"(CPU {cpu:.1f}s) "
          f"({run.record_count / elapsed:,.0f} records/s), "
          f"file {data_file.stat().st_size / 1e6:,.0f} MB; RSS before {base / 1e6:.0f} MB, "
          f"peak {peak[0] / 1e6:.0f} MB (+{(peak[0] - base) / 1e6:.0f} MB); run {run.status}")


if __name__ == "__main__":
    main()
