"""The built console (app/console/dist) at `/`: hashed assets cached for a year, every other page is index.html.

History-mode routing means any path outside /api may be a console page, so it gets index.html
(never cached, so a new build is picked up at once) with a CSP of its own: scripts and styles
from this server only, no inline script. Paths under /api that match no route stay a 404 problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get

from app.api.console_assets import assets_handler
from app.api.rate_limit import NOT_LIMITED
from app.api.static_files import is_file
from app.core.errors import NotFound
from app.domain.permissions import Permission

#: Where `vite build` writes the console.
CONSOLE_DIST = Path(__file__).resolve().parents[1] / "console" / "dist"
#: Stricter than the docs page: no inline or eval'd script, and no inline <style> either.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PUBLIC = {"permission": Permission.PUBLIC, **NOT_LIMITED}  # a file read: app/api/rate_limit.py
NOT_BUILT = (
    "<!doctype html><meta charset='utf-8'><title>Conveyor</title>"
    "<p>The console is not built here. Install Node.js 20 or later and run <code>make run</code> again "
    "(or <code>make console</code>). The API is at <a href='/api/docs'>/api/docs</a>.</p>"
)


def console_router(dist: Path = CONSOLE_DIST) -> Router:
    """The console's routes; without a build, every page explains how to get one."""

    @get(["/", "/{path:path}"], opt=PUBLIC, include_in_schema=False, sync_to_thread=False)
    def page(request: Request) -> Response[Any]:
        path = request.url.path
        if path.startswith("/api/") or path == "/api":
            raise NotFound("no such API route", code="route_not_found")
        index = dist / "index.html"
        if not index.is_file():
            return _html(NOT_BUILT, status_code=503)
        top_level = (dist / path.lstrip("/")).resolve()
        if path != "/" and top_level.parent == dist.resolve() and is_file(top_level):
            return Response(
                top_level.read_bytes(),
                media_type=_media_type(top_level),
                headers={"cache-control": "public, max-age=3600"},
            )
        return _html(index.read_text(encoding="utf-8"))

    # Mounted even before a build exists (it answers 404 until then), so a build needs no restart.
    return Router(path="/", route_handlers=[page, assets_handler(dist / "assets")], include_in_schema=False)


def _html(text: str, status_code: int = 200) -> Response[str]:
    headers = {"cache-control": "no-cache", "content-security-policy": CONSOLE_CSP}
    # Litestar adds `; charset=utf-8` to a text/* media type: naming it here as well said it twice.
    return Response(text, media_type="text/html", status_code=status_code, headers=headers)


def _media_type(file: Path) -> str:
    return {".svg": "image/svg+xml", ".ico": "image/x-icon", ".png": "image/png", ".txt": "text/plain"}.get(
        file.suffix, "application/octet-stream"
    )
