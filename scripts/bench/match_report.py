"""All four matching benchmarks of the matching issue, one table, one run.

    .venv/bin/python scripts/bench/match_report.py                     # the full run
    .venv/bin/python scripts/bench/match_report.py --scale-n 100000 --incremental-golden 100000

1. public: Febrl3 (dedupe) and Febrl4 (link), the ``person`` domain by configuration,
   MDM Hub vs Splink 5 (``match_febrl.py``);
2. suppliers: generated multi-source suppliers with known truth (``match_suppliers.py``);
3. scale: batch deduplication end to end of N generated suppliers (``match_scale.py``);
4. incremental: ingesting one record against N golden records, p50/p95
   (``match_incremental.py``; PostgreSQL by default, ``--reuse URL`` for a database an
   earlier run loaded).

Every figure comes from the run that prints it; thresholds are the settings' own.
Needs the ``bench`` extra (Splink, recordlinkage, psutil).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import match_scale
import match_suppliers
from match_common import print_table, run_isolated
from match_febrl import febrl_rows
from match_incremental import latency

# splink_only_seconds: Splink's own run, without building its input (our normalisation).
COLUMNS = ["benchmark", "engine", "records", "precision", "recall", "f1",
           "overmerge_valid_taxid", "seconds", "splink_only_seconds", "peak_mb", "p50_ms",
           "p95_ms"]


def _scale_rows(n: int, seed: int, skip_splink: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        records = match_scale.write_dataset(n, seed, folder)
        rows = match_scale.run_engines(folder, records, skip_splink)
    return [{"benchmark": f"scale {n:,}", **row} for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suppliers-n", type=int, default=20_000)
    parser.add_argument("--scale-n", type=int, default=1_000_000)
    parser.add_argument("--incremental-golden", type=int, default=1_000_000)
    parser.add_argument("--incremental-samples", type=int, default=600)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql",
                        help="database of the incremental benchmark")
    parser.add_argument("--reuse", metavar="URL",
                        help="incremental: a database match_incremental.py loaded earlier")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["public", "suppliers", "scale", "incremental"])
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # Splink/pandas chatter is not the result
    rows: list[dict[str, Any]] = []

    if "public" not in args.skip:
        # In a child too: forking later runs from a process that has run DuckDB's
        # threads is unsafe.
        public = run_isolated(lambda: {"rows": febrl_rows(args.skip_splink)})
        if "error" in public:
            print(public["error"])
        for row in public.get("rows", []):
            if row["engine"] != "splink (pairwise)":
                size = 5_000 if row["dataset"] == "febrl3" else 10_000
                rows.append({**row, "benchmark": row["dataset"], "records": size})
        print_table(rows, COLUMNS)
    if "suppliers" not in args.skip:
        found = [run_isolated(match_suppliers.run_ours, args.suppliers_n, args.seed)]
        if not args.skip_splink:
            found.append(run_isolated(match_suppliers.run_splink, args.suppliers_n, args.seed))
        rows.extend({"benchmark": f"suppliers {args.suppliers_n:,}", **r} for r in found)
        print_table(rows, COLUMNS)
    if "scale" not in args.skip:
        rows.extend(_scale_rows(args.scale_n, args.seed, args.skip_splink))
        print_table(rows, COLUMNS)
    if "incremental" not in args.skip:
        # A reused database holds earlier runs' ingests: draw new suppliers each time.
        seed = 99 if args.reuse is None else int(time.time()) % 100_000
        for row in latency(args.db, args.incremental_golden, args.incremental_samples, seed,
                           args.reuse):
            if row["kind"] == "all":
                label = "matching on" if row["matching"] else "matching off"
                rows.append({"benchmark": f"incremental {row['golden']:,} ({row['db']})",
                             "engine": f"mdm-hub, {label}", "records": row["n"],
                             "p50_ms": row["p50_ms"], "p95_ms": row["p95_ms"]})

    print("\nMatching benchmarks (pairwise P/R/F1 at the settings' auto-merge threshold)")
    print_table(rows, COLUMNS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
