"""Schemathesis' stateful fuzz: call sequences that feed each response's ids into the next operation.

One resource of each kind is made first (a namespace, pipeline, deployment, webhook, token, run, dataset, user,
member, invite, resumable upload),
so the list operations hand real ids to the operations that take them. The links between operations (GET
/webhooks -> PATCH/DELETE /webhooks/{webhook_id}, POST /deployments -> pause/trigger/backfill, ...) are the ones
schemathesis infers from the document's schemas. Each step is sent in-process, on real Postgres and Redis, as an
instance admin, and checked like the stateless fuzz (test_openapi_fuzz.py): no server error; status, media
type, headers and body as the document states.
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Flaky
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.api.app import create_app
from app.domain import sessions
from app.settings import Settings
from tests.integration import fuzz_support
from tests.integration.conftest import ADMIN_PASSWORD, make_user
from tests.integration.fuzz_support import CONFIG, RANDOM

fuzz_settings = fuzz_support.fuzz_settings  # the shared fixture

#: Scenarios, and steps in each: bounded for `make test`; FUZZ_STATEFUL_EXAMPLES=300 explores further.
SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "12"))
STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "10"))
#: Operations that end the caller's own session (every later step would be a 401); the stateless fuzz has them.
SESSION_ENDING = ["/api/v1/auth/logout", "/api/v1/auth/password", "/api/v1/users/{user_id}/reset-password"]
#: (path, body) of one resource of each kind.
SEEDS: list[tuple[str, dict[str, Any]]] = [
    ("/api/v1/namespaces", {"name": "fuzz", "description": "made for the stateful fuzz"}),
    ("/api/v1/pipelines", {"name": "fuzz", "spec": {"steps": [{"type": "log", "message": "hello"}]}}),
    ("/api/v1/deployments", {"name": "fuzz", "pipeline": "fuzz", "schedule": {"kind": "interval", "seconds": 3600}}),
    ("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "event_types": ["run.failed"]}),
    ("/api/v1/tokens", {"name": "fuzz", "namespace": "default", "role": "viewer"}),
    ("/api/v1/runs", {"pipeline": "fuzz"}),
    ("/api/v1/datasets", {"file": ("fuzz.csv", b"a,b\n1,2\n"), "name": "fuzz"}),
    ("/api/v1/users", {"username": "fuzzer", "password": "fuzz-password-1", "display_name": "Fuzz"}),
    ("/api/v1/namespaces/{namespace}/members", {"username": "fuzzer", "role": "operator"}),
    ("/api/v1/invites", {"namespace": "fuzz", "role": "viewer"}),
    ("/api/v1/uploads", {"filename": "fuzz.csv", "size": 8}),
]


@pytest.fixture(scope="module")
def stateful_schema(fuzz_settings: Settings) -> schemathesis.schemas.BaseSchema:
    """The fuzz app, allowing webhooks to loopback (the seeded one), without the session-ending operations."""
    app = create_app(msgspec.structs.replace(fuzz_settings, webhook_allow_private=True))
    schema = schemathesis.openapi.from_asgi("/api/docs/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG))
    return schema.exclude(method="POST", path=SESSION_ENDING)


def sign_in(engine: Engine, settings: Settings) -> dict[str, str]:
    with Session(engine) as session, session.begin():
        _, tokens = sessions.login(session, "admin", ADMIN_PASSWORD, settings)
    return {"Authorization": f"Bearer {tokens.access_token}"}


def test_call_sequences_answer_as_documented(
    stateful_schema: schemathesis.schemas.BaseSchema, engine: Engine, fuzz_settings: Settings
) -> None:
    make_user(engine, fuzz_settings, "admin", superuser=True)
    headers = sign_in(engine, fuzz_settings)
    for path, body in SEEDS:
        media = "multipart/form-data" if "file" in body else "application/json"
        where = {"namespace": "fuzz"} if "{namespace}" in path else None  # the seeded namespace
        case = stateful_schema[path]["POST"].Case(body=body, media_type=media, path_parameters=where)
        response = case.call(headers=headers)
        assert response.status_code in (200, 201), response.text
    failures: list[Exception] = []

    class SignedIn(stateful_schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            headers.update(sign_in(engine, fuzz_settings))  # a new session: a step may have revoked the last one

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: schemathesis.Case, *args: Any, **kwargs: Any) -> None:
            try:
                super().validate_response(response, case, *args, **kwargs)
            except Exception as exc:
                exc.add_note(case.as_curl_command(headers=headers))
                failures.append(exc)
                raise

    try:
        SignedIn.run(
            settings=hypothesis.settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                derandomize=not RANDOM,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    except Flaky:
        # The database outlives a scenario, so Hypothesis' replay of one meets other answers (a name now taken,
        # a resource deleted) and calls it flaky: no bug of the API, unless a check failed first.
        if failures:
            raise failures[0] from None
