"""A list filtered by a namespace the caller cannot see answers exactly as for one that does not exist."""

from __future__ import annotations

import json
import uuid

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.domain.members import NewNamespace, create_namespace, set_member
from app.domain.permissions import Role
from app.domain.users import NewUser, create_user
from app.settings import Settings
from tests.integration.conftest import ADMIN_PASSWORD, make_user, sign_in

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


@pytest.fixture
def hidden(outsider: TestClient, engine: Engine, fast_settings: Settings) -> dict[str, str]:
    """A pipeline and a dataset in `secret`, made by an instance admin; their ids."""
    make_user(engine, fast_settings, "root", superuser=True)
    root = {"Authorization": f"Bearer {sign_in(outsider, 'root')['access_token']}"}
    pipeline = outsider.post(
        "/api/v1/pipelines", json={"name": "p", "spec": {"steps": []}, "namespace": "secret"}, headers=root
    )
    dataset = outsider.post(
        "/api/v1/datasets?namespace=secret",
        files={"file": ("a.csv", b"a\n1\n", "text/csv")},
        data={"name": "d"},
        headers=root,
    )
    assert (pipeline.status_code, dataset.status_code) == (201, 201), (pipeline.text, dataset.text)
    return {"pipeline": pipeline.json()["id"], "dataset": dataset.json()["id"]}


@pytest.mark.parametrize(
    ("kind", "method", "path", "body"),
    [
        ("dataset", "GET", "/api/v1/datasets/{id}", None),
        ("dataset", "PATCH", "/api/v1/datasets/{id}", {"description": "x"}),
        ("dataset", "DELETE", "/api/v1/datasets/{id}", None),
        ("pipeline", "POST", "/api/v1/runs", {"pipeline": "{id}"}),
        ("pipeline", "POST", "/api/v1/runs/batch", {"runs": [{"pipeline": "{id}"}]}),
        (
            "pipeline",
            "POST",
            "/api/v1/deployments",
            {"name": "d", "pipeline": "{id}", "schedule": {"kind": "interval", "seconds": 60}},
        ),
    ],
)
def test_an_unseen_namespace_s_id_and_a_missing_one_look_the_same(
    outsider: TestClient, hidden: dict[str, str], kind: str, method: str, path: str, body: dict | None
) -> None:
    """Each named the hidden id's kind in a detail of its own ('dataset does not exist', 'in another namespace')."""

    def ask(id_: str) -> dict:
        content = None if body is None else json.dumps(body).replace("{id}", id_)
        response = outsider.request(
            method, path.format(id=id_), content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code in (404, 422), response.text
        answer = response.json()
        return {
            "status": response.status_code,
            "code": answer["code"],
            "detail": answer["detail"].replace(id_, "X"),
            "errors": json.dumps(answer.get("errors")).replace(id_, "X"),
        }

    assert ask(hidden[kind]) == ask(str(uuid.uuid4()))
