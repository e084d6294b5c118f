"""`conveyor login URL` and `conveyor logout`."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys

from app.client_cli import OK, UsageError, command
from app.client_cli.config import Credentials, NotSignedIn, forget, load, retry_policy
from app.client_cli.output import Output


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    login = commands.add_parser(
        "login", parents=[common], help="sign in to a Conveyor API and keep the token (0600, user config dir)"
    )
    login.add_argument("url", nargs="?", help="the API, e.g. http://127.0.0.1:8000 (default CONVEYOR_URL)")
    login.add_argument("-u", "--username", help="default: asked")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin (scripts)")
    login.add_argument("--token", help="keep this API token instead of signing in (default CONVEYOR_TOKEN)")
    command(login, _login)
    logout = commands.add_parser("logout", parents=[common], help="sign out and forget the saved token")
    command(logout, _logout)


def _login(args: argparse.Namespace, out: Output) -> int:
    from app.client import Client

    url = (args.url or os.environ.get("CONVEYOR_URL") or "").rstrip("/")
    if not url:
        raise UsageError("which API? `conveyor login URL` (or set CONVEYOR_URL)")
    token = args.token or (None if args.username or args.password_stdin else os.environ.get("CONVEYOR_TOKEN"))
    with Client(url, retry=retry_policy()) as client:
        refresh = None
        if not token:
            username = args.username or input("username: ")
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
            tokens = client.login(username, password)
            token, refresh = tokens["access_token"], tokens.get("refresh_token")
        client.token = token
        me = client.me()  # the token works (and whose it is)
    path = Credentials(url, token, refresh).save()
    out.doc({"url": url, "username": me.get("user", {}).get("username"), "credentials": str(path)})
    return OK


def _logout(args: argparse.Namespace, out: Output) -> int:
    from app.client import Client, ConveyorError

    try:
        creds: Credentials | None = load()
    except NotSignedIn:
        creds = None
    if creds is not None and creds.refresh_token:
        # Ends the session on the server too (a session, not an API token); the local file goes either way.
        with Client(creds.url, creds.token) as client, contextlib.suppress(ConveyorError):
            client.logout()
    removed = forget()
    out.doc({"signed_out": removed})
    return OK
