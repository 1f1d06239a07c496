"""One version everywhere: `mdm --version`, `contracts --version`, the API document and the docs
page all say the installed distribution's version, and `mdm --help` is the hub's own."""
from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_VERSION = version("mdm-hub")


def _run(module: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MDM_LOG_LEVEL": "WARNING",
           "MDM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    return subprocess.run([sys.executable, "-m", module, *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_mdm_version_is_the_package_version(tmp_path: Path) -> None:
    proc = _run("mdm", "--version", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"mdm {PACKAGE_VERSION}"


def test_contracts_version_is_the_package_version(tmp_path: Path) -> None:
    proc = _run("contracts.cli", "--version", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"contracts {PACKAGE_VERSION}"


def test_mdm_help_shows_only_the_hubs_options_and_commands(tmp_path: Path) -> None:
    proc = _run("mdm", "--help", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    options = proc.stdout.split("Options:")[1].split("Commands:")[0]
    commands = {line.split()[0] for line in proc.stdout.split("Commands:")[1].splitlines()
                if line.startswith("  ") and line.strip()}
    for flask_option in ("-e", "--env-file", "-A", "--app", "--debug", "--no-debug"):
        assert flask_option not in options.split(), options
    assert {"run", "shell", "routes"}.isdisjoint(commands), commands
    assert {"db", "keys", "load", "worker"} <= commands


def test_api_document_and_docs_page_carry_the_package_version(client: Any) -> None:
    assert client.get("/openapi.json").json["info"]["version"] == PACKAGE_VERSION
    # the docs page renders /openapi.json (its info.version is what Swagger UI shows)
    page = client.get("/docs").get_data(as_text=True)
    assert '"/openapi.json"' in page
