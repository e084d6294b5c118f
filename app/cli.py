"""The `conveyor` command: up, api, scheduler, worker, migrate, users, rollup."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from app.settings import Settings, SettingsError, get_settings

#: Where `vite build` writes the console (app/api/console.py serves it from there).
CONSOLE_DIST = Path(__file__).resolve().parent / "console" / "dist"

logger = logging.getLogger("conveyor")


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
    up.set_defaults(handler=_up)

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", help="default CONVEYOR_API_HOST")
    api.add_argument("--port", type=int, help="default CONVEYOR_API_PORT")
    api.set_defaults(handler=_api)

    scheduler = commands.add_parser("scheduler", help="run the schedule loop, outbox relay, reaper and rollup fold")
    scheduler.set_defaults(handler=_scheduler)

    worker = commands.add_parser("worker", help="run Dramatiq worker processes")
    worker.add_argument("-p", "--processes", type=int, default=1)
    worker.add_argument("-t", "--threads", type=int, help="default CONVEYOR_WORKER_THREADS")
    worker.add_argument("-Q", "--queues", nargs="*", help="queues to consume (default CONVEYOR_QUEUE)")
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--revision", default="head", help="upgrade to this revision (default head)")
    migrate.add_argument("--downgrade", metavar="REVISION", help="downgrade to this revision instead")
    migrate.set_defaults(handler=_migrate)

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
    create.set_defaults(handler=_users_create)
    reset = user_commands.add_parser(
        "reset-password", help="give an account a temporary password, to be changed at its next sign-in"
    )
    reset.add_argument("--username", default="admin")
    reset.set_defaults(handler=_users_reset_password)

    rollup = commands.add_parser("rollup", help="the hourly metrics rollup")
    rollup_commands = rollup.add_subparsers(dest="rollup_command", required=True)
    rebuild = rollup_commands.add_parser(
        "rebuild", help="count every finished run into the rollup again (after a restore, or if in doubt)"
    )
    rebuild.set_defaults(handler=_rollup_rebuild)

    from app.client_cli import register as register_client_commands

    register_client_commands(commands)  # login, logout, runs, datasets, deployments (app/client_cli)
    return parser


def _require_urls(settings: Settings) -> None:
    missing = [
        name
        for name, value in (("DATABASE_URL", settings.database_url), ("REDIS_URL", settings.redis_url))
        if not value
    ]
    if missing:
        raise SystemExit(
            f"conveyor: {' and '.join(missing)} not set; `conveyor up` starts embedded servers, "
            "or set the URLs to use your own"
        )


def _store_problem(data_root: str) -> str | None:
    """What is wrong with the S3 data root at start, as one line naming the setting; None when it answers."""
    from app.storage import StoreMisconfigured, StoreUnavailable, open_store

    try:
        open_store(data_root).check()
    except StoreMisconfigured as exc:
        return f"conveyor: {exc.detail}"
    except StoreUnavailable:
        return f"conveyor: the data store of CONVEYOR_DATA_ROOT ({data_root}) does not answer: check AWS_ENDPOINT_URL"
    return None


def _require_store(settings: Settings, *, forks: bool = False) -> None:
    """Stop at start, in one line naming the setting, when the S3 data root refuses us or does not answer.

    A process that forks workers (Dramatiq) checks in a spawned child: the S3 client's runtime threads
    would not survive a fork into the workers.
    """
    if not settings.data_in_store:
        return
    if forks:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            problem = pool.submit(_store_problem, settings.data_root).result()
    else:
        problem = _store_problem(settings.data_root)
    if problem:
        raise SystemExit(problem)


def _api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    _require_urls(settings)
    _require_store(settings)
    uvicorn.run(
        "app.api.app:create_app",
        factory=True,
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        log_config=None,
        access_log=False,
        # The app reads X-Forwarded-For itself, only from CONVEYOR_TRUSTED_PROXIES (app/api/client_address.py);
        # uvicorn's own handling would trust 127.0.0.1 (or FORWARDED_ALLOW_IPS) and rewrite the peer first.
        proxy_headers=False,
        loop="auto",
        http="auto",
        timeout_graceful_shutdown=5,
    )
    return 0


def _scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from scheduler.service import SchedulerService

    _require_urls(settings)
    _require_store(settings)
    SchedulerService(settings).run()
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    _require_urls(settings)
    _require_store(settings, forks=True)
    os.environ.setdefault("dramatiq_worker_timeout", str(settings.worker_poll_ms))
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    argv = [
        "workers.actors",
        "-p",
        str(args.processes),
        "-t",
        str(args.threads or settings.worker_threads),
        "--worker-shutdown-timeout",
        "30000",
        "-Q",
        *(args.queues or [settings.queue]),
    ]
    return int(dramatiq_main(make_argument_parser().parse_args(argv)) or 0)


def _rollup_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from app.db.engine import get_engine
    from scheduler.rollup import RollupFolder

    with _database(settings) as settings:
        engine = get_engine(settings, pre_ping=False)
        counted = RollupFolder(engine=engine).rebuild()
        engine.dispose()
    logger.info("rollup rebuilt: %d finished runs counted", counted)
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app.db import migrate

    with _database(settings) as settings:
        if args.downgrade:
            migrate.downgrade(settings.sqlalchemy_url, args.downgrade)
        else:
            migrate.upgrade(settings.sqlalchemy_url, args.revision)
    logger.info("database at revision %s", args.downgrade or args.revision)
    return 0


def _users_create(args: argparse.Namespace, settings: Settings) -> int:
    import secrets

    from app.core.errors import DomainError
    from app.db.database import database_for
    from app.db.engine import get_engine
    from app.domain.audit import AuditContext
    from app.domain.members import get_namespace, set_member
    from app.domain.permissions import Role
    from app.domain.users import BOOTSTRAP_ADMIN, NewUser, create_user

    # CONVEYOR_ADMIN_PASSWORD is the bootstrap admin's, not every new account's.
    chosen = args.password or (settings.admin_password if args.username == BOOTSTRAP_ADMIN else None)
    password = chosen or secrets.token_urlsafe(18)
    superuser = args.superuser or args.username == BOOTSTRAP_ADMIN
    try:
        with _database(settings) as settings, database_for(get_engine(settings)).transaction() as session:
            cli = AuditContext(principal=None, actor_name="command line (conveyor users create)")
            user = create_user(
                session,
                NewUser(username=args.username, password=password, email=args.email, is_superuser=superuser),
                settings,
                audit_as=cli,
            )
            if args.namespace:
                namespace = get_namespace(session, args.namespace)
                set_member(session, namespace.id, user.id, Role.parse(args.role), audit_as=cli)
    except DomainError as exc:
        print(f"conveyor: {exc.detail}", file=sys.stderr)
        return 1
    print(f"created {'instance admin' if superuser else 'account'} {args.username!r}")
    if not chosen:
        print(f"  password (shown once): {password}")
    return 0


def _users_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    """For a lost password (the admin's too): a temporary one, shown once, that must be changed at sign-in."""
    from app.db.database import database_for
    from app.db.engine import get_engine
    from app.domain import audit
    from app.domain.users import find_by_username, reset_password

    with _database(settings) as settings, database_for(get_engine(settings)).transaction() as session:
        user = find_by_username(session, args.username)
        if user is None:
            print(f"conveyor: no account is called {args.username!r}", file=sys.stderr)
            return 1
        cli = audit.AuditContext(principal=None, actor_name="command line (conveyor users reset-password)")
        temporary = reset_password(session, user, settings, audit_as=cli)
    print(f"reset the password of {args.username!r}; its sessions are signed out")
    print(f"  temporary password (shown once, to be changed at the next sign-in): {temporary}")
    return 0


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Settings]:
    """`settings` with a database: DATABASE_URL, else the one the running `conveyor up` uses, else the embedded one.

    The embedded server is started for this command when `conveyor up` is not running, and stopped after it.
    """
    import msgspec

    from app.embedded import EmbeddedMissing, EmbeddedPostgres, running_state

    if settings.database_url:
        yield settings
        return
    root = settings.data_path
    state = running_state(root)
    if state is not None:
        yield msgspec.structs.replace(settings, database_url=state["database_url"])
        return
    server = EmbeddedPostgres(root)
    if not server.exists():
        raise SystemExit(
            f"conveyor: DATABASE_URL is not set and there is no embedded database under {root} yet: "
            "start `conveyor up` (`make run`) once from this folder, or set CONVEYOR_DATA_ROOT to its data root"
        )
    try:
        url = server.start()
    except EmbeddedMissing as exc:
        raise SystemExit(f"conveyor: DATABASE_URL is not set and {exc}") from None
    try:
        yield msgspec.structs.replace(settings, database_url=url)
    finally:
        server.stop()


