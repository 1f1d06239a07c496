"""``mdm match DOMAIN`` as an operator runs it: progress on stderr, a summary on stdout."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Two systems hold the same two companies; a third record is between the thresholds.
SAP = [{"source_id": "1", "name": "Müller Maschinenbau GmbH", "country": "DE",
        "tax_id": "DE136695976", "street": "Hauptstraße 5", "postal_code": "10115",
        "city": "Berlin"},
       {"source_id": "2", "name": "Schmidt Logistik AG", "country": "DE",
        "street": "Hafenweg 2", "postal_code": "20457", "city": "Hamburg"}]
COUPA = [{"source_id": "C1", "name": "Mueller Maschinenbau GmbH", "country": "DE",
          "tax_id": "DE 136 695 976", "street": "Hauptstr. 5", "postal_code": "10115",
          "city": "Berlin"},
         {"source_id": "C2", "name": "Schmidt Logistik AG", "country": "DE",
          "street": "Hafenweg 2", "postal_code": "20457", "city": "Hamburg",
          "phone": "+49 40 123456"}]


@pytest.fixture
def mdm(database_url, clean_db, tmp_path):
    env = {**os.environ, "MDM_DATABASE_URL": database_url, "MDM_LOG_LEVEL": "WARNING",
           "MDM_MATCHING_DISABLED": "supplier", "PYTHONPATH": str(ROOT)}

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "mdm", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == code, proc.stderr
        return proc

    return run


def write(path: Path, rows: list[dict[str, str]]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_match_prints_progress_and_a_summary(mdm, tmp_path) -> None:
    for code, rows in (("SAP", SAP), ("COUPA", COUPA)):
        mdm("sources", "add", code, "--name", code, "--kind", "erp")
        mdm("load", "supplier", write(tmp_path / f"{code}.jsonl", rows), "--source", code)

    proc = mdm("match", "supplier", "--no-train", "--workers", "1")

    # not a terminal: plain progress lines, no carriage returns
    assert "apply merges: 2/2 (100%)" in proc.stderr and "\r" not in proc.stderr
    summary = proc.stdout.splitlines()
    assert summary[-3].startswith("supplier: 4 records in ") and "records/s" in summary[-3]
    assert summary[-2].startswith("merges 2 (") and "/s), not merged 0" in summary[-2]
    assert "splits 0 applied, 0 held" in summary[-2]
    assert "decisions stored 2" in summary[-2]
    assert summary[-1].startswith("time: match ") and "re-indexed 4 records" in summary[-1]

    again = json.loads(mdm("match", "supplier", "--no-train", "--json", "--quiet").stdout)
    assert again["merges"] == [] and again["applied"]["merged"] == 0


def test_match_of_an_unknown_domain_is_one_line_and_exit_2(mdm) -> None:
    proc = mdm("match", "nonesuch", code=2)
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr
