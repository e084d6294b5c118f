"""While the real API process checks a 1 GB upload, its other requests are answered: the check is not done on the
event loop, nor does it hold what other requests need."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.acceptance.harness import ConveyorSystem

pytestmark = pytest.mark.acceptance

SIZE = 1 << 30
CHUNK = 64 << 20


@pytest.mark.timeout(900)
def test_other_requests_are_answered_while_a_1_gb_upload_is_checked(system: ConveyorSystem) -> None:
    """Given a 1 GB upload whose first chunk was sent twice (so completing it reads the whole file again), when it
    is completed, then GET /healthz and a list of datasets are answered, again and again, before it is."""
    block = b"1234567,abcdefg\n" * (CHUNK // 16)  # a CSV of 16-byte lines
    opened = system.http.post("/api/v1/uploads", json={"filename": "big.csv", "size": SIZE})
    assert opened.status_code == 201, opened.text
    upload_id = opened.json()["id"]
    for start in [0, *range(0, SIZE, CHUNK)]:  # chunk 0 twice: its bytes may have changed, the file is read
        headers = {"Content-Range": f"bytes {start}-{start + CHUNK - 1}/{SIZE}"}
        sent = system.http.put(f"/api/v1/uploads/{upload_id}", content=block, headers=headers, timeout=120)
        assert sent.status_code == 200, sent.text
    finished = threading.Event()
    outcome: dict[str, httpx.Response] = {}

    def complete() -> None:
        with httpx.Client(base_url=str(system.http.base_url), headers=system.http.headers, timeout=600) as client:
            outcome["done"] = client.post(f"/api/v1/uploads/{upload_id}/complete", json={"name": "big"})
        finished.set()

    completing = threading.Thread(target=complete)
    completing.start()
    answered_during = {"/healthz": 0, "/api/v1/datasets?limit=5": 0}
    while not finished.is_set():
        for path in answered_during:
            response = system.http.get(path, timeout=60)
            assert response.status_code == 200, response.text
            if not finished.is_set():
                answered_during[path] += 1
    completing.join()
    assert outcome["done"].status_code == 201, outcome["done"].text
    assert min(answered_during.values()) >= 3, answered_during
    system.assert_healthy()
