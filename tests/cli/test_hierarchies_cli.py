"""``mdm hierarchy import/export`` as a newcomer runs them, on the sample chart of accounts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).parents[2] / "scripts" / "sample" / "chart_of_accounts.csv"


@pytest.fixture
def mdm(app, clean_db):
    # in-process (Flask's CLI runner): the same commands as the console script, without
    # paying an interpreter start per call
    runner = app.test_cli_runner()

    def run(*args: str) -> Any:
        result = runner.invoke(args=list(args))
        result.returncode = result.exit_code
        return result

    return run


def test_import_then_export_the_sample_chart(mdm, client, make_key, tmp_path) -> None:
    assert mdm("sources", "add", "SAP", "--name", "SAP", "--kind", "erp").returncode == 0
    assert mdm("load", "gl_account", str(SAMPLE), "--source", "SAP").returncode == 0

    missing = mdm("hierarchy", "import", "GRP-MGMT", str(SAMPLE), "--domain", "gl_account")
    assert missing.returncode == 2 and "chart" in missing.stderr
    done = mdm("hierarchy", "import", "GRP-MGMT", str(SAMPLE), "--domain", "gl_account",
               "--chart", "GRP", "--kind", "management")
    assert done.returncode == 0, done.stderr
    assert "version 1 (draft) with 20 nodes" in done.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text("node,parent,valid_from\nBS,,\n1000,BS,tomorrow\n9999,BS,\n", encoding="utf-8")
    refused = mdm("hierarchy", "import", "GRP-MGMT", str(bad))
    assert refused.returncode == 2 and "line 3" in refused.stderr
    bad.write_text("node,parent\nBS,\n9999,BS\n", encoding="utf-8")
    invalid = mdm("hierarchy", "import", "GRP-MGMT", str(bad))
    assert invalid.returncode == 1 and "bad.csv:3: golden_record: 9999" in invalid.stderr

    unpublished = mdm("hierarchy", "export", "GRP-MGMT", "--version", "1")
    assert unpublished.returncode == 2 and "only the published" in unpublished.stderr
    author, second = make_key("steward"), make_key("steward")
    client.post("/hierarchies/GRP-MGMT/versions/1/submit", headers=author, json={})
    client.post("/hierarchies/GRP-MGMT/versions/1/approve", headers=second, json={})
    client.post("/hierarchies/GRP-MGMT/versions/1/publish", headers=second, json={})

    out = mdm("hierarchy", "export", "GRP-MGMT")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "node,parent,name,valid_from,valid_to,ownership_pct" and len(lines) == 21
    as_json = mdm("hierarchy", "export", "GRP-MGMT", "--format", "json", "--as-of", "2030-01-01")
    assert json.loads(as_json.stdout)["as_of"] == "2030-01-01"
    assert mdm("hierarchy", "export", "NOPE").returncode == 2
