"""Scale benchmark: batch deduplication of N generated suppliers, MDM Hub vs Splink 5.

    .venv/bin/python scripts/bench/match_scale.py --n 100000
    .venv/bin/python scripts/bench/match_scale.py --n 1000000     # the 1M run

The records are generated once into a JSONL file (not timed). Each engine then runs in
its own forked process, end to end on that file:

* load: read and parse the JSONL file;
* normalise: the hub's finance-aware normalisation (Splink is given the same
  normalised columns, so both compare like with like);
* block, train (m/u/prior, unsupervised), score, cluster;
* persist the crosswalk: one ``record id, cluster id`` line per record, written to a
  CSV file.

The hub streams the file through ``match_batch`` (two worker processes); Splink
builds a pandas frame and runs on DuckDB. Memory is the peak of the summed PSS of the
engine's process tree, sampled five times a second (``peak_mb``: shared copy-on-write
pages counted once); ``peak_rss_mb`` is the cruder own + largest-child peak RSS.
Quality is measured afterwards, in this process, from the crosswalk files and the
generator's truth: pairwise precision, recall and F1 of the clusters, and merges of
different legal entities (same group; both with valid, different tax ids).
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from gen_suppliers import generate
from match_common import pairs_of, prf, print_table, run_isolated
from match_suppliers import splink_clusters, splink_frame

from mdm.matching import DEFAULT_SETTINGS, MatchSettings, Record, match_batch
from mdm.matching.normalize import normalize_country, normalize_tax_id


def write_dataset(n: int, seed: int, folder: Path) -> Path:
    """records.jsonl (what the engines read) and truth.tsv (what the evaluation reads)."""
    records = folder / "records.jsonl"
    with records.open("w", encoding="utf-8") as out, \
            (folder / "truth.tsv").open("w", encoding="utf-8") as truth:
        for r in generate(n, seed):
            out.write(json.dumps({"id": r["id"], "source_system": r["source_system"],
                                  "attrs": r["attrs"]}, ensure_ascii=False) + "\n")
            truth.write(f"{r['id']}\t{r['entity']}\t{r['group']}\n")
    return records


def read_records(path: Path) -> Iterator[Record]:
    with path.open("rb") as lines:
        for line in lines:
            data = orjson.loads(line)
            yield Record(data["id"], data["source_system"], data["attrs"])


def write_crosswalk(path: Path, clusters: Iterator[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["record_id", "cluster_id"])
        writer.writerows(clusters)


def run_ours(records: Path, crosswalk: Path, workers: int = 2) -> dict[str, Any]:
    settings = MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"])
    started = time.perf_counter()
    result, _ = match_batch(read_records(records), settings, workers=workers)
    t = time.perf_counter()
    write_crosswalk(crosswalk, ((rid, members[0]) for members in result.clusters
                                for rid in members))
    persist = time.perf_counter() - t
    stages = dict(result.stats["timings_s"])
    stages["persist"] = round(persist, 3)
    return {"engine": "mdm-hub", "seconds": time.perf_counter() - started,
            "stage_seconds": stages, "pairs_scored": result.stats["pairs_scored"]}


def run_splink(records: Path, crosswalk: Path, threshold: float = 0.99) -> dict[str, Any]:
    """Splink 5 (DuckDB) on the same records, fed our normalised columns."""
    ours = MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"])
    started = time.perf_counter()
    frame = splink_frame(read_records(records), ours)
    prepared = time.perf_counter() - started
    cl_df = splink_clusters(frame, threshold)
    t = time.perf_counter()
    write_crosswalk(crosswalk, cl_df.itertuples(index=False, name=None))
    persist = time.perf_counter() - t
    seconds = time.perf_counter() - started
    return {"engine": "splink", "seconds": seconds, "splink_only_seconds": seconds - prepared,
            "stage_seconds": {"load+normalise": round(prepared, 3),
                              "persist": round(persist, 3)}}


def evaluate(folder: Path, crosswalk: Path) -> dict[str, Any]:
    entity, group = {}, {}
    with (folder / "truth.tsv").open(encoding="utf-8") as lines:
        for line in lines:
            rid, e, g = line.rstrip("\n").split("\t")
            entity[rid], group[rid] = e, g
    members: dict[str, list[str]] = defaultdict(list)
    with crosswalk.open(encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader, None)  # the header
        for rid, cluster in reader:
            members[cluster].append(rid)
    predicted = pairs_of(members.values())
    truth: dict[str, list[str]] = defaultdict(list)
    for rid, e in entity.items():
        truth[e].append(rid)
    out: dict[str, Any] = {"records": len(entity), **prf(predicted, pairs_of(truth.values()))}
    wrong = [tuple(p) for p in predicted if len({entity[x] for x in p}) > 1]
    involved = {x for p in wrong for x in p}
    tax: dict[str, tuple[str | None, bool]] = {}
    for r in read_records(folder / "records.jsonl"):
        if r.id in involved:
            t = normalize_tax_id(r.attrs.get("tax_id"), normalize_country(r.attrs.get("country")))
            tax[r.id] = (t.value, t.valid)
    out["overmerge_group"] = sum(1 for a, b in wrong if group[a] == group[b])
    out["overmerge_valid_taxid"] = sum(
        1 for a, b in wrong if tax[a][1] and tax[b][1] and tax[a][0] != tax[b][0])
    return out


def run_engines(folder: Path, records: Path, skip_splink: bool) -> list[dict[str, Any]]:
    """Each engine in its own process on ``records``, scored against the truth."""
    engines = [("mdm-hub", run_ours)]
    if not skip_splink:
        engines.append(("splink", run_splink))
    rows = []
    for name, fn in engines:
        crosswalk = folder / f"crosswalk-{name}.csv"
        row = run_isolated(fn, records, crosswalk)
        if "error" in row:
            print(row["error"])
            continue
        row.update(evaluate(folder, crosswalk))
        rows.append(row)
        print(f"{name}: {row['seconds']:.1f} s, stages {row['stage_seconds']}", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", help="keep the dataset and crosswalks here (a dataset "
                        "of the same --n and --seed found there is reused)")
    parser.add_argument("--skip-splink", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.workdir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = folder / "dataset.txt"
        records = folder / "records.jsonl"
        if args.workdir and stamp.exists() and stamp.read_text() == f"{args.n} {args.seed}":
            print(f"reusing the {args.n} records in {folder}", flush=True)
        else:
            t = time.perf_counter()
            records = write_dataset(args.n, args.seed, folder)
            stamp.write_text(f"{args.n} {args.seed}")
            print(f"generated {args.n} records in {time.perf_counter() - t:.0f} s "
                  f"({records.stat().st_size / 2**20:.0f} MB JSONL)", flush=True)
        rows = run_engines(folder, records, args.skip_splink)
    print_table(rows, ["engine", "records", "precision", "recall", "f1", "fp", "fn",
                       "overmerge_group", "overmerge_valid_taxid", "seconds",
                       "splink_only_seconds", "peak_mb", "peak_rss_mb"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
