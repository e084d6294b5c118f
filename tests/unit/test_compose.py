"""compose.yaml and the Dockerfile describe the production topology (no Docker engine runs here)."""

from pathlib import Path

import yaml

from app.cli import _parser

ROOT = Path(__file__).parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_every_service_of_the_topology_exists() -> None:
    services = _compose()["services"]
    assert set(services) >= {"postgres", "redis", "seaweedfs", "bucket", "migrate", "api", "scheduler", "worker"}
    assert services["scheduler"]["deploy"]["replicas"] == 2
    assert "replicas" not in services["worker"].get("deploy", {}) or services["worker"]["deploy"]["replicas"] >= 1


def test_conveyor_services_run_real_cli_commands() -> None:
    parser = _parser()
    for name in ("migrate", "api", "scheduler", "worker"):
        command = _compose()["services"][name]["command"]
        assert command[0] == "conveyor", name
        parsed = parser.parse_args(command[1:])  # exits (fails the test) on an unknown command or flag
        assert parsed.command == command[1]


def test_conveyor_services_share_the_data_root_and_wait_for_migrations() -> None:
    services = _compose()["services"]
    for name in ("api", "scheduler", "worker"):
        service = services[name]
        assert "data:/data" in service["volumes"], name  # this process's local folder
        assert service["environment"]["CONVEYOR_CACHE_DIR"] == "/data"
        assert service["environment"]["CONVEYOR_DATA_ROOT"] == "s3://conveyor/data"  # shared through the store
        assert service["environment"]["AWS_ENDPOINT_URL"] == "http://seaweedfs:8333"
        assert service["depends_on"]["bucket"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert service["environment"]["REDIS_URL"].startswith("redis://")
    assert "data" in _compose()["volumes"]


def test_the_dockerfile_copies_everything_the_processes_import() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for folder in ("app", "workers", "scheduler", "sql"):
        assert f"COPY {folder} ./{folder}" in dockerfile
    assert "uv sync --frozen" in dockerfile


def test_the_image_serves_a_console_built_in_its_own_stage() -> None:
    """The final image holds the built console where app/api/console.py looks, and no Node or node_modules."""
    from app.api.console import CONSOLE_DIST

    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = dockerfile.split("\nFROM ")
    console_stage = next(s for s in stages if "AS console" in s.splitlines()[0])
    assert "npm ci" in console_stage
    assert "vite build" in console_stage
    destination = CONSOLE_DIST.relative_to(ROOT)
    assert f"COPY --from=console /console/dist ./{destination}" in stages[-1]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "app/console/node_modules" in ignored
