"""An ``mdm`` command leaves no SQLite write-ahead log behind: it closes its connections, so
the log is checkpointed into the database file and removed."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_command_checkpoints_and_removes_the_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "own.sqlite3"  # not the test session's database: nothing else opens it
    env = {**os.environ, "MDM_DATABASE_URL": f"sqlite:///{path}", "MDM_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT)}
    for args in (["db", "upgrade"], ["sources", "add", "ERP", "--name", "ERP", "--kind", "erp"]):
        proc = subprocess.run([sys.executable, "-m", "mdm", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["own.sqlite3"]
    # the source written through the log is in the database file itself
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT code FROM source_system").fetchall() == [("ERP",)]
