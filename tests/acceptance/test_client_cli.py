"""The `conveyor` user commands as a user runs them: real CLI subprocesses against the real system.

One shared system for the module; each CLI call is a fresh process with its own config dir (the token file).
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.client import Client
from tests.acceptance.counting_proxy import CountingProxy
from tests.acceptance.harness import ADMIN, MAX_BATCH_RUNS, ConveyorSystem
from tests.acceptance.processes import free_port
from tests.acceptance.shared import SharedSystems

pytestmark = pytest.mark.acceptance


@dataclass
class Cli:
    config: Path
    url: str

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEYOR_")}
        return {**env, "CONVEYOR_CONFIG_DIR": str(self.config), "CONVEYOR_RETRIES": "2", **extra}

    def __call__(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env or self.env(),
            timeout=120,
        )

    def json(self, *args: str, expect: int = 0, stdin: str | None = None) -> Any:
        done = self(*args, "--json", stdin=stdin)
        assert done.returncode == expect, f"`conveyor {' '.join(args)}` exited {done.returncode}: {done.stderr}"
        assert done.stdout.strip(), f"`conveyor {' '.join(args)}` printed nothing: {done.stderr}"
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def cli(shared_system: SharedSystems, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """Signed in with `conveyor login URL` (the password on stdin, as a script would) to the shared system."""
    system = (
        shared_system.get()
    )  # it runs on, unrestarted, until this module's tests are done (tests/acceptance/shared.py)
    cli = Cli(config=tmp_path_factory.mktemp("conveyor-config"), url=system.base_url)
    out = cli.json("login", cli.url, "--username", ADMIN, "--password-stdin", stdin=system.admin_password)
    assert out["username"] == ADMIN
    return cli


def test_login_keeps_the_token_private_and_logout_forgets_it(cli: Cli, tmp_path: Path) -> None:
    saved = cli.config / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text())["url"] == cli.url
    # A second config dir: sign in with an environment token instead, then out again.
    other = Cli(config=tmp_path / "other", url=cli.url)
    token = json.loads(saved.read_text())["token"]
    done = other("login", "--json", env=other.env(CONVEYOR_URL=cli.url, CONVEYOR_TOKEN=token))
    assert done.returncode == 0, done.stderr
    assert other.json("logout") == {"signed_out": True}
    assert not (other.config / "credentials.json").exists()
    assert other("runs", "list").returncode == 2  # not signed in: usage


def test_submit_wait_follow_and_the_exit_codes(cli: Cli, system: ConveyorSystem) -> None:
    hello = system.create_pipeline([{"type": "log", "message": "hello"}, {"type": "log", "message": "done"}])
    failing = system.create_pipeline([{"type": "fail", "message": "nope"}])

    run = cli.json("runs", "submit", hello["name"], "-p", "day=2026-11-22", "-p", "n=3", "--wait")
    assert (run["status"], run["params"]) == ("SUCCEEDED", {"day": "2026-11-22", "n": 3})

    lines = [json.loads(line) for line in cli("runs", "logs", run["id"], "-f", "--json").stdout.splitlines()]
    assert [line["message"] for line in lines if line["message"] in ("hello", "done")] == ["hello", "done"]
    assert [line["n"] for line in lines] == list(range(1, len(lines) + 1))

    failed = cli("runs", "submit", failing["name"], "--follow", "--json")
    assert failed.returncode == 1, failed.stderr
    assert json.loads(failed.stdout.splitlines()[-1])["status"] == "FAILED"

    assert cli.json("runs", "show", run["id"])["id"] == run["id"]
    listed = cli.json("runs", "list", "--pipeline", hello["id"], "--limit", "5")
    assert [r["id"] for r in listed] == [run["id"]]
    assert cli("runs", "show", "0190a8f0-0000-7000-8000-000000000001").returncode == 2  # 404: the request was wrong
    assert cli("runs", "submit").returncode == 2  # argparse usage
    gone = f"http://127.0.0.1:{free_port()}"
    down = cli("runs", "list", env=cli.env(CONVEYOR_URL=gone, CONVEYOR_TOKEN="x", CONVEYOR_RETRIES="1"))
    assert down.returncode == 3, down.stderr


def test_submit_batch_twice_submits_each_run_once(cli: Cli, system: ConveyorSystem, tmp_path: Path) -> None:
    pipeline = system.create_pipeline([{"type": "log", "message": "batched"}])
    runs = tmp_path / "runs.jsonl"
    runs.write_text("".join(json.dumps({"pipeline": pipeline["id"], "params": {"i": i}}) + "\n" for i in range(500)))

    first = cli.json("runs", "submit-batch", str(runs), "--chunk-size", str(MAX_BATCH_RUNS))
    assert (first["submitted"], first["chunks"]) == (500, 500 // MAX_BATCH_RUNS)
    # Rerun (as after a crash), this time from stdin: every chunk replays, nothing is submitted twice.
    again = cli.json("runs", "submit-batch", "-", "--chunk-size", str(MAX_BATCH_RUNS), stdin=runs.read_text())
    assert again["run_ids"] == first["run_ids"]
    with Client(system.base_url, system.http.headers["Authorization"].removeprefix("Bearer ")) as client:
        stored = list(client.iter_runs(pipeline=pipeline["id"], limit=500))
    assert len(stored) == 500
    assert sorted(r["params"]["i"] for r in stored) == list(range(500))

    # --wait watches a batch finish, and says which runs did not succeed (exit 1).
    failing = system.create_pipeline([{"type": "fail", "message": "nope"}])
    small = tmp_path / "small.jsonl"
    small.write_text(json.dumps({"pipeline": pipeline["id"]}) + "\n" + json.dumps({"pipeline": failing["id"]}) + "\n")
    watched = cli.json("runs", "submit-batch", str(small), "--wait", expect=1)
    assert watched["submitted"] == 2
    assert watched["failed"] == [watched["run_ids"][1]]


def test_on_a_terminal_lists_are_tables(cli: Cli, system: ConveyorSystem) -> None:
    pipeline = system.create_pipeline([{"type": "log", "message": "shown"}])
    run_id = system.submit(pipeline["id"])["id"]
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "app", "runs", "list", "--pipeline", pipeline["id"]],
            stdout=secondary,
            stderr=subprocess.PIPE,
            env={**cli.env(), "COLUMNS": "200"},
            timeout=60,
        )
        os.close(secondary)
        shown = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(primary, 65536):
                shown += chunk
    finally:
        os.close(primary)
    assert done.returncode == 0, done.stderr
    text = re.sub(r"\x1b\[[0-9;]*m", "", shown.decode())  # without the colours
    assert "┃ status" in text  # a rich table's header, not JSON
    assert run_id in text


def test_an_interrupted_upload_resumes_then_imports(cli: Cli, system: ConveyorSystem, tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    data.write_text("day,amount\n" + "".join(f"2026-11-{1 + i % 28:02d},{i}\n" for i in range(4000)))
    chunk = 8192
    assert data.stat().st_size > 4 * chunk

    # An upload stopped (Ctrl-C) after two chunks, remembered in the CLI's config dir.
    def interrupt(sent: int, total: int, resumed: bool) -> None:
        if sent >= 2 * chunk:
            raise KeyboardInterrupt

    token = json.loads((cli.config / "credentials.json").read_text())["token"]
    with Client(cli.url, token) as client, pytest.raises(KeyboardInterrupt):
        client.upload_file(data, chunk_size=chunk, state_dir=cli.config / "uploads", on_progress=interrupt)
    assert len(list((cli.config / "uploads").iterdir())) == 1

    dataset = cli.json("datasets", "upload", str(data), "--chunk-size", str(chunk), "--import", "--wait")
    assert (dataset["resumed"], dataset["status"], dataset["row_count"]) == (True, "ready", 4000)
    assert list((cli.config / "uploads").iterdir()) == []

    rows = cli.json("datasets", "rows", dataset["id"], "--limit", "3")
    assert (rows["total"], rows["rows"][0][1]) == (4000, 0)
    preview = cli.json("datasets", "preview", dataset["id"], "--rows", "2")
    assert [c["name"] for c in preview["columns"]] == ["day", "amount"]
    out = tmp_path / "back.csv"
    saved = cli.json("datasets", "download", dataset["id"], "-o", str(out))
    assert saved["path"] == str(out)
    assert out.read_text().splitlines()[0].replace('"', "") == "day,amount"
    assert len(out.read_text().splitlines()) == 4001


def test_a_killed_upload_resumes_sending_only_the_missing_chunks(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "big.csv"
    data.write_text("day,amount\n" + "".join(f"2026-11-{1 + i % 28:02d},{i:09d}\n" for i in range(150_000)))
    size, chunk = data.stat().st_size, 32 * 1024
    token = json.loads((cli.config / "credentials.json").read_text())["token"]
    auth = {"Authorization": f"Bearer {token}"}

    # `conveyor datasets upload` killed (SIGKILL: no clean-up at all) once the server holds part of the file.
    command = [sys.executable, "-m", "app", "datasets", "upload", str(data), "--chunk-size", str(chunk), "--json"]
    process = subprocess.Popen(command, env=cli.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    received = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            states = list((cli.config / "uploads").glob("*.json")) if (cli.config / "uploads").exists() else []
            if states:
                upload_id = json.loads(states[0].read_text())["upload_id"]
                received = httpx.get(f"{cli.url}/api/v1/uploads/{upload_id}", headers=auth).json()["received"]
                if received >= 3 * chunk:
                    break
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, "the upload finished before it could be killed"
    before = httpx.get(f"{cli.url}/api/v1/uploads/{upload_id}", headers=auth).json()
    assert 0 < before["received"] < size

    # The same command again resumes: through a counting proxy, only the missing bytes travel.
    with CountingProxy(cli.url) as proxy:
        done = cli(
            "datasets", "upload", str(data), "--chunk-size", str(chunk), "--json", env=cli.env(CONVEYOR_URL=proxy.url)
        )
    assert done.returncode == 0, done.stderr
    dataset = json.loads(done.stdout)
    assert dataset["resumed"] is True
    assert proxy.put_bytes == size - before["received"]
    assert list((cli.config / "uploads").iterdir()) == []
