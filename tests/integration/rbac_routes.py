"""The RBAC matrix's table: each route, the kind of thing it acts on, and how to build a request for it.

The resources the requests name come from tests/integration/rbac_world.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.rbac_world import PASSWORD, Multipart, World

Request = tuple[str, dict[str, Any] | Multipart | None]  # path (with query), JSON or multipart body
#: (method, route path) → (kind, how to build the request). kind: "resource" lives in `default`,
#: "list" shows what the caller may see, "self" is about the caller.
ROUTES: dict[tuple[str, str], tuple[str, Callable[[World], Request]]] = {
    ("POST", "/api/v1/auth/login"): ("self", lambda w: ("/api/v1/auth/login", {"username": "nobody", "password": "x"})),
    ("POST", "/api/v1/auth/refresh"): ("self", lambda w: ("/api/v1/auth/refresh", {"refresh_token": "cvr_bogus"})),
    ("POST", "/api/v1/auth/logout"): ("self", lambda w: ("/api/v1/auth/logout", None)),
    ("GET", "/api/v1/auth/me"): ("self", lambda w: ("/api/v1/auth/me", None)),
    ("PATCH", "/api/v1/auth/me"): ("self", lambda w: ("/api/v1/auth/me", {"display_name": "M"})),
    ("POST", "/api/v1/auth/password"): (
        "self",
        lambda w: ("/api/v1/auth/password", {"current_password": "wrong", "new_password": "another long passphrase"}),
    ),
    ("POST", "/api/v1/auth/register"): (
        "self",
        lambda w: ("/api/v1/auth/register", {"username": f"r{uuid.uuid4().hex[:8]}", "password": PASSWORD}),
    ),
    ("GET", "/api/v1/users"): ("list", lambda w: ("/api/v1/users", None)),
    ("POST", "/api/v1/users"): (
        "resource",
        lambda w: ("/api/v1/users", {"username": f"u{uuid.uuid4().hex[:8]}", "password": PASSWORD}),
    ),
    ("GET", "/api/v1/users/{user_id:uuid}"): ("resource", lambda w: (f"/api/v1/users/{w.victim_id}", None)),
    ("POST", "/api/v1/users/{user_id:uuid}/disable"): (
        "resource",
        lambda w: (f"/api/v1/users/{w.victim_id}/disable", None),
    ),
    ("POST", "/api/v1/users/{user_id:uuid}/enable"): (
        "resource",
        lambda w: (f"/api/v1/users/{w.victim_id}/enable", None),
    ),
    ("POST", "/api/v1/users/{user_id:uuid}/reset-password"): (
        "resource",
        lambda w: (f"/api/v1/users/{w.victim_id}/reset-password", None),
    ),
    ("POST", "/api/v1/invites"): ("resource", lambda w: ("/api/v1/invites", {})),
    ("GET", "/api/v1/invites"): ("list", lambda w: ("/api/v1/invites", None)),
    ("DELETE", "/api/v1/invites/{invite_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/invites/{w.fresh_invite()}", None),
    ),
    ("GET", "/api/v1/auth/password-rules"): ("self", lambda w: ("/api/v1/auth/password-rules", None)),
    ("POST", "/api/v1/namespaces/{namespace:str}/members"): (
        "resource",
        lambda w: ("/api/v1/namespaces/default/members", {"username": "victim", "role": "viewer"}),
    ),
    ("GET", "/api/v1/namespaces"): ("list", lambda w: ("/api/v1/namespaces", None)),
    ("POST", "/api/v1/namespaces"): (
        "resource",
        lambda w: ("/api/v1/namespaces", {"name": f"n{uuid.uuid4().hex[:8]}"}),
    ),
    ("GET", "/api/v1/namespaces/{namespace:str}/members"): (
        "resource",
        lambda w: ("/api/v1/namespaces/default/members", None),
    ),
    ("PUT", "/api/v1/namespaces/{namespace:str}/members/{user_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/namespaces/default/members/{w.victim_id}", {"role": "viewer"}),
    ),
    ("DELETE", "/api/v1/namespaces/{namespace:str}/members/{user_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/namespaces/default/members/{w.spare_member()}", None),
    ),
    ("POST", "/api/v1/tokens"): (
        "self",
        lambda w: ("/api/v1/tokens", {"name": "t", "namespace": "default", "role": "viewer"}),
    ),
    ("GET", "/api/v1/tokens"): ("self", lambda w: ("/api/v1/tokens", None)),
    ("GET", "/api/v1/webhooks"): ("list", lambda w: ("/api/v1/webhooks", None)),
    ("POST", "/api/v1/webhooks"): (
        "resource",
        lambda w: ("/api/v1/webhooks", {"url": "http://127.0.0.1:9/", "event_types": ["run.failed"]}),
    ),
    ("GET", "/api/v1/webhooks/{webhook_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/webhooks/{w.fresh_webhook()}", None),
    ),
    ("PATCH", "/api/v1/webhooks/{webhook_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/webhooks/{w.fresh_webhook()}", {"description": "changed"}),
    ),
    ("DELETE", "/api/v1/webhooks/{webhook_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/webhooks/{w.fresh_webhook()}", None),
    ),
    ("POST", "/api/v1/webhooks/{webhook_id:uuid}/rotate-secret"): (
        "resource",
        lambda w: (f"/api/v1/webhooks/{w.fresh_webhook()}/rotate-secret", None),
    ),
    ("POST", "/api/v1/webhooks/{webhook_id:uuid}/test"): (
        "resource",
        lambda w: (f"/api/v1/webhooks/{w.fresh_webhook()}/test", None),
    ),
    ("GET", "/api/v1/webhooks/{webhook_id:uuid}/deliveries"): (
        "resource",
        lambda w: (f"/api/v1/webhooks/{w.fresh_webhook()}/deliveries", None),
    ),
    ("GET", "/api/v1/webhooks/{webhook_id:uuid}/deliveries/{delivery_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/webhooks/{w.webhook_delivery()}", None),
    ),
    ("POST", "/api/v1/webhooks/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/redeliver"): (
        "resource",
        lambda w: (f"/api/v1/webhooks/{w.webhook_delivery()}/redeliver", None),
    ),
    ("DELETE", "/api/v1/tokens/{token_id:uuid}"): ("self", lambda w: (f"/api/v1/tokens/{uuid.uuid4()}", None)),
    ("GET", "/api/v1/audit"): ("list", lambda w: ("/api/v1/audit", None)),
    ("GET", "/api/v1/audit/export"): ("list", lambda w: ("/api/v1/audit/export?format=csv", None)),
    ("POST", "/api/v1/runs"): ("resource", lambda w: ("/api/v1/runs", {"pipeline": "noop"})),
    ("POST", "/api/v1/runs/batch"): ("resource", lambda w: ("/api/v1/runs/batch", {"runs": [{"pipeline": "noop"}]})),
    ("GET", "/api/v1/runs"): ("list", lambda w: ("/api/v1/runs", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}/events"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/events", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}/report"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/report", None)),
    ("POST", "/api/v1/runs/{run_id:uuid}/cancel"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/cancel", None)),
    ("POST", "/api/v1/runs/{run_id:uuid}/retry"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/retry", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}/logs"): ("resource", lambda w: (f"/api/v1/runs/{w.run_id}/logs", None)),
    ("GET", "/api/v1/runs/{run_id:uuid}/logs/stream"): (
        "resource",
        lambda w: (f"/api/v1/runs/{w.done_run_id}/logs/stream", None),
    ),
    ("POST", "/api/v1/pipelines"): (
        "resource",
        lambda w: ("/api/v1/pipelines", {"name": f"p{uuid.uuid4().hex[:8]}", "spec": {"steps": []}}),
    ),
    ("GET", "/api/v1/pipelines"): ("list", lambda w: ("/api/v1/pipelines", None)),
    ("GET", "/api/v1/pipelines/{pipeline_ref:str}"): (
        "resource",
        lambda w: (f"/api/v1/pipelines/{w.pipeline_id}", None),
    ),
    ("GET", "/api/v1/pipelines/schema"): ("list", lambda w: ("/api/v1/pipelines/schema", None)),
    ("POST", "/api/v1/pipelines/validate"): ("list", lambda w: ("/api/v1/pipelines/validate", {"spec": {}})),
    ("PUT", "/api/v1/pipelines/{pipeline_ref:str}"): (
        "resource",
        lambda w: (f"/api/v1/pipelines/{w.pipeline_id}", {"spec": {"steps": []}}),
    ),
    ("GET", "/api/v1/pipelines/{pipeline_ref:str}/versions"): (
        "resource",
        lambda w: (f"/api/v1/pipelines/{w.pipeline_id}/versions", None),
    ),
    ("GET", "/api/v1/pipelines/{pipeline_ref:str}/versions/{version:int}"): (
        "resource",
        lambda w: (f"/api/v1/pipelines/{w.pipeline_id}/versions/1", None),
    ),
    ("GET", "/api/v1/pipelines/{pipeline_ref:str}/diff"): (
        "resource",
        lambda w: (f"/api/v1/pipelines/{w.pipeline_id}/diff", None),
    ),
    ("POST", "/api/v1/pipelines/{pipeline_ref:str}/archive"): (
        "resource",
        lambda w: (f"/api/v1/pipelines/{w.fresh_pipeline()}/archive", None),
    ),
    ("POST", "/api/v1/pipelines/{pipeline_ref:str}/runs"): (
        "resource",
        lambda w: (f"/api/v1/pipelines/{w.pipeline_id}/runs", {}),
    ),
    ("POST", "/api/v1/deployments"): (
        "resource",
        lambda w: (
            "/api/v1/deployments",
            {"name": f"d{uuid.uuid4().hex[:8]}", "pipeline": "noop", "schedule": {"kind": "interval", "seconds": 60}},
        ),
    ),
    ("POST", "/api/v1/deployments/validate"): (
        "list",
        lambda w: (
            "/api/v1/deployments/validate",
            {"name": "draft", "pipeline": "noop", "schedule": {"kind": "cron", "cron": "0 * * * *"}},
        ),
    ),
    ("GET", "/api/v1/deployments"): ("list", lambda w: ("/api/v1/deployments", None)),
    ("GET", "/api/v1/deployments/{deployment_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}", None),
    ),
    ("PATCH", "/api/v1/deployments/{deployment_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}", {"description": "changed"}),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/pause"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/pause", None),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/resume"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/resume", None),
    ),
    ("DELETE", "/api/v1/deployments/{deployment_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.fresh_deployment()}", None),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/trigger"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/trigger", {"params": {"x": 1}}),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/backfill"): (
        "resource",
        lambda w: (
            f"/api/v1/deployments/{w.deployment_id}/backfill",
            {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z"},
        ),
    ),
    ("POST", "/api/v1/deployments/{deployment_id:uuid}/backfill/preview"): (
        "resource",
        lambda w: (
            f"/api/v1/deployments/{w.deployment_id}/backfill/preview",
            {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T03:00:00Z"},
        ),
    ),
    ("GET", "/api/v1/deployments/{deployment_id:uuid}/upcoming"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/upcoming", None),
    ),
    ("GET", "/api/v1/deployments/{deployment_id:uuid}/occurrences"): (
        "resource",
        lambda w: (f"/api/v1/deployments/{w.deployment_id}/occurrences", None),
    ),
    ("POST", "/api/v1/datasets"): (
        "resource",
        lambda w: (
            "/api/v1/datasets",
            Multipart({"file": ("m.csv", b"a,b\n1,2\n", "text/csv")}, {"name": f"m{uuid.uuid4().hex[:8]}"}),
        ),
    ),
    ("GET", "/api/v1/datasets"): ("list", lambda w: ("/api/v1/datasets", None)),
    ("GET", "/api/v1/datasets/{dataset_id:uuid}"): ("resource", lambda w: (f"/api/v1/datasets/{w.dataset_id}", None)),
    ("PATCH", "/api/v1/datasets/{dataset_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/datasets/{w.dataset_id}", {"description": "changed"}),
    ),
    ("DELETE", "/api/v1/datasets/{dataset_id:uuid}"): (
        "resource",
        lambda w: (f"/api/v1/datasets/{w.fresh_dataset()}", None),
    ),
    ("GET", "/api/v1/datasets/{dataset_id:uuid}/versions"): (
        "resource",
        lambda w: (f"/api/v1/datasets/{w.dataset_id}/versions", None),
    ),
    ("POST", "/api/v1/datasets/{dataset_id:uuid}/preview"): (
        "resource",
        lambda w: (f"/api/v1/datasets/{w.dataset_id}/preview", {}),
    ),
    ("POST", "/api/v1/datasets/{dataset_id:uuid}/imports"): (
        "resource",
        lambda w: (f"/api/v1/datasets/{w.dataset_id}/imports", {}),
    ),
    ("GET", "/api/v1/datasets/{dataset_id:uuid}/rows"): (
        "resource",
        lambda w: (f"/api/v1/datasets/{w.dataset_id}/rows", None),
    ),
    ("GET", "/api/v1/datasets/{dataset_id:uuid}/download"): (
        "resource",
        lambda w: (f"/api/v1/datasets/{w.dataset_id}/download?format=raw", None),
    ),
    ("GET", "/api/v1/datasets/{dataset_id:uuid}/versions/{version:int}/rejects"): (
        "resource",
        lambda w: (f"/api/v1/datasets/{w.fresh_dataset(with_version=True)}/versions/1/rejects", None),
    ),
    ("POST", "/api/v1/uploads"): ("resource", lambda w: ("/api/v1/uploads", {"filename": "u.csv", "size": 10})),
    ("GET", "/api/v1/uploads"): ("list", lambda w: ("/api/v1/uploads", None)),
    ("GET", "/api/v1/uploads/{upload_id:uuid}"): ("resource", lambda w: (f"/api/v1/uploads/{w.upload_id}", None)),
    ("PUT", "/api/v1/uploads/{upload_id:uuid}"): ("resource", lambda w: (f"/api/v1/uploads/{w.upload_id}", None)),
    ("POST", "/api/v1/uploads/{upload_id:uuid}/complete"): (
        "resource",
        lambda w: (f"/api/v1/uploads/{w.upload_id}/complete", {"name": f"c{uuid.uuid4().hex[:8]}"}),
    ),
    ("GET", "/api/v1/metrics/catalog"): ("list", lambda w: ("/api/v1/metrics/catalog", None)),
    ("GET", "/api/v1/metrics/summary"): ("list", lambda w: ("/api/v1/metrics/summary", None)),
    ("GET", "/api/v1/metrics/timeseries"): ("list", lambda w: ("/api/v1/metrics/timeseries", None)),
    ("GET", "/api/v1/metrics/breakdown"): ("list", lambda w: ("/api/v1/metrics/breakdown", None)),
    ("GET", "/api/v1/metrics/recent-failures"): ("list", lambda w: ("/api/v1/metrics/recent-failures", None)),
    ("GET", "/api/v1/metrics/slowest-pipelines"): ("list", lambda w: ("/api/v1/metrics/slowest-pipelines", None)),
    ("GET", "/api/v1/metrics/failing-deployments"): ("list", lambda w: ("/api/v1/metrics/failing-deployments", None)),
    ("GET", "/metrics"): ("self", lambda w: ("/metrics", None)),
    ("GET", "/healthz"): ("self", lambda w: ("/healthz", None)),
    ("GET", "/api/v1/healthz"): ("self", lambda w: ("/api/v1/healthz", None)),
    ("GET", "/readyz"): ("self", lambda w: ("/readyz", None)),
    ("GET", "/api/v1/readyz"): ("self", lambda w: ("/api/v1/readyz", None)),
    ("GET", "/"): ("self", lambda w: ("/", None)),
    ("GET", "/{path:path}"): ("self", lambda w: ("/runs", None)),
    ("GET", "/assets/{name:str}"): ("self", lambda w: ("/assets/favicon.svg", None)),
}
