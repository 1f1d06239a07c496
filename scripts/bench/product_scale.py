"""Product path at scale: ``mdm load`` + ``mdm match`` + ``mdm export crosswalk`` on N suppliers.

    .venv/bin/python scripts/bench/product_scale.py --n 20000
    .venv/bin/python scripts/bench/product_scale.py --n 100000 --db sqlite,postgresql
    .venv/bin/python scripts/bench/product_scale.py --n 1000000 --skip-splink --incremental 0

What a user runs, each step a separate ``mdm`` process, on a fresh database per backend:

1. ``mdm load supplier <SYSTEM>.csv --source <SYSTEM>`` for the generator's four source
   systems (``--load-match off``, the default, defers matching as an initial load does;
   ``--load-match auto`` runs the first-load default of ``mdm load``, ``--load-match
   incremental`` matches every record as it loads);
2. ``mdm match supplier`` (only after ``--load-match off``: the others matched already);
3. ``mdm export crosswalk supplier`` to a file;
4. the incremental-on load rate: ``mdm load --match incremental`` of ``--incremental``
   new records into the domain the steps above built.

Per step: wall time, records/s and the peak memory of the process tree (summed PSS,
sampled five times a second). ``records_per_s`` is the wall rate: records over the wall
time of the step's ``mdm`` processes, start-up included (about 1.5 s per process, which
dominates a small incremental load). For the load steps ``loop_records_per_s`` is the
rate ``mdm load`` reports itself ("in X s, N records/s": its loading loop, without
process start-up), summed over the step's files. Then the database size per source
record and pairwise precision/recall/F1 of the exported crosswalk against the
generator's truth. Beside it, on the same records in the same run, the pure engine
(``match_batch``) and Splink 5 (``match_scale.run_engines``), so the product/engine
ratio is visible.

PostgreSQL uses ``MDM_BENCH_PG_URL`` (a database this script drops and re-creates).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import _harness as h
import match_scale
from gen_suppliers import SOURCES, generate
from match_common import TreeMemory, print_table

COLUMNS = ["source_id", "name", "street", "postal_code", "city", "country", "tax_id", "phone",
           "email", "website", "iban", "bic", "currency", "payment_terms", "duns"]


def write_source_files(folder: Path, records: Path, prefix: str = "") -> dict[str, Path]:
    """One CSV per source system, as each system would export its suppliers."""
    files = {s: folder / f"{prefix}{s}.csv" for s in SOURCES}
    handles = {s: p.open("w", encoding="utf-8", newline="") for s, p in files.items()}
    writers = {s: csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
               for s, f in handles.items()}
    for w in writers.values():
        w.writeheader()
    with records.open(encoding="utf-8") as lines:
        for line in lines:
            r = json.loads(line)
            row = {k: v for k, v in r["attrs"].items() if v is not None}
            row["source_id"] = f"{prefix}{r['id']}"
            writers[r["source_system"]].writerow(row)
    for f in handles.values():
        f.close()
    return {s: p for s, p in files.items() if p.stat().st_size > len(",".join(COLUMNS)) + 2}


def run_step(url: str, *args: str, stdout: Path | None = None) -> dict[str, Any]:
    """One ``mdm`` process: wall seconds, peak PSS of its tree, its last output lines."""
    env = {**os.environ, "MDM_DATABASE_URL": url, "MDM_LOG_LEVEL": "WARNING"}
    env.pop("MDM_MATCHING_DISABLED", None)
    out = stdout.open("w", encoding="utf-8") if stdout else subprocess.PIPE
    started = time.perf_counter()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "mdm", *args], env=env, cwd=h.ROOT,
                                stdout=out, stderr=subprocess.PIPE, text=True)
        with TreeMemory(proc.pid) as memory:
            text, err = proc.communicate()
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):  # 1: some rows rejected, still a finished load
        raise RuntimeError(f"mdm {' '.join(args)} failed ({proc.returncode}): {err[-2000:]}")
    return {"seconds": seconds, "peak_mb": memory.peak_mb, "stdout": text or ""}


_ROWS = re.compile(r"^([0-9,]+) rows:", re.MULTILINE)
_LOOP = re.compile(r"^in ([0-9.]+) s, ([0-9,]+) records/s", re.MULTILINE)


def loop_seconds(stdout: str) -> float:
    """The seconds of ``mdm load``'s own loop, from its summary ("N rows: ..." and "in X s,
    R records/s"): N / R, which keeps more digits than X (printed to 0.1 s) on a small file."""
    rows, loop = _ROWS.search(stdout), _LOOP.search(stdout)
    if rows is None or loop is None:
        raise RuntimeError(f"no 'N rows' / 'in X s, R records/s' summary in mdm load's "
                           f"output: {stdout!r}")
    n, rate = int(rows.group(1).replace(",", "")), int(loop.group(2).replace(",", ""))
    return n / rate if rate else float(loop.group(1))


