"""`conveyor runs submit-batch runs.jsonl`: many runs through the batch endpoint, safe to rerun.

Each chunk is sent with an Idempotency-Key made of the file's SHA-256, the chunk size and the chunk's
index, so running the same command again after a crash (or a lost answer) returns the runs the first
attempt created instead of submitting them twice.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from app.client_cli import FAILED, OK, UsageError, command
from app.client_cli.config import connect
from app.client_cli.output import Output
from app.core.states import ACTIVE, FINAL, RunStatus

if TYPE_CHECKING:
    from app.client import Client

UNFINISHED = sorted(s.value for s in ACTIVE)
BAD_ENDINGS = sorted(s.value for s in FINAL - {RunStatus.SUCCEEDED})


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    batch = sub.add_parser(
        "submit-batch", parents=[common], help="submit the runs of a JSON Lines file (- for stdin), rerunnable"
    )
    batch.add_argument("file", help='one run request per line: {"pipeline": "hello", "params": {…}}; - for stdin')
    batch.add_argument("--chunk-size", type=int, default=100, help="runs per request (the server's limit or less)")
    batch.add_argument("--wait", action="store_true", help="watch them finish (exit 1 if any did not succeed)")
    command(batch, _submit_batch)


def parse_lines(content: bytes) -> list[dict[str, Any]]:
    """The run requests of a JSON Lines document (blank lines skipped); UsageError names a bad line."""
    runs = []
    for number, line in enumerate(content.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            run = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(run, dict) or "pipeline" not in run:
            raise UsageError(f'line {number}: expected an object with a "pipeline"')
        runs.append(run)
    return runs


def chunk_keys(content: bytes, chunk_size: int, count: int) -> list[str]:
    """One Idempotency-Key per chunk, the same for the same file and chunk size. Pure."""
    digest = hashlib.sha256(content).hexdigest()[:40]
    return [f"batch-{digest}-{chunk_size}-{index}" for index in range((count + chunk_size - 1) // chunk_size)]


def _submit_batch(args: argparse.Namespace, out: Output) -> int:
    if args.chunk_size < 1:
        raise UsageError("--chunk-size must be at least 1")
    if args.file == "-":
        content = sys.stdin.buffer.read()
    else:
        try:
            with open(args.file, "rb") as f:
                content = f.read()
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    runs = parse_lines(content)
    if not runs:
        raise UsageError("no runs in the file")
    keys = chunk_keys(content, args.chunk_size, len(runs))
    ids: list[str] = []
    created_after: str | None = None
    with connect() as client:
        with out.progress("submitting", len(runs)) as update:
            for index, key in enumerate(keys):
                chunk = runs[index * args.chunk_size : (index + 1) * args.chunk_size]
                made = client.submit_batch(chunk, idempotency_key=key)
                ids += [r["id"] for r in made]
                created = min(r["created_at"] for r in made)
                created_after = created if created_after is None else min(created_after, created)
                update(len(ids), len(runs), "submitting")
        result: dict[str, Any] = {"submitted": len(ids), "chunks": len(keys), "run_ids": ids}
        code = OK
        if args.wait:
            failed = _watch(client, ids, created_after, out)
            result["failed"] = failed
            code = FAILED if failed else OK
    if out.json:
        out.doc(result)
    else:
        out.line(
            f"submitted {len(ids)} runs in {len(keys)} requests"
            + (f"; {len(result['failed'])} did not succeed" if result.get("failed") else "")
        )
    return code


def _watch(client: Client, ids: list[str], created_after: str | None, out: Output) -> list[str]:
    """Until none of `ids` is unfinished (listing only unfinished runs, not each run); the ids that ended badly."""
    ours = set(ids)
    # A run's created_at is its submission time; a moment earlier covers clock rounding.
    since = {"created_after": _earlier(created_after)} if created_after else {}
    with out.progress("finishing", len(ids)) as update:
        while True:
            open_ = {r["id"] for r in client.iter_runs(status=UNFINISHED, limit=500, **since)} & ours
            update(len(ids) - len(open_), len(ids), "finishing")
            if not open_:
                break
            time.sleep(1.0)
    return [r["id"] for r in client.iter_runs(status=BAD_ENDINGS, limit=500, **since) if r["id"] in ours]


def _earlier(timestamp: str) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(timestamp) - timedelta(seconds=1)).isoformat()
