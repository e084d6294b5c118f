"""A path no file can have is a missing file (404), not a server error.

A name longer than the file system allows (ENAMETOOLONG, e.g. /api/docs/assets/ + 256 characters) or a path
under a file (ENOTDIR, /api/docs/assets/swagger-ui.css/x) raised OSError from stat: Litestar's static files
turned it into a 500, and so did the console's routes (/assets/ + 5000 characters, or / + 300 once built).
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

from litestar.file_system import BaseLocalFileSystem
from litestar.types import PathType
from litestar.types.file_types import FileInfo

#: What stat says for a path that cannot name a file.
NO_SUCH_PATH = frozenset({errno.ENAMETOOLONG, errno.ENOTDIR})


def no_such_path(exc: OSError) -> bool:
    return isinstance(exc, FileNotFoundError) or exc.errno in NO_SUCH_PATH


def is_file(path: Path) -> bool:
    """`path.is_file()`, False too for a path no file can have."""
    try:
        return path.is_file()
    except OSError as exc:
        if no_such_path(exc):
            return False
        raise


class LocalFiles(BaseLocalFileSystem):
    """Litestar's local file system, answering FileNotFoundError (its 404) for a path no file can have."""

    async def info(self, path: PathType, **kwargs: Any) -> FileInfo:
        try:
            return await super().info(path, **kwargs)
        except OSError as exc:
            if no_such_path(exc):
                raise FileNotFoundError(exc.errno, exc.strerror, str(path)) from None
            raise
