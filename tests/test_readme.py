"""The README can be pasted: its ```bash blocks run in order, in one shell, from the top of
a checkout, against a live server that `scripts/serve` starts on a fresh SQLite database.

Every block must succeed command by command (the shell runs with ``set -eo pipefail``).
Blocks are found generically, so sections added later are held to the same rule. Three
adjustments, none of them to what a block says: the run happens in a scratch folder that
links the checkout's ``.venv`` and ``scripts`` (so ``./data`` is fresh), the server's and
the demo receiver's ports (8000, 8099) become free ones, and blocks that start processes
this test already runs are not run again (SKIPPED, with the reason).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)
# a block whose first command is one of these is not run, for the reason given
SKIPPED = {
    "scripts/serve": "starts the server, which this test has started the same way",
    "scripts/test": "runs the test suite, of which this test is part",
    ".ci/run": "runs CI, of which this test is part",
    "gunicorn": "starts a second server beside the one this test runs",
    ".venv/bin/gunicorn": "starts a second server beside the one this test runs",
}
LIVENESS = 300.0  # seconds before the server counts as hung (it installs, then migrates)

pytestmark = pytest.mark.slow


def bash_blocks(text: str) -> list[str]:
    return [m.group(1) for m in BLOCK.finditer(text)]


def first_command(block: str) -> str:
    for line in block.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line.split()[0]
    return ""


def skip_reason(block: str) -> str | None:
    return SKIPPED.get(first_command(block))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readme_blocks_are_found() -> None:
    blocks = bash_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    assert skip_reason(blocks[0]) is not None  # scripts/serve: the server this test starts
    assert any("jq -r .golden_id" in b for b in blocks)  # ids are captured, not made up


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A scratch top-level folder: the checkout's .venv and scripts, a fresh ./data."""
    work = tmp_path / "clone"
    work.mkdir()
    for name in (".venv", "scripts"):
        (work / name).symlink_to(ROOT / name)
    return work


@pytest.fixture
def server(clone: Path, tmp_path: Path) -> tuple[int, dict[str, str]]:
    """`scripts/serve` as a new user runs it, its ./data being the scratch folder's."""
    port = free_port()
    env = {**os.environ, "MDM_DATA_DIR": str(clone / "data"), "MDM_PORT": str(port),
           "MDM_LOG_LEVEL": "WARNING"}
    for name in ("MDM_DATABASE_URL", "MDM_ALLOWED_TARGETS", "MDM_FILE_DROP_ROOT",
                 "PROMETHEUS_MULTIPROC_DIR", "MDM_DOMAINS_PATH"):
        env.pop(name, None)  # as a new user's shell: nothing but what the README says
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(ROOT / "scripts" / "serve")], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + LIVENESS
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "scripts/serve did not start"
                time.sleep(0.3)
        yield port, env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()


@pytest.mark.skipif(not (shutil.which("jq") and shutil.which("curl")),
                    reason="the README's blocks use curl and jq")
def test_readme_blocks_run_in_order(server: tuple[int, dict[str, str]], clone: Path,
                                    tmp_path: Path) -> None:
    port, env = server
    receiver_port = free_port()
    work = clone
    script = ["set -eo pipefail"]
    ran: list[int] = []
    for n, block in enumerate(bash_blocks(README.read_text(encoding="utf-8"))):
        if skip_reason(block):
            continue
        block = (block.replace("localhost:8000", f"localhost:{port}")
                 .replace("127.0.0.1:8000", f"127.0.0.1:{port}")
                 .replace("8099", str(receiver_port)))
        path = tmp_path / f"block{n}.sh"
        path.write_text(block, encoding="utf-8")
        script += [f"echo '=== README block {n}' >&2", f"source {path}"]
        ran.append(n)
    script.append("echo '=== README done' >&2")
    shell_env = {k: v for k, v in env.items() if k not in ("MDM_DATA_DIR", "MDM_PORT")}
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=shell_env,
                          capture_output=True, text=True, timeout=900,
                          start_new_session=True)
    output = proc.stderr[-6000:] + "\n--- stdout\n" + proc.stdout[-4000:]
    started = re.findall(r"=== README block (\d+)", proc.stderr)
    assert proc.returncode == 0, f"README block {started[-1] if started else '?'} failed:\n" \
                                 f"{output}"
    assert [int(n) for n in started] == ran and "=== README done" in proc.stderr, output
    # what the blocks say happened did happen
    receiver_log = (work / "receiver.log").read_text(encoding="utf-8")
    assert "merged" in receiver_log and '"5001"' in receiver_log, receiver_log
    assert (work / "grp-mgmt.csv").read_text(encoding="utf-8").startswith("node,parent")
