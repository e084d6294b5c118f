"""The Litestar application factory: routes, errors, OpenAPI with offline docs, shared state."""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from app.api.controllers.health import healthz, readyz
from app.api.controllers.pipelines import PipelineController
from app.api.controllers.run_logs import RunLogController
from app.api.controllers.runs import RunController
from app.api.database import Database
from app.api.errors import EXCEPTION_HANDLERS
from app.api.live_logs import LiveLogs
from app.api.request_id import RequestIdMiddleware, add_request_id_header
from app.db.engine import get_engine
from app.settings import Settings, get_settings

DOCS_PATH = "/api/docs"
#: Swagger UI's files, shipped by the swagger-ui-py package, served by us: the docs need no internet.
SWAGGER_ASSETS = Path(swagger_ui.__file__).parent / "static"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    database = Database(get_engine(settings, pool_size=20))
    live_logs = LiveLogs(
        redis_url=settings.redis_url,
        namespace=settings.redis_namespace,
        root=settings.data_path,
        ttl_seconds=settings.log_stream_ttl_seconds,
    )
    assets = f"{DOCS_PATH}/assets"
    openapi = OpenAPIConfig(
        title="Conveyor",
        version="1.0.0",
        description="An async job engine for data work. Errors are application/problem+json with a stable `code`.",
        path=DOCS_PATH,
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{assets}/swagger-ui-bundle.js",
                css_url=f"{assets}/swagger-ui.css",
                standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
            )
        ],
    )

    async def close_live_logs() -> None:
        await live_logs.close()

    return Litestar(
        route_handlers=[
            RunController,
            RunLogController,
            PipelineController,
            healthz,
            readyz,
            create_static_files_router(path=assets, directories=[SWAGGER_ASSETS], include_in_schema=False),
        ],
        dependencies={
            "db": Provide(lambda: database, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "live_logs": Provide(lambda: live_logs, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[RequestIdMiddleware()],
        before_send=[add_request_id_header],
        openapi_config=openapi,
        cors_config=CORSConfig(allow_origins=["*"], expose_headers=["X-Request-ID", "Location"]),
        on_shutdown=[close_live_logs],
        debug=False,
    )
