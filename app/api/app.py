"""The Litestar application factory: routes, the permission guard, errors, OpenAPI with offline docs."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import swagger_ui
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from app.api.bearer_lookup import BearerLookup
from app.api.console import console_router
from app.api.controllers.audit import AuditController
from app.api.controllers.auth import AuthController
from app.api.controllers.dataset_files import DatasetFileController
from app.api.controllers.datasets import DatasetController
from app.api.controllers.deployments import DeploymentController
from app.api.controllers.health import healthz, readyz
from app.api.controllers.metrics import MetricsController
from app.api.controllers.namespaces import NamespaceController
from app.api.controllers.pipeline_versions import PipelineVersionController
from app.api.controllers.pipelines import PipelineController
from app.api.controllers.run_logs import RunLogController
from app.api.controllers.runs import RunController
from app.api.controllers.tokens import TokenController
from app.api.controllers.uploads import UploadController
from app.api.controllers.users import InviteController, UserController
from app.api.controllers.webhooks import WebhookController
from app.api.dropped_connections import retry_dropped_connections
from app.api.errors import EXCEPTION_HANDLERS
from app.api.head_requests import answer_head
from app.api.headers import add_response_headers
from app.api.json_body import JsonBodyRequest
from app.api.live_logs import LiveLogs
from app.api.openapi import ASSETS_PATH, PUBLIC, document_routes, openapi_config
from app.api.openapi import DOCS_PATH as DOCS_PATH
from app.api.prometheus import LATENCY, metrics
from app.api.rate_limit import RateLimit
from app.api.request_checks import check_request
from app.api.request_id import RequestIdMiddleware
from app.api.security import make_failure_auditor, make_guard
from app.api.static_files import LocalFiles
from app.api.stream_slots import StreamSlots
from app.db.database import Database
from app.db.engine import get_engine
from app.db.queries import conninfo_of
from app.domain.dispatch import ApiBroker, EagerSender
from app.domain.throttle import LoginThrottle, throttle_client
from app.ingest.convert import warm_up as warm_up_arrow
from app.settings import Settings, get_settings

#: Swagger UI's files, shipped by the swagger-ui-py package, served by us: the docs need no internet.
SWAGGER_ASSETS = Path(swagger_ui.__file__).parent / "static"
ROUTE_HANDLERS: list[Any] = [
    AuthController,
    UserController,
    InviteController,
    NamespaceController,
    TokenController,
    AuditController,
    RunController,
    RunLogController,
    PipelineController,
    PipelineVersionController,
    DeploymentController,
    DatasetController,
    DatasetFileController,
    UploadController,
    MetricsController,
    WebhookController,
    healthz,
    readyz,
    metrics,
]


def create_app(settings: Settings | None = None, *, authenticate: bool = True) -> Litestar:
    """The API. `authenticate=False` is for benchmarks measuring the guard's cost, never for serving."""
    settings = settings or get_settings()
    database = Database(get_engine(settings, pool_size=20, pre_ping=False))
    live_logs = LiveLogs(
        redis_url=settings.redis_url,
        namespace=settings.redis_namespace,
        database=database,
        ttl_seconds=settings.log_stream_ttl_seconds,
        legacy_root=settings.data_path,
        slots=StreamSlots(total=settings.max_live_streams, per_user=settings.max_live_streams_per_user),
    )
    throttle = LoginThrottle(throttle_client(settings.redis_url), settings)
    eager = (
        EagerSender(
            engine=database.engine,
            broker=ApiBroker(settings.redis_url, settings.redis_namespace),
            actor=f"api:{socket.gethostname()}:{os.getpid()}",
        )
        if settings.eager_send and settings.redis_url
        else None
    )
    rate_limit = RateLimit(settings)
    assets = ASSETS_PATH
    openapi = openapi_config()

    bearer_lookup = BearerLookup(conninfo_of(settings.sqlalchemy_url))

    async def close_live_logs() -> None:
        await live_logs.close()
        await rate_limit.close()
        await bearer_lookup.close()

    app = Litestar(
        # The first request after Postgres dropped the pool is answered, not 503.
        route_handlers=retry_dropped_connections(
            [
                *ROUTE_HANDLERS,
                create_static_files_router(
                    path=assets,
                    directories=[SWAGGER_ASSETS],
                    file_system=LocalFiles(),
                    include_in_schema=False,
                    opt=PUBLIC,
                ),
                console_router(),
            ]
        ),
        guards=[make_guard(bearer_lookup, rate_limit, enabled=authenticate)],
        state=State({"trusted_proxies": settings.trusted_proxy_networks, "eager_sender": eager}),
        dependencies={
            "db": Provide(lambda: database, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "live_logs": Provide(lambda: live_logs, use_cache=True, sync_to_thread=False),
            "throttle": Provide(lambda: throttle, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=JsonBodyRequest,
        after_exception=[make_failure_auditor(database)],
        middleware=[RequestIdMiddleware(), LATENCY.middleware],
        before_request=check_request,
        before_send=[add_response_headers],
        openapi_config=openapi,
        cors_config=CORSConfig(
            allow_origins=settings.cors_origin_list,
            allow_credentials=False,
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Content-Range",
                "Idempotency-Key",
                "Last-Event-ID",
                "X-Request-ID",
            ],
            expose_headers=["X-Request-ID", "Location", "Retry-After", "Idempotent-Replayed"],
        )
        if settings.cors_origin_list
        else None,
        on_startup=[warm_up_arrow],
        on_shutdown=[close_live_logs],
        logging_config=None,  # app/logs.py configures every process; Litestar's default would replace our handler
        debug=False,
    )
    document_routes(app)
    app.asgi_handler = answer_head(app.asgi_handler)  # HEAD on every GET route (app/api/head_requests.py)
    return app
