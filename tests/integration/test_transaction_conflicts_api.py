"""A request whose transaction PostgreSQL aborted for a concurrent one's sake (a deadlock, 40P01; a serialization
failure, 40001) was a 500 internal_error: now it is run once more, and answers 503 transaction_conflict if the
conflict comes back."""

from __future__ import annotations

from typing import Any

import psycopg.errors
import pytest
from litestar.testing import TestClient
from sqlalchemy.exc import OperationalError

from app.domain import datasets as dataset_service
from tests.integration.dataset_support import SALES, upload


def _aborting(times: int, error: type[psycopg.errors.OperationalError], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The dataset delete's transaction aborted by PostgreSQL the first `times` tries; the list counts the tries."""
    delete = dataset_service.delete_dataset
    tries: list[int] = []

    def aborted(*args: Any, **kwargs: Any) -> None:
        tries.append(1)
        if len(tries) <= times:
            raise OperationalError("UPDATE datasets ...", {}, error("aborted for another transaction"))
        delete(*args, **kwargs)

    monkeypatch.setattr(dataset_service, "delete_dataset", aborted)
    return tries


@pytest.mark.parametrize("error", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure])
def test_a_request_aborted_for_a_concurrent_transaction_is_run_once_more(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, error: type[psycopg.errors.OperationalError]
) -> None:
    dataset = upload(client, SALES)
    tries = _aborting(1, error, monkeypatch)
    assert client.delete(f"/api/v1/datasets/{dataset['id']}").status_code == 204
    assert len(tries) == 2
    assert client.get(f"/api/v1/datasets/{dataset['id']}").status_code == 404


def test_a_request_aborted_twice_answers_503_transaction_conflict_and_changes_nothing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = upload(client, SALES)
    tries = _aborting(2, psycopg.errors.DeadlockDetected, monkeypatch)
    answer = client.delete(f"/api/v1/datasets/{dataset['id']}")
    assert (answer.status_code, answer.json()["code"]) == (503, "transaction_conflict"), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["retry-after"] == "1"
    assert len(tries) == 2
    assert client.get(f"/api/v1/datasets/{dataset['id']}").status_code == 200
