"""The console's hashed assets, sent compressed: brotli or gzip as the browser accepts.

`vite build` writes `name.js.br` and `name.js.gz` beside each compressible asset (see
app/console/vite.config.ts), so a request costs a file read, not a compression. A build without
those siblings still gets gzip, compressed once per file and kept in memory (assets are immutable:
their name holds their hash). Cutting the sign-in page's JavaScript from ~700 KB to ~200 KB on the
wire is what makes the console usable over a slow link.
"""

from __future__ import annotations

import gzip
import mimetypes
from functools import lru_cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from app.api.rate_limit import NOT_LIMITED
from app.api.static_files import is_file
from app.core.errors import NotFound
from app.domain.permissions import Permission

#: Vite puts a content hash in every asset's name, so a year is safe.
ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable"
#: Worth compressing: text. Images and fonts are compressed already.
COMPRESSIBLE = {".js", ".mjs", ".css", ".svg", ".json", ".html", ".txt", ".map", ".wasm"}
#: Below this, the headers cost more than compression saves.
MIN_COMPRESS_BYTES = 1024
#: Precompressed siblings in order of preference (brotli is ~15 % smaller than gzip on JS).
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))
PUBLIC = {"permission": Permission.PUBLIC, **NOT_LIMITED}  # a file read: app/api/rate_limit.py


def accepted_encodings(header: str) -> set[str]:
    """The codings an Accept-Encoding header allows (`q=0` refuses one; `*` allows any)."""
    accepted: set[str] = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        q = params.strip()
        if q.startswith("q="):
            try:
                if float(q[2:]) <= 0:
                    continue
            except ValueError:
                continue
        if name == "*":
            accepted.update(encoding for encoding, _ in ENCODINGS)
        elif name:
            accepted.add(name)
    return accepted


@lru_cache(maxsize=128)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    """gzip of one asset, kept while the file is unchanged (mtime and size are part of the key)."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)


def asset_response(assets: Path, name: str, accept_encoding: str) -> Response[Any]:
    """One file of `assets` (no subfolders), in the best coding the client accepts."""
    file = assets / name
    if name.startswith(".") or not is_file(file) or file.suffix in {".br", ".gz"}:
        raise NotFound("no such console asset", code="asset_not_found")
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if media_type == "application/javascript":  # Litestar adds the charset to text/* types itself
        media_type = f"{media_type}; charset=utf-8"
    headers = {"cache-control": ASSETS_CACHE_CONTROL, "vary": "Accept-Encoding"}
    if file.suffix in COMPRESSIBLE:
        accepted = accepted_encodings(accept_encoding)
        for encoding, suffix in ENCODINGS:
            sibling = file.with_name(file.name + suffix)
            if encoding in accepted and sibling.is_file():
                return Response(
                    sibling.read_bytes(), media_type=media_type, headers={**headers, "content-encoding": encoding}
                )
        stat = file.stat()
        if "gzip" in accepted and stat.st_size >= MIN_COMPRESS_BYTES:
            body = _gzipped(str(file), stat.st_mtime_ns, stat.st_size)
            return Response(body, media_type=media_type, headers={**headers, "content-encoding": "gzip"})
    return Response(file.read_bytes(), media_type=media_type, headers=headers)


def assets_handler(assets: Path) -> Any:
    """The `/assets/{name}` route over one build's assets folder."""

    @get("/assets/{name:str}", opt=PUBLIC, include_in_schema=False, sync_to_thread=True)
    def asset(request: Request, name: FromPath[str]) -> Response[Any]:
        return asset_response(assets, name, request.headers.get("accept-encoding", ""))

    return asset
