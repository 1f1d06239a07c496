"""Supplier benchmark on generated multi-source data with known truth.

    .venv/bin/python scripts/bench/match_suppliers.py --n 20000 [--splink]

Reports pairwise precision/recall/F1 of the auto-merged clusters, and over-merges:
pairs of *different* legal entities put in one cluster, split into "same group"
(brand shared across countries/siblings) and "both valid, different tax ids".
The engine runs with the shipped default supplier settings, unchanged.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from gen_suppliers import generate
from gen_suppliers_adversarial import generate as generate_adversarial
from match_common import pairs_of, prf, print_table

from mdm.matching import DEFAULT_SETTINGS, MatchSettings, ModelParams, Record, match_batch

# ``--no-identifiers`` drops these: what is left is name, address and contact data.
IDENTIFIERS = ("tax_id", "iban", "duns", "lei")


GENERATORS = {"gen_suppliers": generate, "adversarial": generate_adversarial}


def load(n: int, seed: int, *, identifiers: bool = True, generator: str = "gen_suppliers",
         ) -> tuple[list[Record], dict[str, str], dict[str, str]]:
    records, entity, group = [], {}, {}
    for r in GENERATORS[generator](n, seed):
        attrs = r["attrs"] if identifiers else {
            k: v for k, v in r["attrs"].items() if k not in IDENTIFIERS}
        records.append(Record(r["id"], r["source_system"], attrs))
        entity[r["id"]] = r["entity"]
        group[r["id"]] = r["group"]
    return records, entity, group


def truth_pairs(entity: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for rid, e in entity.items():
        members[e].append(rid)
    return pairs_of(members.values())


def over_merges(predicted: set[frozenset[str]], entity: dict[str, str], group: dict[str, str],
                tax: dict[str, tuple[str | None, bool]]) -> dict[str, int]:
    wrong = [p for p in predicted if len({entity[x] for x in p}) > 1]
    same_group = sum(1 for p in wrong if len({group[x] for x in p}) == 1)
    valid_diff = 0
    for p in wrong:
        a, b = (tax[x] for x in p)
        if a[1] and b[1] and a[0] != b[0]:
            valid_diff += 1
    return {"overmerge_group": same_group, "overmerge_valid_taxid": valid_diff}


def run_ours(n: int, seed: int, workers: int = 2, *, trained: bool = True,
             identifiers: bool = True, generator: str = "gen_suppliers") -> dict[str, Any]:
    """``trained=False`` scores with the untrained defaults, as a fresh hub does."""
    records, entity, group = load(n, seed, identifiers=identifiers, generator=generator)
    settings = MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"])
    params = None if trained else ModelParams.defaults(settings)
    t = time.perf_counter()
    result, _ = match_batch(records, settings, params, workers=workers)
    seconds = time.perf_counter() - t
    predicted = pairs_of(result.clusters)
    pos = settings.schema.positions
    tax = {}
    wrong_ids = {x for p in predicted for x in p}
    # Different valid tax ids count as generated, also where --no-identifiers dropped them.
    generated = records if identifiers else load(n, seed, generator=generator)[0]
    for r in generated:
        if r.id in wrong_ids:
            row = settings.prepare(r).values
            tax[r.id] = (row[pos["tax_id"]], bool(row[pos["tax_id.valid"]]))
    engine = "mdm-hub" if trained else "mdm-hub (defaults)"
    return {"engine": engine, "records": len(records),
            **prf(predicted, truth_pairs(entity)),
            **over_merges(predicted, entity, group, tax), "seconds": seconds,
            "review_groups": result.stats["review_groups"],
            "stage_seconds": result.stats["timings_s"],
            "pairs_scored": result.stats["pairs_scored"]}


def splink_frame(records: Iterable[Record], settings: MatchSettings) -> Any:
    """Our normalised features, plus the derived blocking keys, as a pandas frame."""
    import pandas as pd

    names = [k.replace(".", "_") for k in settings.schema.names]
    rows = []
    for r in records:
        row = dict(zip(names, settings.prepare(r).values, strict=True))
        name, street = row["name"] or "", row["street"] or ""
        row["unique_id"] = r.id
        row["name_first"] = name.split(" ", 1)[0] or None
        row["name_prefix3"] = name[:3] or None
        row["street_longest"] = max(street.split(), key=len) if street else None
        row["tax_id_valid"] = bool(row["tax_id_valid"])
        row["iban_valid"] = bool(row["iban_valid"])
        rows.append(row)
    return pd.DataFrame(rows)


def splink_clusters(frame: Any, threshold: float = 0.99) -> Any:
    """Splink 5 (DuckDB) on a ``splink_frame``: (unique_id, cluster_id) as pandas."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    sdf = DuckDBAPI().register(frame)
    # Splink has no windowing of huge blocks, so the broad name rules of our settings
    # (country + first word) would explode; exact name and name+postcode keep it
    # tractable at 1M records.
    blocking = [
        block_on("tax_id"), block_on("country", "name"),
        block_on("name_first", "postcode"), block_on("postcode", "name_prefix3"),
        block_on("postcode", "street_longest"), block_on("phone"), block_on("iban"),
        block_on("duns"), block_on("country", "website"),
    ]
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.92, 0.85, 0.7]),
            cl.ExactMatch("name_legal_form"),
            cl.LevenshteinAtThresholds("tax_id", [1]),
            cl.JaroWinklerAtThresholds("street", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.JaroWinklerAtThresholds("city", [0.9]),
            cl.LevenshteinAtThresholds("phone", [1]),
            cl.ExactMatch("email_domain"),
            cl.ExactMatch("website"),
            cl.LevenshteinAtThresholds("iban", [1]),
            cl.ExactMatch("duns"),
        ],
    )
    linker = Linker(sdf, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("tax_id"), block_on("name", "postcode", "street")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    # The same identifier blocks the hub trains m on.
    for rule in (block_on("tax_id"), block_on("phone"), block_on("iban")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.8)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    return clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]


