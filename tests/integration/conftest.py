"""Integration fixtures: an emptied schema per test, the API in-process and signed in, the engine's parts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.domain.users import NewUser, create_user
from app.settings import Settings
from app.storage import Store
from app.storage.local import LocalStore
from app.storage.s3 import S3Store
from tests.integration.engine_parts import parts  # noqa: F401  (a fixture)
from tests.integration.redis_outage_support import redis_proxy  # noqa: F401  (a fixture)
from tests.integration.shared_api import SharedApi
from tests.integration.webhook_support import clock, hook_settings, receiver, sender  # noqa: F401  (fixtures)

ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _empty_schema(clean_db):  # type: ignore[no-untyped-def]
    return clean_db


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    """Cheap argon2 parameters: the tests sign in often."""
    import msgspec

    return msgspec.structs.replace(settings, argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)


def make_user(
    engine: Engine, settings: Settings, username: str, *, password: str = ADMIN_PASSWORD, superuser: bool = False
) -> str:
    with Session(engine) as session, session.begin():
        return str(
            create_user(session, NewUser(username=username, password=password, is_superuser=superuser), settings).id
        )


def sign_in(client: TestClient, username: str, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="session")
def shared_api() -> Iterator[SharedApi]:
    """This test process's running API app, made again only for other settings (tests/integration/shared_api.py)."""
    shared = SharedApi()
    yield shared
    shared.close()


@pytest.fixture
def anonymous(fast_settings: Settings, redis_client, shared_api: SharedApi) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The API, with nobody signed in."""
    shared_api.reset()
    yield shared_api.client(fast_settings)
    shared_api.reset()


@pytest.fixture
def client(anonymous: TestClient, engine: Engine, fast_settings: Settings) -> TestClient:
    """The API, signed in as an instance admin called `root`."""
    make_user(engine, fast_settings, "root", superuser=True)
    anonymous.headers["Authorization"] = f"Bearer {sign_in(anonymous, 'root')['access_token']}"
    return anonymous


@pytest.fixture
def pipeline(client: TestClient) -> dict:
    """A pipeline that does nothing, named `noop`."""
    response = client.post("/api/v1/pipelines", json={"name": "noop", "spec": {"steps": []}})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each backend in turn: the local disk, and a real S3-compatible server (SeaweedFS)."""
    if request.param == "local":
        yield LocalStore(tmp_path / "root")
    else:
        yield S3Store(request.getfixturevalue("s3_server").root_url(), request.getfixturevalue("s3_server").env())
