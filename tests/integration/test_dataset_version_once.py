"""A run writes one dataset version, even when its write is repeated (the database went away before the commit
was acknowledged, and the worker tried again)."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.domain import datasets as dataset_service
from tests.integration.helpers import count


def record(engine: Engine, dataset_id: uuid.UUID, run_id: uuid.UUID, rows: int) -> int:
    with Session(engine) as session, session.begin():
        return dataset_service.record_version(
            session,
            dataset_id=dataset_id,
            run_id=run_id,
            attempt=1,
            upload_id=None,
            row_count=rows,
            size_bytes=10,
            source_bytes=10,
            rejected_rows=0,
            columns=[{"name": "a", "type": "BIGINT", "nulls": 0, "min": "1", "max": str(rows)}],
            config={},
            notices=[],
            producer="worker:test:1",
        )


def test_a_repeated_version_write_by_the_same_run_returns_the_version_it_wrote(
    client: TestClient, engine: Engine
) -> None:
    response = client.post("/api/v1/datasets", files={"file": ("a.csv", b"a\n1\n2\n", "text/csv")}, data={"name": "a"})
    assert response.status_code == 201, response.text
    dataset_id = uuid.UUID(response.json()["id"])
    run_id, other_run = uuid.uuid4(), uuid.uuid4()

    assert record(engine, dataset_id, run_id, rows=2) == 1
    assert record(engine, dataset_id, run_id, rows=2) == 1  # the repeat: same version, nothing new written
    assert count(engine, "dataset_versions", "dataset_id = :id", id=dataset_id) == 1
    assert count(engine, "events", "run_id = :id AND type = 'dataset.ingested'", id=run_id) == 1
    # Another run still writes the next version
    assert record(engine, dataset_id, other_run, rows=2) == 2
    assert client.get(f"/api/v1/datasets/{dataset_id}").json()["current_version"] == 2