def run_splink(n: int, seed: int, threshold: float = 0.99) -> dict[str, Any]:
    """Splink (DuckDB) on the same records, given our normalised columns."""
    records, entity, group = load(n, seed)
    ours = MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"])
    t = time.perf_counter()
    frame = splink_frame(records, ours)
    normalise_seconds = time.perf_counter() - t
    del records
    t = time.perf_counter()
    cl_df = splink_clusters(frame, threshold)
    seconds = time.perf_counter() - t
    predicted = pairs_of(cl_df.groupby("cluster_id")["unique_id"].apply(list))
    tax = {
        rid: (tid, bool(valid)) for rid, tid, valid in
        zip(frame["unique_id"], frame["tax_id"], frame["tax_id_valid"], strict=True)
    }
    return {"engine": "splink", "records": len(frame), **prf(predicted, truth_pairs(entity)),
            **over_merges(predicted, entity, group, tax),
            "seconds": seconds + normalise_seconds, "splink_only_seconds": seconds,
            "normalise_seconds": normalise_seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--splink", action="store_true", help="also run Splink")
    parser.add_argument("--untrained", action="store_true",
                        help="also score with the untrained default parameters")
    parser.add_argument("--generator", choices=sorted(GENERATORS), default="gen_suppliers",
                        help="which generator's records (the engine only; --splink reads "
                             "gen_suppliers)")
    parser.add_argument("--no-identifiers", action="store_true",
                        help=f"drop {', '.join(IDENTIFIERS)} from every record")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    ids = not args.no_identifiers
    rows = [run_ours(args.n, args.seed, identifiers=ids, generator=args.generator)]
    if args.untrained:
        rows.append(run_ours(args.n, args.seed, trained=False, identifiers=ids,
                             generator=args.generator))
    if args.splink:
        rows.append(run_splink(args.n, args.seed))
    print_table(rows, ["engine", "records", "precision", "recall", "f1", "fp", "fn",
                       "overmerge_group", "overmerge_valid_taxid", "review_groups", "seconds"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
