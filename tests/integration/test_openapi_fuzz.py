"""Schemathesis over every operation of the OpenAPI document, in-process on real Postgres and Redis.

Each operation gets a few generated requests, valid and invalid (Hypothesis,
derandomized: the same requests every run; FUZZ_RANDOM=1 for new ones), signed in as an instance admin.
Every response must not be a server error, and its status, media type, headers
and body must be the ones the document states.
"""

from __future__ import annotations

import os
import uuid

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.api.app import create_app
from app.api.openapi import openapi_document
from app.domain import sessions
from app.domain.members import get_namespace, set_member
from app.domain.namespaces import DEFAULT_NAMESPACE
from app.domain.permissions import Role
from app.settings import Settings
from tests.integration import fuzz_support
from tests.integration.conftest import ADMIN_PASSWORD, make_user
from tests.integration.fuzz_support import CONFIG, RANDOM

fuzz_settings = fuzz_support.fuzz_settings  # the shared fixture

#: Requests per operation and mode: bounded for `make test`; FUZZ_EXAMPLES=200 explores further.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every documented operation; building the app connects to nothing."""
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:1/none", redis_url="redis://127.0.0.1:1/0"))
    paths = openapi_document(app).to_schema()["paths"]
    found = [
        (m.upper(), p) for p, item in paths.items() for m in item if m in ("get", "put", "post", "delete", "patch")
    ]
    return sorted(found)  # the same order in every process: pytest-xdist compares what each worker collected


@pytest.fixture(scope="module")
def api_schema(fuzz_settings: Settings) -> schemathesis.schemas.BaseSchema:
    """One app for every operation (its lifespan stays up in schemathesis' event loop), and its document."""
    app: Litestar = create_app(fuzz_settings)
    return schemathesis.openapi.from_asgi("/api/docs/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG))


@pytest.fixture
def callers(engine: Engine, fuzz_settings: Settings) -> dict[str, dict[str, str]]:
    """An instance admin (reaches the handlers) and a viewer of `default` (meets the role checks)."""
    headers = {}
    for who in ("admin", "viewer"):
        user_id = make_user(engine, fuzz_settings, who, superuser=who == "admin")
        with Session(engine) as session, session.begin():
            if who == "viewer":
                set_member(session, get_namespace(session, DEFAULT_NAMESPACE).id, uuid.UUID(user_id), Role.VIEWER)
            _, tokens = sessions.login(session, who, ADMIN_PASSWORD, fuzz_settings)
        headers[who] = {"Authorization": f"Bearer {tokens.access_token}"}
    return headers


@pytest.mark.parametrize(("method", "path"), _operations())
def test_operation_answers_as_documented(
    method: str, path: str, api_schema: schemathesis.schemas.BaseSchema, callers: dict[str, dict[str, str]]
) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    explore(cases, callers["admin"], examples=EXAMPLES * 2)
    explore(cases, callers["viewer"], examples=EXAMPLES)


def explore(cases: st.SearchStrategy[schemathesis.Case], headers: dict[str, str], *, examples: int) -> None:
    """Send `examples` generated requests (the same ones every run unless FUZZ_RANDOM=1) and check each response."""

    @hypothesis.given(case=cases)
    @hypothesis.settings(
        max_examples=examples,
        derandomize=not RANDOM,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers)

    answers_as_documented()
