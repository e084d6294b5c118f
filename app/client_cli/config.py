"""Where the CLI keeps the API's URL and the user's token: a 0600 file in the user's config dir.

CONVEYOR_URL and CONVEYOR_TOKEN, when set, win over the file (for CI jobs and scripts).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.client import Client, RetryPolicy


class NotSignedIn(Exception):
    """No URL or token: `conveyor login URL` first (exit code 2)."""


def config_dir() -> Path:
    """CONVEYOR_CONFIG_DIR, else the platform's user config dir (XDG on Linux) + conveyor."""
    if chosen := os.environ.get("CONVEYOR_CONFIG_DIR"):
        return Path(chosen)
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "conveyor"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "conveyor"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def uploads_dir() -> Path:
    """Where open uploads are remembered, so an interrupted `datasets upload` resumes."""
    return config_dir() / "uploads"


@dataclass
class Credentials:
    url: str
    token: str
    refresh_token: str | None = None

    def save(self) -> Path:
        """Written with 0600 from the start (never readable by others, even for a moment)."""
        path = credentials_path()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"url": self.url, "token": self.token, "refresh_token": self.refresh_token}, f)
        os.replace(tmp, path)
        return path


def load() -> Credentials:
    """The environment's URL/token over the saved ones; NotSignedIn when either is missing."""
    saved: dict[str, Any] = {}
    with contextlib.suppress(FileNotFoundError, ValueError):
        saved = json.loads(credentials_path().read_text())
    url = os.environ.get("CONVEYOR_URL") or saved.get("url")
    env_token = os.environ.get("CONVEYOR_TOKEN")
    token = env_token or saved.get("token")
    if not url or not token:
        raise NotSignedIn("not signed in: run `conveyor login URL` (or set CONVEYOR_URL and CONVEYOR_TOKEN)")
    # A refresh token belongs to the saved session, not to a token from the environment.
    refresh = None if env_token else saved.get("refresh_token")
    return Credentials(url=url, token=token, refresh_token=refresh)


def forget() -> bool:
    try:
        credentials_path().unlink()
    except FileNotFoundError:
        return False
    return True


def connect() -> Client:
    """A client signed in with the saved (or environment) credentials; refreshed tokens are saved again."""
    from app.client import Client

    creds = load()

    def saved(tokens: dict[str, Any]) -> None:
        Credentials(creds.url, tokens["access_token"], tokens.get("refresh_token") or creds.refresh_token).save()

    return Client(creds.url, creds.token, refresh_token=creds.refresh_token, on_tokens=saved, retry=retry_policy())


def retry_policy() -> RetryPolicy:
    """CONVEYOR_RETRIES attempts per call (default 4: about 3.5 s of backoff when nothing answers)."""
    from app.client import RetryPolicy

    raw = os.environ.get("CONVEYOR_RETRIES", "4")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"CONVEYOR_RETRIES must be a whole number of attempts, at least 1 (got {raw!r})")
    return RetryPolicy(attempts=int(raw))
