"""Scale benchmark: batch dedup of N generated suppliers, MDM Hub engine vs Splink.

    .venv/bin/python scripts/bench/match_scale.py --n 100000
    .venv/bin/python scripts/bench/match_scale.py --n 1000000     # the 1M run

Each engine runs in its own forked process (data generated inside it, not timed) so
wall time and peak memory (ru_maxrss of the process plus its worker children) are its
own. Our time is end to end: normalise, block, train, score, cluster. Splink is fed
our normalised columns; its time is shown with and without that normalisation.
"""

from __future__ import annotations

import argparse
import warnings

from match_common import print_table, run_isolated
from match_suppliers import run_ours, run_splink


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-splink", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rows = [run_isolated(run_ours, args.n, args.seed)]
    if not args.skip_splink:
        rows.append(run_isolated(run_splink, args.n, args.seed))
    for row in rows:
        if "error" in row:
            print(row["error"])
    print_table(rows, ["engine", "records", "precision", "recall", "f1",
                       "overmerge_group", "overmerge_valid_taxid", "seconds",
                       "splink_only_seconds", "peak_rss_mb"])
    for row in rows:
        if "stage_seconds" in row:
            print(f"{row['engine']} stages: {row['stage_seconds']}, "
                  f"pairs scored: {row['pairs_scored']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
