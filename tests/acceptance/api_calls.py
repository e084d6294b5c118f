"""The system's HTTP API as a test uses it: sign in, create pipelines, submit, read and list runs."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


class ApiCalls:
    """Mixed into ConveyorSystem, which provides `port` and the `_http` client slot."""

    port: int
    _http: httpx.Client | None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=self.base_url, timeout=15.0)
        return self._http

    def login(self, username: str, password: str) -> str:
        """Sign in as a user would; returns the access token."""
        response = self.http.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def anonymous(self) -> httpx.Client:
        """A client that sends no credentials (close it after use)."""
        return httpx.Client(base_url=self.base_url, timeout=15.0)

    def create_pipeline(self, steps: list[dict[str, Any]], *, name: str | None = None) -> dict[str, Any]:
        name = name or f"p-{uuid.uuid4().hex[:10]}"
        response = self.http.post("/api/v1/pipelines", json={"name": name, "spec": {"steps": steps}})
        assert response.status_code == 201, response.text
        return response.json()

    def submit(self, pipeline: str, **fields: Any) -> dict[str, Any]:
        response = self.http.post("/api/v1/runs", json={"pipeline": pipeline, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def submit_batch(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = self.http.post("/api/v1/runs/batch", json={"runs": runs})
        assert response.status_code == 201, response.text
        return response.json()["runs"]

    def run(self, run_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/runs/{run_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def events(self, run_id: str) -> list[dict[str, Any]]:
        response = self.http.get(f"/api/v1/runs/{run_id}/events")
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def log_lines(self, run_id: str) -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        while True:
            response = self.http.get(f"/api/v1/runs/{run_id}/logs", params={"after": len(lines) and lines[-1]["n"]})
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            if not items:
                return lines
            lines += items

    def cancel(self, run_id: str) -> httpx.Response:
        return self.http.post(f"/api/v1/runs/{run_id}/cancel")

    def list_runs(self, **params: Any) -> list[dict[str, Any]]:
        """Every run matching `params`, following the cursor to the last page."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
            response = self.http.get("/api/v1/runs", params=query)
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items
