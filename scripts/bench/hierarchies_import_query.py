"""Finance hierarchies at 100,000 nodes: import + validation, and as-of descendant queries.

    .venv/bin/python scripts/bench/hierarchies_import_query.py --db sqlite
    .venv/bin/python scripts/bench/hierarchies_import_query.py --db postgresql

Loads 100,000 gl_account golden records with bulk inserts (setup, not timed), builds a
parent-child CSV of a 100,000-node chart (root, 10 groups, 100 subgroups, leaf accounts; one
group has exactly 10,000 descendants; 1,000 leaves carry a move planned for next year), then
times:

* import + validation: ``service.import_file`` on the CSV text (parse, one golden lookup,
  bulk insert, every validation rule, commit) -- goal < 10 s;
* re-validation of the stored version (``GET .../validation``);
* the as-of descendants query on the 10,000-descendant group, today and next year, as the
  API runs it: the first query after a change loads the version's links into the worker's
  memory (reported on its own), later ones walk them there -- goal < 100 ms; for comparison,
  the same walk as a recursive CTE in the database;
* the same query over HTTP (Flask test client, JSON serialisation included).

Every figure is wall time and this process's CPU time: on a shared machine, compare the
ratios within one run.

PostgreSQL uses a recreated database (MDM_BENCH_PG_URL, default .../mdm_hier_bench).
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("MDM_BENCH_PG_URL",
                      "postgresql+psycopg://postgres@127.0.0.1:5432/mdm_hier_bench")
import _harness as h  # noqa: E402

CHART = "BENCH"
GROUPS, SUBGROUPS = 10, 10


def build_tree(total: int) -> tuple[list[tuple[str, str | None]], str]:
    """(code, parent) pairs of a ``total``-node tree and the group with 10,000 descendants."""
    edges: list[tuple[str, str | None]] = [("ROOT", None)]
    subgroups = []
    for g in range(GROUPS):
        edges.append((f"G{g}", "ROOT"))
        for s in range(SUBGROUPS):
            subgroups.append(f"G{g}S{s}")
            edges.append((f"G{g}S{s}", f"G{g}"))
    leaves = total - len(edges)
    per, extra = divmod(leaves, len(subgroups))
    # group G0's subgroups get 999 leaves each -> G0 has 10 + 9,990 = 10,000 descendants
    counts = [per + (1 if i < extra else 0) for i in range(len(subgroups))]
    n = 0
    for sub, count in zip(subgroups, counts, strict=True):
        for _ in range(count):
            edges.append((f"{100000 + n}", sub))
            n += 1
    return edges, "G0"


def load_golden(url: str, edges: list[tuple[str, str | None]]) -> None:
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from mdm.db import make_engine, new_id, utcnow
    from mdm.records.models import GoldenRecord

    engine = make_engine(url)
    now = utcnow()
    parents = {p for _, p in edges if p}
    with Session(engine) as s:
        for i in range(0, len(edges), 20_000):
            s.execute(insert(GoldenRecord.__table__), [
                {"id": new_id(), "domain": "gl_account", "status": "active", "version": 1,
                 "attributes": {"chart": CHART, "code": code, "name": f"Account {code}",
                                "account_type": "asset", "posting_allowed": code not in parents},
                 "provenance": {}, "quality_status": "ok", "overrides": {},
                 "search_name": f"account {code}", "created_at": now, "updated_at": now}
                for code, _ in edges[i:i + 20_000]])
            s.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
    engine.dispose()


def csv_text(edges: list[tuple[str, str | None]], moved: int, move_on: date) -> str:
    out = io.StringIO()
    out.write("node,parent,name,valid_from,valid_to\n")
    leaves = [(c, p) for c, p in edges if c[0].isdigit()]
    movers = {c for c, _ in leaves[-moved:]}  # from the last subgroups into G1S0
    day_before = date.fromordinal(move_on.toordinal() - 1).isoformat()
    for code, parent in edges:
        if code in movers:
            out.write(f"{code},{parent},Account {code},,{day_before}\n")
            out.write(f"{code},G1S0,Account {code},{move_on.isoformat()},\n")
        else:
            out.write(f"{code},{parent or ''},Account {code},,\n")
    return out.getvalue()


def timed(fn, repeat: int = 7) -> tuple[float, float, float, object]:  # type: ignore[no-untyped-def]
    """Median and best wall-clock ms, median CPU ms of this process, last result.

    CPU time is printed too because a shared machine inflates wall time; the database
    server's own work (PostgreSQL) is in wall time only."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(times), min(times), statistics.median(cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--moved", type=int, default=1_000)
    args = parser.parse_args()

    from mdm.app import create_app
    from mdm.config import Config
    from mdm.context import cli_context
    from mdm.db import db
    from mdm.hierarchies import engine, queries, service, storage

    with tempfile.TemporaryDirectory() as tmp:
        url = h.fresh_database(args.db, Path(tmp))
        edges, group = build_tree(args.nodes)
        load_golden(url, edges)
        next_year = date(date.today().year + 1, 1, 1)
        text = csv_text(edges, args.moved, next_year)
        print(f"{args.db}: {len(edges):,} nodes, {text.count(chr(10)) - 1:,} rows "
              f"({len(text) / 1e6:.1f} MB CSV), {args.moved:,} moves planned for {next_year}")

        app = create_app(Config(database_url=url, log_level="WARNING"))
        with app.app_context():
            registry = app.extensions["mdm_domains"]
            t0, c0 = time.perf_counter(), time.process_time()
            outcome = service.import_file(db.session, registry, cli_context(), "BENCH", text,
                                          "csv", domain="gl_account", chart=CHART)
            import_s, import_cpu = time.perf_counter() - t0, time.process_time() - c0
            violations = len(outcome.validation.violations)
            print(f"import + validation: {import_s:.2f} s wall, {import_cpu:.2f} s CPU "
                  f"(valid={outcome.validation.valid}, {violations} violations; goal < 10 s)")
            t0, c0 = time.perf_counter(), time.process_time()
            result = service.validate_version(db.session, outcome.hierarchy, 1)
            print(f"re-validation of the stored version: {time.perf_counter() - t0:.2f} s wall, "
                  f"{time.process_time() - c0:.2f} s CPU ({len(result.violations)} violations)")
            if engine_name(db) == "postgresql":
                with db.engine.connect() as c:  # type: ignore[union-attr]
                    c.exec_driver_sql("ANALYZE hierarchy_node")

            vid = outcome.version.id
            for label, at in (("today", date.today()), ("next year", next_year)):
                view = queries.open_view(db.session, "BENCH", 1, at)
                storage.CACHE.clear()
                med, best, cpu, res = timed(
                    lambda v=view: queries.descendants(db.session, v, group), repeat=1)
                print(f"descendants of {group} as of {label}, first query (loads the "
                      f"version's links): {med:.1f} ms, CPU {cpu:.1f} ms")
                med, best, cpu, res = timed(
                    lambda v=view: queries.descendants(db.session, v, group))
                count = res["count"]  # type: ignore[index]
                print(f"descendants of {group} as of {label} (links in memory): median {med:.1f} "
                      f"ms, best {best:.1f} ms, CPU {cpu:.1f} ms, {count:,} nodes; goal < 100 ms")

                def cte_walk(at: date = at) -> int:
                    links = storage.walk_down(db.session, vid, group, at)
                    return len(engine.Snapshot.from_links(links, at).descendants(group))

                med, best, cpu, n = timed(cte_walk, repeat=3)
                print(f"  same walk as a recursive CTE in the database: median {med:.1f} ms, "
                      f"best {best:.1f} ms, CPU {cpu:.1f} ms, {n:,} nodes")
                db.remove_session()

        client = app.test_client()
        with app.app_context():
            from mdm.auth import service as keys

            secret = keys.create_key(db.session, cli_context(), role="reader").secret
        hdr = {"Authorization": f"Bearer {secret}"}
        med, best, cpu, resp = timed(lambda: client.get(
            f"/hierarchies/BENCH/nodes/{group}/descendants?version=1", headers=hdr))
        assert resp.status_code == 200, resp.json  # type: ignore[attr-defined]
        print(f"GET /hierarchies/BENCH/nodes/{group}/descendants over HTTP (test client, JSON "
              f"included): median {med:.1f} ms, best {best:.1f} ms, CPU {cpu:.1f} ms")


def engine_name(database: object) -> str:
    return database.engine.dialect.name  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
