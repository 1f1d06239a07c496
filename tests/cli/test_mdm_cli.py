"""The mdm command as an operator runs it: real processes against the test database."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mdm(database_url, clean_db, tmp_path):
    env = {
        **os.environ,
        "MDM_DATABASE_URL": database_url,
        "MDM_LOG_LEVEL": "WARNING",
        "MDM_DOMAINS_PATH": str(Path(__file__).parents[1] / "data" / "domains"),
        # the processes run this checkout's code, whatever is installed
        "PYTHONPATH": str(ROOT),
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "mdm", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    return run


def test_keys_create_use_and_revoke(mdm, client) -> None:
    mdm("sources", "add", "SAP", "--name", "SAP ECC", "--kind", "erp")
    secret = mdm("keys", "create", "--role", "source", "--source", "SAP").stdout.strip()
    assert secret.startswith("mdm_")
    assert client.get("/domains", headers={"X-API-Key": secret}).status_code == 200
    key_id = secret.split("_")[1]
    assert key_id in mdm("keys", "list").stdout
    mdm("keys", "revoke", key_id)
    assert client.get("/domains", headers={"X-API-Key": secret}).status_code == 401
    again = mdm("keys", "revoke", key_id, check=False)
    assert again.returncode == 2 and "already revoked" in again.stderr
    bad = mdm("keys", "create", "--role", "source", check=False)
    assert bad.returncode == 2 and "source system" in bad.stderr
    bad = mdm("keys", "create", "--role", "source", "--source", "NOPE", check=False)
    assert bad.returncode == 2 and "Unknown source system" in bad.stderr


def test_load_csv_reports_bad_rows_and_loads_the_rest(mdm, tmp_path, client) -> None:
    mdm("sources", "add", "COUPA", "--name", "Coupa", "--kind", "procurement")
    path = tmp_path / "suppliers.csv"
    path.write_text(
        "source_id,name,country,tax_id,iban\n"
        "V1,Acme GmbH,DE,DE136695976,DE89370400440532013000\n"
        ",No Id Ltd,GB,,\n"
        'V3,"Multi\nLine AG",CH,,\n'
        "V4,,FR,,\n"
        "V5,Bad Vat GmbH,DE,DE136695977,\n",
        encoding="utf-8",
    )
    proc = mdm("load", "supplier", str(path), "--source", "COUPA", check=False)
    assert proc.returncode == 1, proc.stderr
    assert f"{path}:3: rejected: source_id" in proc.stderr
    assert f"{path}:6: rejected: name" in proc.stderr  # line numbers count the multi-line cell
    assert "5 rows: created 3, rejected 2" in proc.stdout
    again = mdm("load", "supplier", str(path), "--source", "COUPA", check=False)
    assert "unchanged 3" in again.stdout
    out = mdm("export", "crosswalk", "supplier").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["source_id"] for r in rows] == ["V1", "V3", "V5"]
    assert set(rows[0]) >= {"source_system", "source_id", "golden_id"}


def test_load_jsonl_and_unusable_input(mdm, tmp_path) -> None:
    mdm("sources", "add", "SFDC", "--name", "Salesforce", "--kind", "crm")
    path = tmp_path / "customers.jsonl"
    path.write_text(
        json.dumps(
            {"source_id": "C1", "attributes": {"name": "Client One", "credit_limit": "5000"}}
        )
        + "\n{broken\n"
        + json.dumps({"source_id": "C2", "name": "Flat Style Ltd", "segment": "SMB"})
        + "\n",
        encoding="utf-8",
    )
    proc = mdm("load", "customer", str(path), "--source", "SFDC", check=False)
    assert proc.returncode == 1
    assert f"{path}:2: rejected: not JSON" in proc.stderr
    assert "created 2" in proc.stdout
    out = mdm("export", "crosswalk", "customer", "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["source_id"] for line in out] == ["C1", "C2"]
    unknown = mdm("load", "unicorn", str(path), "--source", "SFDC", check=False)
    assert unknown.returncode == 2 and "Unknown domain" in unknown.stderr
    bad_cols = tmp_path / "bad.csv"
    bad_cols.write_text("source_id,colour\n1,red\n")
    proc = mdm("load", "supplier", str(bad_cols), "--source", "SFDC", check=False)
    assert proc.returncode == 2 and "unknown columns colour" in proc.stderr
    proc = mdm("load", "supplier", str(path), "--source", "NOPE", check=False)
    assert proc.returncode == 2 and "Unknown source system" in proc.stderr


def test_db_upgrade_on_a_fresh_sqlite_file(tmp_path) -> None:
    db_file = tmp_path / "fresh.sqlite3"
    env = {
        **os.environ,
        "MDM_DATABASE_URL": f"sqlite:///{db_file}",
        "MDM_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mdm", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert db_file.exists()



LIGHT_APP = """
import json
from mdm.app import create_app
from mdm.contract_registry.bootstrap import hub_openapi
app = create_app(http=False)
before = sorted(r.rule for r in app.url_map.iter_rules())
spec = hub_openapi(app)
after = sorted(r.rule for r in app.url_map.iter_rules())
print(json.dumps({"before": before, "after": after, "spec": spec}))
"""


def test_the_command_line_app_mounts_its_http_side_on_demand(mdm, app, database_url,
                                                             tmp_path) -> None:
    """The command line's app (http=False) registers no views until a command needs the
    OpenAPI document (mdm contracts bootstrap); the document it then builds is the served
    one. Every command, the other rooms' too (imported when used), is still listed and runs."""
    from mdm.cli import ROOM_COMMANDS
    from mdm.contract_registry.bootstrap import hub_openapi

    env = {**os.environ, "MDM_DATABASE_URL": database_url, "MDM_LOG_LEVEL": "WARNING",
           "MDM_DOMAINS_PATH": str(Path(__file__).parents[1] / "data" / "domains"),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", LIGHT_APP], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    light = json.loads(proc.stdout)
    assert light["before"] == ["/static/<path:filename>"]
    assert "/openapi.json" in light["after"]
    assert light["spec"] == json.loads(json.dumps(hub_openapi(app)))

    listed = mdm("--help").stdout
    for name in [*ROOM_COMMANDS, "load", "db", "sources", "keys", "export"]:
        assert f"\n  {name} " in listed
    assert "hierarchy" in mdm("hierarchy", "--help").stdout
    assert "bootstrap" in mdm("contracts", "--help").stdout
    assert "\n  openapi " in listed
    written = tmp_path / "openapi.json"
    mdm("openapi", "write", str(written))
    assert json.loads(written.read_text(encoding="utf-8")) == light["spec"]
