"""`conveyor deployments list|show|pause|resume|trigger`."""

from __future__ import annotations

import argparse

from app.client_cli import OK, command
from app.client_cli.config import connect
from app.client_cli.output import Output, parse_params
from app.client_cli.runs import RUN_FIELDS

FIELDS = ("id", "name", "enabled", "schedule", "timezone", "pipeline_id", "params", "next_run_at", "last_run")
COLUMNS = ("id", "name", "enabled", "next_run_at")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    deployments = commands.add_parser("deployments", help="scheduled pipelines: list, pause, resume, trigger")
    sub = deployments.add_subparsers(dest="deployments_command", required=True)
    listing = sub.add_parser("list", parents=[common], help="deployments")
    listing.add_argument("--limit", type=int, default=50)
    command(listing, _list)
    for name, text in (("show", "one deployment"), ("pause", "stop its schedule"), ("resume", "start it again")):
        parser = sub.add_parser(name, parents=[common], help=text)
        parser.add_argument("deployment_id")
        parser.set_defaults(action=name)
        command(parser, _one)
    trigger = sub.add_parser("trigger", parents=[common], help="run it now, outside its schedule")
    trigger.add_argument("deployment_id")
    trigger.add_argument("-p", "--param", action="append", metavar="KEY=VALUE", help="override a parameter")
    trigger.add_argument("--idempotency-key")
    command(trigger, _trigger)


def _list(args: argparse.Namespace, out: Output) -> int:
    from app.client import flows

    with connect() as client:
        items = []
        for item in client.paginate(flows.list_deployments, limit=min(args.limit, 200)):
            items.append(item)
            if len(items) >= args.limit:
                break
    out.table(items, COLUMNS, title="deployments")
    return OK


def _one(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        action = {"show": client.get_deployment, "pause": client.pause_deployment, "resume": client.resume_deployment}
        out.doc(action[args.action](args.deployment_id), FIELDS)
    return OK


def _trigger(args: argparse.Namespace, out: Output) -> int:
    with connect() as client:
        run = client.trigger_deployment(
            args.deployment_id, parse_params(args.param), idempotency_key=args.idempotency_key
        )
    out.doc(run, RUN_FIELDS)
    return OK
