"""What authentication costs: GET /runs/{id} with and without it, and the time a sign-in takes.

Both apps run in this process over ASGI (no sockets), against the same
database, alternating request by request so load on the machine hits both
alike. The argon2 line reports the configured parameters and one verify.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx
from sqlalchemy.orm import Session

from app.api.app import create_app
from app.api.security import SYSTEM
from app.core.states import RunTrigger
from app.db import migrate
from app.db.engine import get_engine
from app.domain.passwords import hash_password, verify_password
from app.domain.pipelines import create_pipeline
from app.domain.runs import RunRequest, submit_runs
from app.domain.users import NewUser, create_user
from app.settings import Settings
from bench._servers import BenchServers, figure, percentile

REQUESTS = 2000
PASSWORD = "timing passphrase 42"
TARGET_MS = 1.0


async def _timed(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await client.get(url, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text
    return elapsed


async def _measure(settings: Settings, run_url: str) -> tuple[list[float], list[float], list[float]]:
    secured, open_ = create_app(settings), create_app(settings, authenticate=False)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=secured), base_url="http://bench") as with_auth,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=open_), base_url="http://bench") as without,
    ):
        login_ms = []
        for _ in range(5):
            started = time.perf_counter()
            signed = await with_auth.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
            login_ms.append((time.perf_counter() - started) * 1000)
        headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        for _ in range(100):  # warm both paths
            await _timed(with_auth, run_url, headers)
            await _timed(without, run_url, {})
        authed, plain = [], []
        for _ in range(REQUESTS):
            authed.append(await _timed(with_auth, run_url, headers))
            plain.append(await _timed(without, run_url, {}))
    return authed, plain, login_ms


def main(argv: list[str] | None = None) -> int:
    with BenchServers() as servers:
        url = servers.create_database()
        settings = Settings(
            database_url=url,
            redis_url=servers.redis_url,
            redis_namespace=servers.redis_prefix(),
            data_root=str(servers.tmp / "data"),
            login_max_failures=1000,
            rate_limit_per_minute=0,  # authentication's cost alone, without the rate limit's Redis round trip
        )
        migrate.upgrade(settings.sqlalchemy_url)
        engine = get_engine(settings)
        with Session(engine) as session, session.begin():
            create_user(session, NewUser(username="bench", password=PASSWORD, is_superuser=True), settings)
            create_pipeline(session, namespace="default", name="noop", description="", spec={"steps": []})
        with Session(engine) as session, session.begin():
            [run] = submit_runs(
                session, [RunRequest(pipeline="noop")], trigger=RunTrigger.API, principal=SYSTEM, settings=settings
            )
        authed, plain, login_ms = asyncio.run(_measure(settings, f"/api/v1/runs/{run.id}"))
        stored = hash_password(PASSWORD, settings)
        started = time.perf_counter()
        verify_password(stored, PASSWORD, settings)
        verify_ms = (time.perf_counter() - started) * 1000
        engine.dispose()
    p50_auth, p50_plain = percentile(authed, 50), percentile(plain, 50)
    overhead = p50_auth - p50_plain
    figure("auth.get_run.p50_with_auth", p50_auth, "ms", requests=REQUESTS)
    figure("auth.get_run.p50_without_auth", p50_plain, "ms", requests=REQUESTS)
    figure("auth.get_run.p50_overhead", overhead, "ms", ratio_to_target=overhead / TARGET_MS, target_ms=TARGET_MS)
    figure("auth.get_run.p95_overhead", percentile(authed, 95) - percentile(plain, 95), "ms")
    figure(
        "auth.argon2_verify",
        verify_ms,
        "ms",
        params=f"argon2id_t{settings.argon2_time_cost}_m{settings.argon2_memory_kib}KiB_p{settings.argon2_parallelism}",
    )
    figure("auth.login_http.p50", percentile(login_ms, 50), "ms", note="includes_argon2_and_audit_write")
    return 0


if __name__ == "__main__":
    sys.exit(main())
