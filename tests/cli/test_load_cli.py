"""``mdm load`` as an operator runs it: file formats, bad rows, the summary, match modes."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = "source_id,name,country,tax_id,iban"


@pytest.fixture
def mdm(database_url, clean_db, tmp_path):
    env = {
        **os.environ,
        "MDM_DATABASE_URL": database_url,
        "MDM_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("MDM_MATCHING_DISABLED", None)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "mdm", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    run("sources", "add", "ERP", "--name", "ERP", "--kind", "erp")
    return run


def crosswalk(mdm) -> dict[str, str]:
    out = mdm("export", "crosswalk", "supplier").stdout
    return {r["source_id"]: r["golden_id"] for r in csv.DictReader(io.StringIO(out))}


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_a_non_utf8_file_is_one_line_and_loads_with_its_encoding(mdm, tmp_path) -> None:
    path = tmp_path / "cp1252.csv"
    path.write_bytes(f"{HEADER}\nV1,Müller Stahl GmbH,DE,,\n".encode("cp1252"))
    proc = mdm("load", "supplier", str(path), "--source", "ERP", check=False)
    assert_one_line_error(proc, str(path), "not valid utf-8", "0xfc", "line 2", "--encoding")
    assert crosswalk(mdm) == {}  # nothing was written

    proc = mdm("load", "supplier", str(path), "--source", "ERP", "--encoding", "cp1252")
    assert "1 rows: created 1" in proc.stdout
    assert list(crosswalk(mdm)) == ["V1"]

    unknown = mdm("load", "supplier", str(path), "--source", "ERP", "--encoding", "klingon",
                  check=False)
    assert_one_line_error(unknown, "unknown encoding 'klingon'")


def test_a_binary_file_is_one_line(mdm, tmp_path) -> None:
    path = tmp_path / "logo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    proc = mdm("load", "supplier", str(path), "--source", "ERP", check=False)
    assert_one_line_error(proc, str(path))
    assert "binary" in proc.stderr or "not valid utf-8" in proc.stderr
    nul_only = tmp_path / "zeros.jsonl"
    nul_only.write_bytes(b"\x00" * 64)  # valid UTF-8, still not text
    proc = mdm("load", "supplier", str(nul_only), "--source", "ERP", check=False)
    assert_one_line_error(proc, str(nul_only), "binary", "offset 0")


def test_semicolon_csv_is_recognised_or_named(mdm, tmp_path) -> None:
    path = tmp_path / "sap_export.csv"
    path.write_text(
        "source_id;name;country;iban\n"
        "V1;Acme GmbH;DE;DE89370400440532013000\n"
        'V2;"Smith; Sons Ltd";GB;\n',
        encoding="utf-8",
    )
    proc = mdm("load", "supplier", str(path), "--source", "ERP")
    assert "2 rows: created 2" in proc.stdout
    proc = mdm("load", "supplier", str(path), "--source", "ERP", "--delimiter", ";")
    assert "2 rows: unchanged 2" in proc.stdout
    assert list(crosswalk(mdm)) == ["V1", "V2"]
    wrong = mdm("load", "supplier", str(path), "--source", "ERP", "--delimiter", ",",
                check=False)
    assert_one_line_error(wrong, "needs a 'source_id' column")


def test_rows_with_more_cells_than_the_header_are_bad_rows(mdm, tmp_path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        f"{HEADER}\n"
        "V1,Acme GmbH,DE,,\n"
        "V2,Beta AG,CH,,,surplus\n"
        "V3,Gamma SA,FR,,\n"
        "V4,Delta BV,NL,,,\n",
        encoding="utf-8",
    )
    proc = mdm("load", "supplier", str(path), "--source", "ERP", check=False)
    assert proc.returncode == 1
    assert f"{path}:3: rejected: 6 cells, but the header has 5 columns" in proc.stderr
    assert f"{path}:5: rejected: 6 cells" in proc.stderr
    assert "4 rows: created 2, rejected 2" in proc.stdout
    assert sorted(crosswalk(mdm)) == ["V1", "V3"]


def test_summary_counts_findings_by_rule_and_country_codes_are_upper_case(
    mdm, tmp_path, client, admin
) -> None:
    path = tmp_path / "findings.csv"
    path.write_text(
        f"{HEADER}\n"
        "V1,Acme GmbH,de,DE136695977,DE00370400440532013000\n"
        "V2,Beta GmbH,XX,,DE00370400440532013001\n",
        encoding="utf-8",
    )
    proc = mdm("load", "supplier", str(path), "--source", "ERP")
    assert "2 rows: created 2" in proc.stdout
    assert (
        "quality findings stored and flagged: 4 "
        "(country.iso3166 1, iban.invalid 2, tax_id.invalid 1)" in proc.stdout
    ), proc.stdout
    golden = crosswalk(mdm)["V1"]
    body = client.get(f"/golden/{golden}", headers=admin).get_json()
    assert body["attributes"]["country"] == "DE"
    assert body["quality_status"] == "error"

    clean = tmp_path / "clean.csv"
    clean.write_text(f"{HEADER}\nV9,Clean Ltd,gb,,\n", encoding="utf-8")
    proc = mdm("load", "supplier", str(clean), "--source", "ERP")
    assert "quality findings: none" in proc.stdout


def test_match_modes(mdm, tmp_path) -> None:
    path = tmp_path / "dupes.csv"
    path.write_text(
        f"{HEADER}\n"
        "V1,Acme Industrial GmbH,DE,DE136695976,DE89370400440532013000\n"
        "V2,ACME Industrial GmbH,DE,DE 136 695 976,DE89370400440532013000\n"
        "V3,Zeta Logistics Ltd,GB,,\n",
        encoding="utf-8",
    )
    off = mdm("load", "supplier", str(path), "--source", "ERP", "--match", "off")
    assert "matching: not run (--match off" in off.stdout
    ids = crosswalk(mdm)
    assert len(set(ids.values())) == 3  # nothing matched yet

    mdm("match", "supplier", "--quiet")  # what the summary told us to run
    ids = crosswalk(mdm)
    assert ids["V1"] == ids["V2"] != ids["V3"]

    other = tmp_path / "second.csv"
    other.write_text(
        f"{HEADER}\nW1,Acme Industrial GmbH,DE,DE136695976,DE89370400440532013000\n",
        encoding="utf-8",
    )
    # a small file into a domain that holds more: matched as it loads
    auto = mdm("load", "supplier", str(other), "--source", "ERP")
    assert "matching (incremental): 1 records joined a golden record" in auto.stdout
    ids = crosswalk(mdm)
    assert ids["W1"] == ids["V1"]

    batch = mdm("load", "supplier", str(path), "--source", "ERP", "--match", "batch")
    # nothing new in the file: no batch match to run
    assert "3 rows: unchanged 3" in batch.stdout


def test_batch_mode_matches_a_first_load(mdm, tmp_path) -> None:
    path = tmp_path / "first.csv"
    path.write_text(
        f"{HEADER}\n"
        "V1,Acme Industrial GmbH,DE,DE136695976,DE89370400440532013000\n"
        "V2,ACME Industrial GmbH,DE,DE 136 695 976,DE89370400440532013000\n"
        "V3,Zeta Logistics Ltd,GB,,\n",
        encoding="utf-8",
    )
    proc = mdm("load", "supplier", str(path), "--source", "ERP", "--match", "batch")
    assert "3 rows: created 3" in proc.stdout
    assert "matching (batch): 1 merges, 0 splits" in proc.stdout, proc.stdout
    ids = crosswalk(mdm)
    assert ids["V1"] == ids["V2"] != ids["V3"]
