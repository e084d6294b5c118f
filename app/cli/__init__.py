"""The `conveyor` command: its parser and dispatch.

Ops commands live by concern: starting processes in app/cli/processes.py (up, api, scheduler, worker),
database operations in app/cli/admin.py (migrate, users, rollup); the user commands that talk to an API
(login, runs, datasets, deployments) in app/client_cli/.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli import admin, processes
from app.settings import SettingsError, get_settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "client_command", False):  # user commands talk to an API: no server settings or logging
        return int(args.handler(args))
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"conveyor: invalid setting: {exc}", file=sys.stderr)
        return 2
    from app.logs import configure_logging

    configure_logging(settings, process=args.command)
    return int(args.handler(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conveyor", description="Conveyor job engine")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start api + scheduler + workers (embedded Postgres/Redis if no URLs)")
    up.add_argument("--workers", type=int, help="worker processes (default CONVEYOR_WORKER_PROCESSES)")
    up.add_argument("--threads", type=int, help="threads per worker (default CONVEYOR_WORKER_THREADS)")
    up.add_argument("--schedulers", type=int, default=1, help="scheduler replicas (default 1)")
    up.set_defaults(handler=processes.up)

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", help="default CONVEYOR_API_HOST")
    api.add_argument("--port", type=int, help="default CONVEYOR_API_PORT")
    api.set_defaults(handler=processes.api)

    scheduler = commands.add_parser("scheduler", help="run the schedule loop, outbox relay, reaper and rollup fold")
    scheduler.set_defaults(handler=processes.scheduler)

    worker = commands.add_parser("worker", help="run Dramatiq worker processes")
    worker.add_argument("-p", "--processes", type=int, default=1)
    worker.add_argument("-t", "--threads", type=int, help="default CONVEYOR_WORKER_THREADS")
    worker.add_argument(
        "-Q",
        "--queues",
        nargs="*",
        help="queues to consume (default: both lanes of CONVEYOR_QUEUE, `<queue>` and `<queue>.bulk`)",
    )
    worker.set_defaults(handler=processes.worker)

    migrate = commands.add_parser(
        "migrate",
        help="apply database migrations; at head, also create the trigram indexes behind `?search=` that are missing "
        "where the server has pg_trgm (one installed after the database was migrated without it)",
    )
    migrate.add_argument("--revision", default="head", help="upgrade to this revision (default head)")
    migrate.add_argument("--downgrade", metavar="REVISION", help="downgrade to this revision instead")
    migrate.set_defaults(handler=admin.migrate)

    users = commands.add_parser("users", help="manage accounts")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    create = user_commands.add_parser("create", help="create an account (the first one: the bootstrap admin)")
    create.add_argument("--username", default="admin")
    create.add_argument(
        "--password", help="default: generated and printed once (for `admin`: CONVEYOR_ADMIN_PASSWORD if set)"
    )
    create.add_argument("--email")
    create.add_argument("--superuser", action="store_true", help="an instance admin (default for `admin`)")
    create.add_argument("--namespace", help="also give the account a role in this namespace")
    create.add_argument("--role", choices=["viewer", "operator", "editor", "admin"], default="viewer")
    create.set_defaults(handler=admin.users_create)
    reset = user_commands.add_parser(
        "reset-password", help="give an account a temporary password, to be changed at its next sign-in"
    )
    reset.add_argument("--username", default="admin")
    reset.set_defaults(handler=admin.users_reset_password)

    rollup = commands.add_parser("rollup", help="the hourly metrics rollup")
    rollup_commands = rollup.add_subparsers(dest="rollup_command", required=True)
    rebuild = rollup_commands.add_parser(
        "rebuild", help="count every finished run into the rollup again (after a restore, or if in doubt)"
    )
    rebuild.set_defaults(handler=admin.rollup_rebuild)

    from app.client_cli import register as register_client_commands

    register_client_commands(commands)  # login, logout, runs, datasets, deployments (app/client_cli)
    return parser