def _bootstrap_admin(settings: Settings, database_url: str) -> str | None:
    """The first account, if none exists yet; stops with a clear message if the chosen password is too weak."""
    import msgspec

    from app.core.errors import DomainError
    from app.db.engine import get_engine
    from app.domain.bootstrap import ensure_admin

    settings = msgspec.structs.replace(settings, database_url=database_url)
    try:
        return ensure_admin(get_engine(settings, pool_size=1), settings)
    except DomainError as exc:
        raise SystemExit(f"conveyor: cannot create the admin account: {exc.detail} (CONVEYOR_ADMIN_PASSWORD)") from None


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from app.db import migrate
    from app.embedded import EmbeddedMissing, EmbeddedPostgres, EmbeddedRedis, clear_state, write_state
    from app.supervisor import Child, Supervisor

    _require_free_port(settings.api_host, settings.api_port)
    _require_store(settings, forks=True)
    root = settings.data_path
    root.mkdir(parents=True, exist_ok=True)
    embedded_pg = embedded_redis = None
    env = dict(os.environ)
    try:
        if not settings.database_url:
            embedded_pg = EmbeddedPostgres(root)
            env["DATABASE_URL"] = embedded_pg.start()
            logger.info("embedded PostgreSQL running in %s", embedded_pg.pgdata)
        if not settings.redis_url:
            embedded_redis = EmbeddedRedis(root)
            env["REDIS_URL"] = embedded_redis.start()
            logger.info("embedded Redis running at %s", embedded_redis.socket)
        env["CONVEYOR_DATA_ROOT"] = str(root)
        database_url = env.get("DATABASE_URL") or settings.database_url
        migrate.upgrade(Settings(database_url=database_url).sqlalchemy_url)
        generated = _bootstrap_admin(settings, database_url)
        write_state(root, database_url=database_url, redis_url=env.get("REDIS_URL") or settings.redis_url)
        executable = [sys.executable, "-m", "app"]
        workers = settings.worker_processes if args.workers is None else args.workers
        threads = str(args.threads or settings.worker_threads)
        children = [Child("api", [*executable, "api"], env=env)]
        children += [
            Child(f"scheduler-{i + 1}", [*executable, "scheduler"], env=env) for i in range(max(1, args.schedulers))
        ]
        children += [
            Child(f"worker-{i + 1}", [*executable, "worker", "-p", "1", "-t", threads], env=env) for i in range(workers)
        ]
        base = f"http://{settings.api_host}:{settings.api_port}"
        if generated:
            print(
                f"\n  Created the instance admin 'admin'. Its password, shown only this once: {generated}\n"
                "  (set CONVEYOR_ADMIN_PASSWORD to choose it instead; lost it? `conveyor users reset-password`)",
                flush=True,
            )
        print(
            f"\n  Conveyor is starting\n  API:  {base}/api/v1\n  Docs: {base}/api/docs\n"
            f"  Data: {root}\n  Stop: Ctrl-C\n",
            flush=True,
        )
        return Supervisor(
            children,
            ready=lambda: _answers_ready(base),
            on_ready=lambda: print(ready_line(base), flush=True),
        ).run()
    except EmbeddedMissing as exc:
        raise SystemExit(f"conveyor: {exc}") from None
    finally:
        clear_state(root)
        if embedded_redis is not None:
            embedded_redis.stop()
        if embedded_pg is not None:
            embedded_pg.stop()
        logger.info("stopped")


def ready_line(base: str, dist: Path | None = None) -> str:
    """The line `conveyor up` prints once the API answers: the console's URL first, since a new user starts there."""
    built = ((dist or CONSOLE_DIST) / "index.html").is_file()
    console = f"{base}/  (sign in as admin)" if built else "not built: install Node.js 20+ and run `make run` again"
    return f"\n  Conveyor is ready\n  Console: {console}\n  API:     {base}/api/v1\n"


def _require_free_port(host: str, port: int) -> None:
    """Stop at once, saying so, when the API's address is taken (the API would fail at every restart)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(
                f"conveyor: cannot listen on {host}:{port} ({exc.strerror}): another program (another "
                "`conveyor up`?) uses it; stop it or choose another port with CONVEYOR_API_PORT"
            ) from None


def _answers_ready(base: str) -> bool:
    """Whether GET /readyz answers 200 (database, migrations and Redis all fine)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=1) as response:  # noqa: S310 (our own http URL)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
