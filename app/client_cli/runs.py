"""`conveyor runs submit|list|show|cancel|retry|logs` (and `submit-batch`, in batch.py)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.client_cli import OK, command
from app.client_cli.config import connect
from app.client_cli.output import Output, parse_params
from app.core.states import ACTIVE

if TYPE_CHECKING:
    from app.client import Client

RUN_FIELDS = (
    "id",
    "status",
    "kind",
    "pipeline_id",
    "pipeline_version",
    "attempt",
    "params",
    "error",
    "created_at",
    "finished_at",
    "output_dataset_id",
)
LIST_COLUMNS = ("id", "status", "kind", "pipeline_id", "attempt", "created_at", "finished_at")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    from app.client_cli import batch

    runs = commands.add_parser("runs", help="submit, list, follow and steer runs")
    sub = runs.add_subparsers(dest="runs_command", required=True)

    submit = sub.add_parser("submit", parents=[common], help="submit a run of a pipeline (name or id)")
    submit.add_argument("pipeline")
    submit.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="a parameter (repeatable)")
    submit.add_argument("--namespace", default="default")
    submit.add_argument("--priority", type=int)
    submit.add_argument("--idempotency-key", help="a repeat with the same key returns the same run")
    submit.add_argument("--wait", action="store_true", help="wait for the run to end (exit 1 unless it succeeded)")
    submit.add_argument("--follow", action="store_true", help="print its log live until it ends (implies --wait)")
    command(submit, _submit)

    listing = sub.add_parser("list", parents=[common], help="runs, newest first")
    listing.add_argument("--status", action="append", help="only these statuses (repeatable)")
    listing.add_argument("--pipeline", help="a pipeline's id")
    listing.add_argument("--namespace")
    listing.add_argument("--limit", type=int, default=20, help="how many (default 20; pages are followed)")
    command(listing, _list)

    for name, handler, text in (
        ("show", _show, "one run"),
        ("cancel", _cancel, "cancel a run (a running one stops at its next step)"),
        ("retry", _retry, "run a failed run again"),
    ):
        parser = sub.add_parser(name, parents=[common], help=text)
        parser.add_argument("run_id")
        command(parser, handler)

    logs = sub.add_parser("logs", parents=[common], help="a run's log")
    logs.add_argument("run_id")
    logs.add_argument(
        "-f", "--follow", action="store_true", help="live, until the run ends (exit 1 unless it succeeded)"
    )
    command(logs, _logs)

    batch.register(sub, common)


def _submit(args: argparse.Namespace, out: Output) -> int:
    params = parse_params(args.param)
    with connect() as client:
        run = client.submit_run(
            args.pipeline,
            params,
            namespace=args.namespace,
            priority=args.priority,
            idempotency_key=args.idempotency_key,
        )
        out.line(f"submitted run [bold]{run['id']}[/] ({run['status']})")
        if args.follow:
            _print_log(client, run["id"], out)
        if args.wait or args.follow:
            run = _wait(client, run["id"], out)
        out.doc(run, RUN_FIELDS)
    return _outcome(run)


def _wait(client: Client, run_id: str, out: Output) -> Any:
    if not out.fancy:
        return client.wait_for_run(run_id)
    from rich.console import Console

    with Console(stderr=True).status(f"waiting for run {run_id}…"):
        return client.wait_for_run(run_id)


def _outcome(run: Any) -> int:
    from app.client import RunFailed

    if run["status"] in ACTIVE:
        return OK  # not waited for
    if run["status"] != "SUCCEEDED":
        raise RunFailed(run)
    return OK


def _list(args: argparse.Namespace, out: Output) -> int:
    filters = {"status": args.status, "pipeline": args.pipeline, "namespace": args.namespace}
    with connect() as client:
        items = []
        for run in client.iter_runs(limit=min(args.limit, 200), **filters):
            items.append(run)
            if len(items) >= args.limit:
                break
    out.table(items, LIST_COLUMNS, title="runs")
    return OK


def _show(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        out.doc(client.get_run(args.run_id), RUN_FIELDS)
    return OK


def _cancel(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        out.doc(client.cancel_run(args.run_id), RUN_FIELDS)
    return OK


def _retry(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        out.doc(client.retry_run(args.run_id), RUN_FIELDS)
    return OK


def _logs(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        if args.follow:
            status = _print_log(client, args.run_id, out)
            return _outcome({"id": args.run_id, "status": status})
        after = 0
        while True:
            page = client.run_log(args.run_id, after=after)
            for line in page["items"]:
                out.record(line if out.json else _text(line))
            if not page["items"]:
                return OK
            after = page["next_after"]


def _print_log(client: Client, run_id: str, out: Output) -> str:
    """Print the live log; the run's final status."""
    for event in client.follow_log(run_id):
        if event["event"] == "end":
            return str(event.get("status"))
        event.pop("event")
        out.record(event if out.json else _text(event))
    return "UNKNOWN"


def _text(line: dict[str, Any]) -> str:
    return f"{line.get('n', ''):>5}  {line.get('message', '')}"
