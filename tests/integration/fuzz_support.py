"""What the OpenAPI fuzz tests share: schemathesis' configuration, the random switch, the app's settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from tests.servers import TestServers

#: FUZZ_RANDOM=1: new requests each run (Hypothesis seeded at random; its seed is printed on a failure).
RANDOM = os.environ.get("FUZZ_RANDOM", "") == "1"
CONFIG: dict[str, Any] = {
    "generation": {"deterministic": not RANDOM, "database": "none"},
    "checks": {
        # A stateless case cannot know which ids exist: a valid request for a random id is a 404, not a bug.
        "positive_data_acceptance": {"enabled": False},
        # Off because the API is lenient on purpose (Litestar ignores unknown query parameters, msgspec reads a
        # number as a Unix time) and because the caller's own Authorization header is put back on each case.
        "negative_data_rejection": {"enabled": False},
    },
}


@pytest.fixture(scope="module")
def fuzz_settings(
    database_url: str, servers: TestServers, redis_namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=servers.redis_url,
        data_root=str(Path(tmp_path_factory.mktemp("fuzz")) / "data"),
        redis_namespace=redis_namespace,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        # Off: 150 examples an operation pass the address's 1200 a minute, and schemathesis' invalid-credentials
        # check then meets a (correct) 429 where it wants 401. test_rate_limit.py tests the limit.
        rate_limit_per_minute=0,
        rate_limit_per_address_per_minute=0,
    )
