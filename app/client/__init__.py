"""A typed Python client for Conveyor's REST API (/api/v1), sync (`Client`) and async (`AsyncClient`).

Hand-written over httpx rather than generated: the parts worth having (retries honouring Retry-After,
keyset pagination, waiting for a run, the SSE log with Last-Event-ID, resumable uploads) are not what a
generator writes, and the operations are few. `tests/client/test_client_contract.py` checks every path the
client calls against the OpenAPI document. It talks HTTP only: nothing from app.api or app.domain.
"""

from app.client.aio import AsyncClient
from app.client.errors import ApiError, ConveyorError, NetworkError, RunFailed
from app.client.http import RetryPolicy
from app.client.sync import Client
from app.client.types import FINAL_STATUSES

__all__ = [
    "FINAL_STATUSES",
    "ApiError",
    "AsyncClient",
    "Client",
    "ConveyorError",
    "NetworkError",
    "RetryPolicy",
    "RunFailed",
]
