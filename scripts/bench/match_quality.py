"""Matching quality through the product, on both generators, beside Splink.

    .venv/bin/python scripts/bench/match_quality.py --n 3000
    .venv/bin/python scripts/bench/match_quality.py --n 3000 --db sqlite --skip-splink

For each generator (``gen_suppliers`` and the independently written
``gen_suppliers_adversarial``), with identifiers and without them (tax id, IBAN,
D-U-N-S and LEI dropped from every record):

1. incremental: a fresh, migrated database; the records arrive one at a time in a
   shuffled order (seeded) through the ingest service with matching on, as the API's
   ``PUT`` would send them, starting from an empty hub with untrained parameters;
2. batch: then ``mdm match supplier`` (the same service call: train, merge, split,
   open review tasks) on that database;
3. Splink 5 on the same records (our normalised columns, ``match_suppliers`` glue).

Reported per stage: pairwise and B-cubed precision, recall and F1 of the golden
records against the generator's truth; ``fp_pairs`` (pairs of different entities in
one golden record); ``overmerge_valid_taxid`` (such pairs whose records carry valid,
different tax ids in the generated data, identifiers dropped or not); open review
tasks; seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import _harness as h  # noqa: E402
import gen_suppliers  # noqa: E402
import gen_suppliers_adversarial  # noqa: E402
from match_common import pairs_of, prf, print_table, run_isolated  # noqa: E402

GENERATORS = {"gen_suppliers": (gen_suppliers.generate, gen_suppliers.SOURCES),
              "gen_suppliers_adversarial": (gen_suppliers_adversarial.generate,
                                            gen_suppliers_adversarial.SOURCES)}
IDENTIFIERS = ("tax_id", "iban", "duns", "lei")


def dataset(generator: str, n: int, seed: int, identifiers: bool) -> list[dict[str, Any]]:
    """Records in arrival order, each with its truth and its tax id as generated."""
    generate, _ = GENERATORS[generator]
    out = []
    for k, r in enumerate(generate(n, seed)):
        attrs = dict(r["attrs"])
        tax = (attrs.get("tax_id"), attrs.get("country"))
        if not identifiers:
            attrs = {a: v for a, v in attrs.items() if a not in IDENTIFIERS}
        out.append({"key": f"r{k}", "source": r["source_system"], "entity": r["entity"],
                    "attrs": attrs, "tax": tax})
    random.Random(seed).shuffle(out)
    return out


def bcubed(clusters: Iterable[list[str]], entity: dict[str, str]) -> dict[str, float]:
    """B-cubed precision/recall/F1: per record, the share of its cluster that is its
    entity, and the share of its entity that is in its cluster; averaged over records."""
    size: dict[str, int] = defaultdict(int)
    for e in entity.values():
        size[e] += 1
    p_sum = r_sum = 0.0
    n = 0
    for members in clusters:
        counts: dict[str, int] = defaultdict(int)
        for m in members:
            counts[entity[m]] += 1
        for m in members:
            same = counts[entity[m]]
            p_sum += same / len(members)
            r_sum += same / size[entity[m]]
            n += 1
    p, r = p_sum / n, r_sum / n
    return {"b3_precision": p, "b3_recall": r, "b3_f1": 2 * p * r / (p + r) if p + r else 0.0}


def score(clusters: list[list[str]], records: list[dict[str, Any]]) -> dict[str, Any]:
    from mdm.matching.normalize import normalize_country, normalize_tax_id

    entity = {r["key"]: r["entity"] for r in records}
    truth: dict[str, list[str]] = defaultdict(list)
    for key, e in entity.items():
        truth[e].append(key)
    predicted = pairs_of(clusters)
    out: dict[str, Any] = {**prf(predicted, pairs_of(truth.values())),
                           **bcubed(clusters, entity)}
    tax = {}
    for r in records:
        value, country = r["tax"]
        t = normalize_tax_id(value, normalize_country(country))
        tax[r["key"]] = (t.value, t.valid)
    wrong = [tuple(p) for p in predicted if entity[min(p)] != entity[max(p)]]
    out["fp_pairs"] = len(wrong)
    out["overmerge_valid_taxid"] = sum(
        1 for a, b in wrong if tax[a][1] and tax[b][1] and tax[a][0] != tax[b][0])
    return out


def _golden_clusters(session: Any, records: list[dict[str, Any]]) -> list[list[str]]:
    from sqlalchemy import select

    from mdm.records.models import SourceRecord

    wanted = {r["key"] for r in records}
    members: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(select(SourceRecord.source_id, SourceRecord.golden_id)
                           .where(SourceRecord.domain == "supplier",
                                  SourceRecord.active.is_(True)))
    for source_id, golden_id in rows:
        if source_id in wanted:
            members[golden_id].append(source_id)
    return list(members.values())


def _open_tasks(session: Any) -> int:
    from sqlalchemy import func, select

    from mdm.stewardship.models import OPEN, ReviewTask

    return int(session.scalar(select(func.count()).select_from(ReviewTask)
                              .where(ReviewTask.domain == "supplier",
                                     ReviewTask.status == OPEN)) or 0)


def _print_wrong(stage: str, clusters: list[list[str]], records: list[dict[str, Any]]) -> None:
    """Golden records holding several entities, with their records (``--show-wrong``)."""
    by_key = {r["key"]: r for r in records}
    for members in clusters:
        if len({by_key[k]["entity"] for k in members}) > 1:
            print(f"{stage}: one golden record, {len(members)} records:", file=sys.stderr)
            for k in members:
                r = by_key[k]
                print(f"    {r['entity']} {r['source']} {r['attrs']}", file=sys.stderr)


def run_hub(url: str, records: list[dict[str, Any]], show_wrong: bool = False) -> dict[str, Any]:
    """Incremental ingest from empty, then ``mdm match supplier``; both scored."""
    from mdm.app import create_app
    from mdm.config import Config
    from mdm.context import cli_context
    from mdm.db import db
    from mdm.matching import service
    from mdm.records.ingest import IngestItem, ingest

    app = create_app(Config(database_url=url))
    registry = app.extensions["mdm_domains"]
    out: dict[str, Any] = {}
    with app.app_context():
        started = time.perf_counter()
        for r in records:
            [res] = ingest(db.session, registry, "supplier", r["source"],
                           [IngestItem(r["key"], r["attrs"])], cli_context())
            if res.status not in ("created", "updated", "unchanged"):
                raise RuntimeError(f"ingest of {r['key']} failed: {res}")
        clusters = _golden_clusters(db.session, records)
        if show_wrong:
            _print_wrong("incremental", clusters, records)
        out["incremental"] = {**score(clusters, records),
                              "open_review_tasks": _open_tasks(db.session),
                              "seconds": time.perf_counter() - started}
        started = time.perf_counter()
        service.rematch(db.session, registry, cli_context(), "supplier", workers=2)
        db.session.commit()
        clusters = _golden_clusters(db.session, records)
        if show_wrong:
            _print_wrong("batch", clusters, records)
        out["batch"] = {**score(clusters, records),
                        "open_review_tasks": _open_tasks(db.session),
                        "seconds": time.perf_counter() - started}
        db.remove_session()
    return out


def run_splink(records: list[dict[str, Any]]) -> dict[str, Any]:
    from match_suppliers import splink_clusters, splink_frame

    from mdm.matching import DEFAULT_SETTINGS, MatchSettings, Record

    settings = MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"])
    started = time.perf_counter()
    frame = splink_frame((Record(r["key"], r["source"], r["attrs"]) for r in records), settings)
    clusters = splink_clusters(frame)
    members: dict[Any, list[str]] = defaultdict(list)
    for key, cluster in clusters.itertuples(index=False, name=None):
        members[cluster].append(key)
    return {**score(list(members.values()), records),
            "seconds": time.perf_counter() - started}


def configuration(generator: str, identifiers: bool, args: argparse.Namespace,
                  workdir: Path) -> list[dict[str, Any]]:
    records = dataset(generator, args.n, args.seed, identifiers)
    label = {"generator": generator, "identifiers": identifiers, "records": len(records)}
    folder = workdir / f"{generator}-{identifiers}"
    folder.mkdir()
    url = h.fresh_database(args.db, folder)
    for code in GENERATORS[generator][1]:
        h.mdm(url, "sources", "add", code, "--name", code, "--kind", "erp")
    hub = run_isolated(run_hub, url, records, args.show_wrong)
    rows = []
    if "error" in hub:
        print(hub["error"], file=sys.stderr)
        rows.append({**label, "stage": "hub", "error": hub["error"].splitlines()[-1]})
    else:
        rows += [{**label, "stage": stage, **hub[stage]} for stage in ("incremental", "batch")]
    if not args.skip_splink:
        splink = run_isolated(run_splink, records)
        if "error" in splink:
            rows.append({**label, "stage": "splink",
                         "error": splink["error"].splitlines()[-1]})
        else:
            rows.append({**label, "stage": "splink", **splink})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="records per generator")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql",
                        help="PostgreSQL: the database in MDM_BENCH_PG_URL, recreated")
    parser.add_argument("--generator", choices=sorted(GENERATORS), action="append")
    parser.add_argument("--identifiers", choices=["with", "without"], action="append")
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--show-wrong", action="store_true",
                        help="print every golden record that holds several entities")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for generator in args.generator or sorted(GENERATORS):
            for ids in args.identifiers or ["with", "without"]:
                rows += configuration(generator, ids == "with", args, Path(tmp))
                print_table(rows[-3:], COLUMNS)
    print()
    print_table(rows, COLUMNS)
    return 0


COLUMNS = ["generator", "identifiers", "stage", "records", "precision", "recall", "f1",
           "b3_precision", "b3_recall", "b3_f1", "fp_pairs", "overmerge_valid_taxid",
           "open_review_tasks", "seconds", "error"]


if __name__ == "__main__":
    raise SystemExit(main())
