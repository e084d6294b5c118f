"""A list filtered by a namespace the caller cannot see answers exactly as for one that does not exist."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.domain.members import NewNamespace, create_namespace, set_member
from app.domain.permissions import Role
from app.domain.users import NewUser, create_user
from app.settings import Settings
from tests.integration.conftest import ADMIN_PASSWORD, sign_in

LISTS = [
    "/api/v1/runs",
    "/api/v1/pipelines",
    "/api/v1/datasets",
    "/api/v1/deployments",
    "/api/v1/tokens",
    "/api/v1/metrics/summary",
    "/api/v1/metrics/recent-failures",
]


@pytest.fixture
def outsider(anonymous: TestClient, engine: Engine, fast_settings: Settings) -> TestClient:
    """An admin of `default` only, while a namespace called `secret` exists."""
    with Session(engine) as session, session.begin():
        default = session.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()
        create_namespace(session, NewNamespace(name="secret"))
        user = create_user(session, NewUser(username="outsider", password=ADMIN_PASSWORD), fast_settings)
        set_member(session, default, user.id, Role.ADMIN)
    anonymous.headers["Authorization"] = f"Bearer {sign_in(anonymous, 'outsider')['access_token']}"
    return anonymous


@pytest.mark.parametrize("path", LISTS)
def test_an_unseen_namespace_and_a_missing_one_look_the_same(outsider: TestClient, path: str) -> None:
    hidden = outsider.get(path, params={"namespace": "secret"})
    missing = outsider.get(path, params={"namespace": "nosuch"})
    assert hidden.status_code == missing.status_code, (hidden.text, missing.text)
    if hidden.status_code == 200:
        assert hidden.json() == missing.json()
    else:
        assert hidden.json()["code"] == missing.json()["code"]
        assert hidden.json()["detail"].replace("secret", "X") == missing.json()["detail"].replace("nosuch", "X")
    assert outsider.get(path, params={"namespace": "default"}).status_code == 200
