"""Every create in the contract takes Idempotency-Key and documents its 409, so a new create cannot forget it."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from app.api.app import create_app
from app.api.openapi import openapi_document
from app.settings import Settings

#: Creates with no caller to scope a key by (app/domain/idempotency.scope_of): sign-up is public, and the
#: username it takes is its natural key (a repeat answers 409 username_taken).
NO_CALLER = {"register"}


@functools.cache
def document() -> dict[str, Any]:
    # Building the app connects to nothing: the engine and Redis client are lazy.
    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none", redis_url="redis://127.0.0.1:1/0")
    return openapi_document(create_app(settings)).to_schema()


def creates() -> list[str]:
    """Operation ids of every POST that answers 201 Created."""
    posts = [item["post"] for item in document()["paths"].values() if "post" in item]
    return sorted(op["operationId"] for op in posts if "201" in op["responses"])


def operation(operation_id: str) -> dict[str, Any]:
    posts = [item["post"] for item in document()["paths"].values() if "post" in item]
    [found] = [op for op in posts if op["operationId"] == operation_id]
    return found


def test_the_creates_are_found() -> None:
    assert {"createApiToken", "createUpload", "createWebhook", "createInvite", "submitRun"} <= set(creates())


@pytest.mark.parametrize("operation_id", [c for c in creates() if c not in NO_CALLER])
def test_a_create_takes_idempotency_key_and_documents_its_409(operation_id: str) -> None:
    op = operation(operation_id)
    headers = [p for p in op.get("parameters", []) if p["in"] == "header" and p["name"] == "Idempotency-Key"]
    assert len(headers) == 1, f"{operation_id} creates (201) but takes no Idempotency-Key: see app/api/idempotent.py"
    assert headers[0].get("required") is not True
    assert "idempotency_key_reused" in op["responses"]["409"]["description"]
