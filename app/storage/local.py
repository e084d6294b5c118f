"""The local-disk backend: today's behaviour, files under a directory, written atomically by rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from app.paths import under_root
from app.storage.errors import ObjectMissing


class LocalWriter:
    """Writes to a hidden temporary file beside the target; renamed into place on a clean exit."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        self._file: BinaryIO | None = None

    def __enter__(self) -> Self:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.temp.open("wb")
        return self

    def write(self, data: bytes | memoryview, /) -> int:
        assert self._file is not None
        return self._file.write(data)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._file is not None
        self._file.close()
        if kind is None:
            os.replace(self.temp, self.target)
        else:
            self.temp.unlink(missing_ok=True)


class LocalStore:
    """Objects are files under `root`; keys become paths through app.paths.under_root (no escaping it)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = self.root.as_uri()

    def path(self, key: str) -> Path:
        return under_root(self.root, *key.split("/"))

    def put(self, key: str, data: bytes) -> None:
        with self.writer(key) as out:
            out.write(data)

    def put_file(self, key: str, source: Path) -> None:
        with self.writer(key) as out, source.open("rb") as file:
            shutil.copyfileobj(file, out, 1024 * 1024)  # type: ignore[misc]

    def writer(self, key: str) -> LocalWriter:
        return LocalWriter(self.path(key))

    def _open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectMissing(key) from None

    def get(self, key: str) -> bytes:
        with self._open(key) as file:
            return file.read()

    def stream(self, key: str, *, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        with self._open(key) as file:
            while chunk := file.read(chunk_size):
                yield chunk

    def read_range(self, key: str, start: int, end: int) -> bytes:
        with self._open(key) as file:
            file.seek(start)
            return file.read(max(0, end - start))

    def download(self, key: str, target: Path) -> None:
        source = self.path(key)
        if not source.is_file():
            raise ObjectMissing(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            shutil.copyfile(source, temp)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectMissing(key) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        base = self.path(prefix)
        if not base.is_dir():
            return
        for folder, _dirs, files in os.walk(base):
            for name in files:
                if not (name.startswith(".") and name.endswith(".part")):
                    yield Path(folder, name).relative_to(self.root).as_posix()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self.path(key).unlink()

    def delete_prefix(self, prefix: str) -> int:
        base = self.path(prefix)
        count = sum(1 for _ in self.list(prefix))
        shutil.rmtree(base, ignore_errors=True)
        return count

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    def abort_stale_uploads(self, before: datetime) -> int:
        """Nothing to abort: a local write is one temporary file, not parts held by a server."""
        return 0

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
