"""The README's commands, run as written: every ```sh block, in order, in one bash session, against a real system.

A block not meant to run (`make run` itself) starts with the SKIP marker. The README reads
the API's address from `$CONVEYOR` and the admin's password from `$CONVEYOR_ADMIN_PASSWORD`,
which this test sets to the system it started; `conveyor` resolves to this environment's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.harness import REPO_ROOT, ConveyorSystem

pytestmark = pytest.mark.acceptance

#: The first line of a README block that the test must not run.
SKIP = "# readme-test: skip"
#: Strict bash: any failing command, unset variable or failing pipe stage ends the walkthrough with an error.
PROLOGUE = "set -euo pipefail\nshopt -s inherit_errexit\n"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def readme_blocks(text: str) -> list[str]:
    """The ```sh blocks of a Markdown text that are meant to run, in order."""
    return [block for block in SH_BLOCK.findall(text) if not block.lstrip().startswith(SKIP)]


def test_the_blocks_are_found_and_the_marked_ones_left_out() -> None:
    text = (
        "intro\n```sh\n# readme-test: skip\nmake run\n```\n"
        "```json\n{}\n```\n```sh\necho one\n```\ntext\n```sh\necho two\n```\n"
    )
    assert readme_blocks(text) == ["echo one\n", "echo two\n"]


def test_every_readme_command_runs_as_written(make_system: Callable[..., ConveyorSystem], tmp_path: Path) -> None:
    blocks = readme_blocks((REPO_ROOT / "README.md").read_text())
    assert len(blocks) >= 5, "the README's walkthrough blocks were not found"
    system = make_system(workers=1)
    env = {
        **system.env(),  # DATABASE_URL and the rest, as a user beside `conveyor up` has them
        "CONVEYOR": f"http://127.0.0.1:{system.port}",
        "CONVEYOR_ADMIN_PASSWORD": system.admin_password,
        "PATH": f"{Path(sys.executable).parent}:{system.env().get('PATH', '')}",
    }
    script = tmp_path / "readme.sh"
    script.write_text(PROLOGUE + "\n".join(blocks))
    work = tmp_path / "work"  # the files the README makes (sales.csv, daily-totals.yaml) land here
    work.mkdir()
    done = subprocess.run(
        ["bash", str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    output = done.stdout
    assert done.returncode == 0, f"a README command failed:\n{done.stderr[-3000:]}\n--- stdout ---\n{output[-3000:]}"
    finals = re.findall(r'^data: \{"status": "(\w+)"', output, re.MULTILINE)
    # hello run, the cancelled one, the import, the pipeline over the dataset
    assert finals == ["SUCCEEDED", "CANCELLED", "SUCCEEDED", "SUCCEEDED"], output[-3000:]
    assert '"rows":[["2026-11-01",120.5],["2026-11-02",101.0]]' in output  # the pipeline's output dataset
    assert "created account 'ana'" in output
    assert "password (shown once)" in output  # generated: CONVEYOR_ADMIN_PASSWORD is only the admin's
    assert "temporary password" in output
