"""The `conveyor` user commands (login, runs, datasets, deployments), over the Python client (app/client).

Exit codes scripts can rely on: 0 done (a waited-for run succeeded), 1 a run or import failed,
2 usage (bad arguments, not signed in, or the server refused the request: 4xx), 3 server error (5xx) or
no answer from the server.

Registering the commands imports no HTTP library (the client is imported when a user command runs), so
the ops commands (api, worker, scheduler) start as fast as before.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from app.client_cli.output import Output

OK, FAILED, USAGE, SERVER = 0, 1, 2, 3

Handler = Callable[[argparse.Namespace, Output], int]


class UsageError(Exception):
    """Arguments that cannot work together or cannot be read (exit code 2)."""


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the user commands to the `conveyor` parser beside the ops commands."""
    from app.client_cli import account, datasets, deployments, runs

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="plain JSON output (the default when piped)")
    account.register(commands, common)
    runs.register(commands, common)
    datasets.register(commands, common)
    deployments.register(commands, common)


def command(parser: argparse.ArgumentParser, handler: Handler) -> None:
    """Mark `parser` as a user command: main() runs it without the server's settings or logging."""
    parser.set_defaults(handler=_guarded(handler), client_command=True)


def _guarded(handler: Handler) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from app.client import ApiError, NetworkError, RunFailed
        from app.client_cli.config import NotSignedIn

        out = Output(as_json=args.json)
        try:
            return handler(args, out)
        except RunFailed as exc:
            _error(str(exc))
            return FAILED
        except (UsageError, NotSignedIn, ValueError) as exc:
            _error(str(exc))
            return USAGE
        except ApiError as exc:
            _error(f"the server answered {exc.status} {exc.code}: {exc.detail}")
            return SERVER if exc.status >= 500 else USAGE
        except NetworkError as exc:
            _error(f"no answer from the server: {exc}")
            return SERVER
        except KeyboardInterrupt:
            _error("interrupted")
            return 130

    return run


def _error(text: str) -> None:
    print(f"conveyor: {text}", file=sys.stderr, flush=True)
