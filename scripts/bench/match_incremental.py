"""Incremental matching latency: ingest one new supplier against a million golden records.

    .venv/bin/python scripts/bench/match_incremental.py --db postgresql --golden 1000000
    .venv/bin/python scripts/bench/match_incremental.py --db sqlite --golden 100000

Loads GOLDEN synthetic suppliers (one source record per golden record) straight into a
fresh database with bulk inserts, blocking index and prepared feature rows included, then
times single-record ``ingest()`` calls (one transaction each, as the API does): copies of
existing suppliers as another system holds them, near misses and brand-new suppliers.
Prints p50/p95/p99 with matching on, and with matching off for comparison.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import _harness as h  # noqa: E402

COUNTRIES = {"DE": ("GmbH", "AG", "KG"), "FR": ("SARL", "SA", "SAS"), "GB": ("Ltd", "PLC"),
             "IT": ("SpA", "Srl"), "ES": ("SL", "SA"), "NL": ("BV", "NV"), "AT": ("GmbH", "AG"),
             "PL": ("Sp. z o.o.", "SA")}
PHONE_CC = {"DE": "49", "FR": "33", "GB": "44", "IT": "39", "ES": "34", "NL": "31", "AT": "43",
            "PL": "48"}
SYL = ["ka", "lo", "mi", "ne", "ra", "to", "vi", "ber", "stan", "dor", "gel", "hof", "lin",
       "mar", "nor", "par", "sil", "tur", "wal", "zen", "bra", "cor", "fal", "gru", "kre"]
INDUSTRY = ["Logistik", "Maschinenbau", "Trading", "Consulting", "Foods", "Chemie", "Textil",
            "Bau", "Elektro", "Software", "Metall", "Papier", "Transport", "Energie", "Medical",
            "Druck", "Holz", "Glas", "Kunststoff", "Optik", "Services", "Systems", "Partners",
            "Industries", "Technik", "Handel", "Automation", "Pharma", "Verpackung", "Solar"]
STREETS = ["Hauptstraße", "Bahnhofstraße", "Industrieweg", "High Street", "Rue de la Paix",
           "Via Roma", "Calle Mayor", "Kerkstraat", "Ringstraße", "Gartenweg", "Market Road",
           "Avenue Foch", "Parkallee", "Lindenweg", "Mühlenweg", "Schulstraße"]


def brand(rng: random.Random) -> str:
    return "".join(rng.choice(SYL) for _ in range(rng.randint(2, 3))).capitalize()


def supplier(i: int) -> dict[str, Any]:
    rng = random.Random(i)
    country = rng.choice(list(COUNTRIES))
    attrs: dict[str, Any] = {
        "name": f"{brand(rng)} {rng.choice(INDUSTRY)} {rng.choice(COUNTRIES[country])}",
        "country": country, "street": f"{rng.choice(STREETS)} {rng.randint(1, 300)}",
        "postal_code": f"{rng.randint(1000, 99999):05d}", "city": f"{brand(rng)}stadt",
    }
    if rng.random() < 0.5:
        attrs["phone"] = f"+{PHONE_CC[country]} {rng.randint(20, 99)} {rng.randint(10**6, 10**7)}"
    if rng.random() < 0.4:
        attrs["tax_id"] = f"{country}{rng.randint(10**8, 10**9 - 1)}"
    if rng.random() < 0.3:
        attrs["email"] = f"ap@{attrs['name'].split()[0].lower()}{i}.example"
    return attrs


def _prepare(bounds: tuple[int, int]) -> list[tuple[int, dict[str, Any], list[Any], list[str]]]:
    from mdm.matching import DEFAULT_SETTINGS, MatchSettings, Record
    from mdm.matching.index import key_hash, keys_of

    settings = MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"])
    out = []
    for i in range(*bounds):
        attrs = supplier(i)
        prep = settings.prepare(Record(f"sr:{i + 1}", "ERP", attrs))
        hashes = list(dict.fromkeys(key_hash("supplier", k) for k in keys_of(settings, prep)))
        out.append((i + 1, attrs, list(prep.values), hashes))
    return out


def load(url: str, n: int, workers: int) -> None:
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from mdm.db import make_engine, new_id, utcnow
    from mdm.matching import DEFAULT_SETTINGS, MatchSettings
    from mdm.matching.models import MatchBlockingKey, MatchPrepared
    from mdm.records.ingest import content_hash
    from mdm.records.models import GoldenRecord, SourceRecord
    from mdm.sources.models import SourceSystem

    version = MatchSettings.from_dict(DEFAULT_SETTINGS["supplier"]).version
    engine = make_engine(url)
    now = utcnow()
    pg = engine.dialect.name == "postgresql"
    chunk = 20_000
    t0 = time.perf_counter()
    with Session(engine) as s, mp.get_context("fork").Pool(workers) as pool:
        erp = s.scalar(select(SourceSystem.id).where(SourceSystem.code == "ERP"))
        jobs = [(a, min(a + chunk, n)) for a in range(0, n, chunk)]
        for done, rows in enumerate(pool.imap(_prepare, jobs), start=1):
            goldens, sources, prepared, keys = [], [], [], []
            for sr_id, attrs, features, record_keys in rows:
                gid = new_id()
                digest = content_hash(attrs, True)
                goldens.append((gid, "supplier", "active", 1, attrs, {}, "ok", {},
                                attrs["name"].lower(), now, now))
                sources.append((sr_id, "supplier", erp, f"E{sr_id}", gid, attrs, digest, True,
                                "ok", 1, now, now))
                prepared.append((sr_id, "supplier", version, digest, features, record_keys))
                keys.extend((h, sr_id) for h in record_keys)
            tables = [
                (GoldenRecord.__table__, ("id", "domain", "status", "version", "attributes",
                                          "provenance", "quality_status", "overrides",
                                          "search_name", "created_at", "updated_at"), goldens),
                (SourceRecord.__table__, ("id", "domain", "source_system_id", "source_id",
                                          "golden_id", "attributes", "content_hash", "active",
                                          "quality_status", "version", "created_at",
                                          "updated_at"), sources),
                (MatchPrepared.__table__, ("source_record_id", "domain", "settings_version",
                                           "content_hash", "features", "key_hashes"), prepared),
                (MatchBlockingKey.__table__, ("key_hash", "source_record_id"), keys),
            ]
            if pg:
                _copy(s, tables)
            else:
                for table, cols, data in tables:
                    s.execute(insert(table), [dict(zip(cols, row, strict=True)) for row in data])
            s.commit()
            print(f"\rloaded {done * chunk:,} golden records "
                  f"({time.perf_counter() - t0:.0f} s)", end="", file=sys.stderr, flush=True)
        if pg:
            s.execute(select(1))
            s.connection().exec_driver_sql(
                "SELECT setval('source_record_id_seq', (SELECT max(id) FROM source_record))")
            s.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("ANALYZE")  # planner statistics, as autovacuum would gather them
    print(file=sys.stderr)
    engine.dispose()


def _copy(session: Any, tables: list[tuple[Any, tuple[str, ...], list[tuple[Any, ...]]]]) -> None:
    import orjson

    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        for table, cols, data in tables:
            json_cols = {i for i, c in enumerate(cols) if c in (
                "attributes", "provenance", "overrides", "features")}
            with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row([orjson.dumps(v).decode() if i in json_cols
                                    else struct.pack(f"<{len(v)}q", *v) if cols[i] == "key_hashes"
                                    else v for i, v in enumerate(row)])


def variants(n: int, count: int, seed: int = 99) -> list[tuple[str, dict[str, Any]]]:
    """Records to ingest: a copy of an existing supplier, a near miss, or a new supplier.

    Each seed gives other suppliers, so repeated runs against one loaded database
    (``--reuse``) do not find the records an earlier run ingested.
    """
    rng = random.Random(seed)
    out = []
    for k in range(count):
        kind = ("copy", "near", "new")[k % 3]
        if kind == "new":
            attrs = supplier(n + 10_000_000 + 100_000 * seed + k)
        else:
            base = supplier(rng.randrange(n))
            if kind == "copy":
                attrs = {**base, "name": base["name"].upper(),
                         "street": base["street"].replace("straße", "str.")}
            else:  # same name and country only: between the thresholds at most
                attrs = {"name": base["name"], "country": base["country"]}
        out.append((kind, attrs))
    return out


def time_ingests(url: str, n: int, count: int, matching: bool,
                 seed: int = 99) -> dict[str, list[float]]:
    from mdm.app import create_app
    from mdm.config import Config
    from mdm.context import cli_context
    from mdm.db import db
    from mdm.records import linking
    from mdm.records.ingest import IngestItem, ingest

    app = create_app(Config(database_url=url))
    if not matching:
        linking.set_linker_factory(lambda d: linking.NewGoldenLinker())
    registry = app.extensions["mdm_domains"]
    out: dict[str, list[float]] = {}
    actions: dict[str, int] = {}
    with app.app_context():
        prefix = "m" if matching else "x"
        run = int(time.time())
        before = _decision_counts(db.session) if matching else {}
        for k, (kind, attrs) in enumerate(variants(n, count, seed=seed if matching else seed - 1)):
            item = IngestItem(f"{prefix}{k}-{run}", attrs)
            t = time.perf_counter()
            [res] = ingest(db.session, registry, "supplier", "NEW", [item], cli_context())
            elapsed = time.perf_counter() - t
            if k >= 10:  # the first calls warm caches (phone metadata, compiled engine)
                out.setdefault(kind, []).append(elapsed)
                out.setdefault("all", []).append(elapsed)
            assert res.status == "created", res
        if matching:
            after = _decision_counts(db.session)
            actions = {a: c - before.get(a, 0) for a, c in after.items()}
            print(f"decisions: {actions}", file=sys.stderr)
        db.remove_session()
    return out


def _decision_counts(session: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from mdm.matching.models import MatchDecisionRecord

    return dict(session.execute(  # type: ignore[arg-type]
        select(MatchDecisionRecord.action, func.count())
        .group_by(MatchDecisionRecord.action)).all())


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000


def latency(db: str, golden: int, samples: int, seed: int, reuse: str | None = None,
            workers: int = 2) -> list[dict[str, Any]]:
    """p50/p95/p99 (ms) of single-record ingests, matching on and off, by kind of record."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if reuse:
            url = reuse
        else:
            url = h.fresh_database(db, Path(tmp))
            h.mdm(url, "sources", "add", "ERP", "--name", "Bench ERP", "--kind", "erp")
            h.mdm(url, "sources", "add", "NEW", "--name", "New system", "--kind", "other")
            t = time.perf_counter()
            load(url, golden, workers)
            print(f"loaded {golden:,} golden records in {time.perf_counter() - t:.0f} s",
                  file=sys.stderr)
        for matching in (True, False):
            timings = time_ingests(url, golden, samples, matching, seed)
            for kind in ("all", "copy", "near", "new"):
                v = timings[kind]
                rows.append({"db": db, "golden": golden, "matching": matching, "kind": kind,
                             "n": len(v), "p50_ms": pct(v, 50), "p95_ms": pct(v, 95),
                             "p99_ms": pct(v, 99)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    ap.add_argument("--golden", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=600)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=99, help="Which suppliers to ingest; use a "
                    "new seed for each run against a reused database.")
    ap.add_argument("--reuse", metavar="URL", help="Time against a database loaded earlier "
                    "by this script (PostgreSQL) instead of loading a fresh one.")
    args = ap.parse_args()
    for row in latency(args.db, args.golden, args.samples, args.seed, args.reuse, args.workers):
        label = "matching on " if row["matching"] else "matching off"
        print(f"{row['db']} {row['golden']:,} golden, {label}, {row['kind']:5s}: "
              f"n={row['n']:4d} p50 {row['p50_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms  "
              f"p99 {row['p99_ms']:6.1f} ms")


if __name__ == "__main__":
    main()