def database_bytes(url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CHECKPOINT")
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def analyze(url: str) -> None:
    """PostgreSQL: refresh planner statistics as autovacuum would (it is off here)."""
    if url.startswith("postgresql"):
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("ANALYZE")


def product_run(kind: str, folder: Path, files: dict[str, Path], n: int, load_match: str,
                extra: dict[str, Path], extra_n: int) -> list[dict[str, Any]]:
    work = folder / kind
    work.mkdir(exist_ok=True)
    url = h.fresh_database(kind, work)
    for system in SOURCES:
        h.mdm(url, "sources", "add", system, "--name", system, "--kind", "erp")
    rows: list[dict[str, Any]] = []
    load = {"engine": f"product-{kind}", "step": f"load (--match {load_match})", "records": n,
            "seconds": 0.0, "loop_seconds": 0.0, "peak_mb": 0.0}
    for system, path in files.items():
        step = run_step(url, "load", "supplier", str(path), "--source", system, "--match",
                        load_match, "--quiet")
        load["seconds"] += step["seconds"]
        load["loop_seconds"] += loop_seconds(step["stdout"])
        load["peak_mb"] = max(load["peak_mb"], step["peak_mb"])
        print(f"  {kind} load {system}: {step['seconds']:.1f} s | "
              + " | ".join(step["stdout"].strip().splitlines()), flush=True)
    rows.append(load)
    analyze(url)
    if load_match == "off":
        step = run_step(url, "match", "supplier", "--quiet")
        rows.append({"engine": f"product-{kind}", "step": "match", "records": n,
                     "seconds": step["seconds"], "peak_mb": step["peak_mb"]})
        print(f"  {kind} match: {step['seconds']:.1f} s | {step['stdout'].strip()[-300:]}",
              flush=True)
    exported = work / "export.csv"
    step = run_step(url, "export", "crosswalk", "supplier", stdout=exported)
    rows.append({"engine": f"product-{kind}", "step": "export crosswalk", "records": n,
                 "seconds": step["seconds"], "peak_mb": step["peak_mb"]})
    size = database_bytes(url)
    crosswalk = work / "crosswalk.csv"
    with exported.open(encoding="utf-8") as src, crosswalk.open("w", encoding="utf-8",
                                                                newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["record_id", "cluster_id"])
        for r in csv.DictReader(src):
            writer.writerow([r["source_id"], r["golden_id"]])
    quality = match_scale.evaluate(folder, crosswalk)
    total = {"engine": f"product-{kind}", "step": "load+match+export", "records": n,
             "seconds": sum(r["seconds"] for r in rows),
             "peak_mb": max(r["peak_mb"] for r in rows),
             "db_bytes_per_record": round(size / n), **quality}
    rows.append(total)
    if extra_n:
        analyze(url)
        inc = {"engine": f"product-{kind}", "step": f"incremental load into {n}",
               "records": extra_n, "seconds": 0.0, "loop_seconds": 0.0, "peak_mb": 0.0}
        for system, path in extra.items():
            step = run_step(url, "load", "supplier", str(path), "--source", system, "--match",
                            "incremental", "--quiet")
            inc["seconds"] += step["seconds"]
            inc["loop_seconds"] += loop_seconds(step["stdout"])
            inc["peak_mb"] = max(inc["peak_mb"], step["peak_mb"])
        rows.append(inc)
    for r in rows:
        r["records_per_s"] = r["records"] / r["seconds"] if r["seconds"] else None
        if r.get("loop_seconds"):
            r["loop_records_per_s"] = r["records"] / r["loop_seconds"]
            print(f"  {kind} {r['step']}: {r['records']} records, mdm load's own loop "
                  f"{r['loop_seconds']:.1f} s = {r['loop_records_per_s']:,.0f} records/s; "
                  f"wall {r['seconds']:.1f} s (process start-up included) = "
                  f"{r['records_per_s']:,.0f} records/s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--load-match", choices=["off", "auto", "incremental"], default="off",
                        help="off: load, then mdm match; auto: mdm load's first-load default; "
                        "incremental: every file matched record by record as it loads")
    parser.add_argument("--incremental", type=int, default=2_000,
                        help="new records loaded with incremental matching afterwards (0: skip)")
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--skip-engine", action="store_true", help="no pure-engine run either")
    parser.add_argument("--workdir", help="keep files here (default: a temporary folder)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.workdir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        records = match_scale.write_dataset(args.n, args.seed, folder)
        files = write_source_files(folder, records)
        extra: dict[str, Path] = {}
        extra_n = 0
        if args.incremental:
            inc_folder = folder / "incremental"
            inc_folder.mkdir(exist_ok=True)
            inc_records = inc_folder / "records.jsonl"
            with inc_records.open("w", encoding="utf-8") as out:
                for r in generate(args.incremental, args.seed + 1):
                    out.write(json.dumps({"id": r["id"], "source_system": r["source_system"],
                                          "attrs": r["attrs"]}, ensure_ascii=False) + "\n")
                    extra_n += 1
            extra = write_source_files(inc_folder, inc_records, prefix="INC-")
        print(f"generated {args.n} records in {time.perf_counter() - t:.0f} s", flush=True)
        rows: list[dict[str, Any]] = []
        for kind in kinds:
            rows += product_run(kind, folder, files, args.n, args.load_match, extra, extra_n)
        if not args.skip_engine:
            for r in match_scale.run_engines(folder, records, args.skip_splink):
                r["step"] = "batch match (in memory)"
                r["records_per_s"] = r["records"] / r["seconds"]
                rows.append(r)
    engine = next((r for r in rows if r["engine"] == "mdm-hub"), None)
    if engine:
        for r in rows:
            if r.get("step") == "load+match+export":
                r["product/engine"] = r["seconds"] / engine["seconds"]
    print("records_per_s: wall rate (process start-up included); loop_records_per_s: the rate "
          "mdm load reports for its own loop (load steps only)")
    print_table(rows, ["engine", "step", "records", "seconds", "records_per_s",
                       "loop_records_per_s", "peak_mb",
                       "db_bytes_per_record", "precision", "recall", "f1", "product/engine"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
