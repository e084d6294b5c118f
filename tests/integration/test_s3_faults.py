"""Faults of an S3 data root: a store that does not answer is 503 `storage_unavailable` (not 500) and shows in
/readyz; wrong credentials or a missing bucket stop `conveyor api` and `conveyor worker` with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from app.api.app import create_app
from app.settings import Settings
from tests.integration.conftest import make_user, sign_in
from tests.s3server import SeaweedS3


def test_an_unreachable_store_is_503_with_a_stable_code_and_not_ready(
    fast_settings: Settings, engine, redis_client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, s3_server: SeaweedS3
) -> None:  # type: ignore[no-untyped-def]
    for name, value in s3_server.env(AWS_ENDPOINT_URL="http://127.0.0.1:9").items():  # nothing listens on 9
        monkeypatch.setenv(name, value)
    settings = msgspec.structs.replace(fast_settings, data_root="s3://down-bucket/x", cache_dir=str(tmp_path / "h"))
    make_user(engine, settings, "root", superuser=True)
    with TestClient(app=create_app(settings)) as client:
        client.headers["Authorization"] = f"Bearer {sign_in(client, 'root')['access_token']}"
        sent = client.post("/api/v1/datasets", files={"file": ("a.csv", b"a\n1\n", "text/csv")}, data={"name": "a"})
        assert (sent.status_code, sent.json()["code"]) == (503, "storage_unavailable")
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "storage" in ready.json()["detail"]


@pytest.mark.parametrize("command", ["api", "worker"])
def test_wrong_credentials_or_a_missing_bucket_stop_the_process_with_one_line(
    command: str, s3_server: SeaweedS3, settings: Settings
) -> None:
    base = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    cases = [
        (s3_server.env(AWS_SECRET_ACCESS_KEY="wrong"), s3_server.root_url(), "AWS_SECRET_ACCESS_KEY"),
        (s3_server.env(), "s3://no-such-bucket/x", "CONVEYOR_DATA_ROOT"),
    ]
    for env, root, named in cases:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("conveyor")), command],
            env={**base, **env, "CONVEYOR_DATA_ROOT": root},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert named in lines[0]
