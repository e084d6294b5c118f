"""Resumable upload of a file into a dataset, over /api/v1/uploads.

The upload's id is kept in a small state file (keyed by the file's SHA-256 and namespace) while it is
open, so a second attempt after an interrupted one (Ctrl-C, lost network, crash) asks the server which
byte ranges are still missing and sends only those. The state file is removed once the dataset exists.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from app.client.flows import API
from app.client.http import Call, Flow, Reply
from app.client.types import Dataset, Upload

#: 8 MiB: few requests for large files, little to resend after an interruption.
CHUNK_SIZE = 8 * 1024 * 1024

#: on_progress(sent_bytes, total_bytes, resumed): called after each chunk (and once at the start).
Progress = Callable[[int, int, bool], None]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def chunks(missing: list[list[int]], chunk_size: int) -> Iterator[tuple[int, int]]:
    """The [start, end) pieces, at most `chunk_size` long, that cover the missing ranges. Pure."""
    for low, high in missing:
        for start in range(low, high, chunk_size):
            yield start, min(start + chunk_size, high)


def upload_file(
    path: Path | str,
    *,
    name: str | None = None,
    namespace: str = "default",
    description: str = "",
    tags: list[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    state_dir: Path | None = None,
    on_progress: Progress | None = None,
) -> Flow[Dataset]:
    """Upload `path` (resuming an earlier attempt recorded under `state_dir`) and make it a dataset."""
    path = Path(path)
    size = path.stat().st_size
    sha256 = file_sha256(path)
    state = state_dir / f"upload-{sha256[:32]}-{namespace}.json" if state_dir else None
    upload = yield from _resume(state)
    resumed = upload is not None
    if upload is None:
        body = {"filename": path.name, "size": size, "sha256": sha256, "namespace": namespace}
        reply = yield Call("POST", f"{API}/uploads", json=body)
        assert reply is not None
        upload = cast(Upload, reply.body)
        if state is not None:
            _write_state(state, {"upload_id": upload["id"], "path": str(path.resolve())})
    sent = size - sum(high - low for low, high in upload["missing"])
    if on_progress:
        on_progress(sent, size, resumed)
    with path.open("rb") as f:
        for start, end in chunks(upload["missing"], chunk_size):
            f.seek(start)
            data = f.read(end - start)
            headers = {"Content-Range": f"bytes {start}-{end - 1}/{size}", "Content-Type": "application/octet-stream"}
            yield Call("PUT", f"{API}/uploads/{upload['id']}", content=data, headers=headers)
            sent += end - start
            if on_progress:
                on_progress(sent, size, resumed)
    completion: dict[str, Any] = {"name": name or path.name, "description": description, "tags": tags or []}
    reply = yield Call("POST", f"{API}/uploads/{upload['id']}/complete", json=completion)
    assert reply is not None
    if state is not None:
        with contextlib.suppress(FileNotFoundError):
            state.unlink()
    return cast(Dataset, reply.body)


def _resume(state: Path | None) -> Flow[Upload | None]:
    """The still-open upload an earlier attempt left, if the server still has it."""
    if state is None or not state.exists():
        return None
    try:
        upload_id = json.loads(state.read_text())["upload_id"]
    except (ValueError, KeyError, OSError):
        return None
    reply: Reply | None = yield Call("GET", f"{API}/uploads/{upload_id}", accept=frozenset({404}))
    assert reply is not None
    if reply.status != 200 or reply.body.get("status") != "open":
        return None
    return cast(Upload, reply.body)


def _write_state(state: Path, content: dict[str, str]) -> None:
    state.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(state, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(content, f)
