"""`conveyor up | api | scheduler | worker`: start the processes, and the checks they make at start."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from app.settings import Settings

logger = logging.getLogger("conveyor")
#: How long the api keeps an idle connection open. Longer than the clients that pool connections keep one idle (httpx
#: 5 s, Node's agents until the server closes it): uvicorn's own 5 s closed it just as such a client reused it, which
#: the client saw as a reset (ECONNRESET, "Server disconnected") on a request the api never received.
KEEP_ALIVE_SECONDS = 75


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


def api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.api.bounded_http import BoundedHttpToolsProtocol

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
        http=BoundedHttpToolsProtocol,  # httptools, with a bound on the request head (app/api/bounded_http.py)
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


def scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from scheduler.service import SchedulerService

    _require_urls(settings)
    _require_store(settings)
    SchedulerService(settings).run()
    return 0


def worker(args: argparse.Namespace, settings: Settings) -> int:
    _require_urls(settings)
    _require_store(settings, forks=True)
    os.environ.setdefault("dramatiq_worker_timeout", str(settings.worker_poll_ms))
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    from app.domain.lanes import lane_queues

    argv = [
        "workers.actors",
        "-p",
        str(args.processes),
        "-t",
        str(args.threads or settings.worker_threads),
        "--worker-shutdown-timeout",
        "30000",
        "-Q",
        *(args.queues or lane_queues(settings.queue)),
    ]
    return int(dramatiq_main(make_argument_parser().parse_args(argv)) or 0)


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


def up(args: argparse.Namespace, settings: Settings) -> int:
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
        migrate.upgrade(Settings(database_url=database_url).sqlalchemy_url, restart=True)
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
    if dist is None:
        from app.api.console import CONSOLE_DIST  # where app/api/console.py serves the built console from

        dist = CONSOLE_DIST
    built = (dist / "index.html").is_file()
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
