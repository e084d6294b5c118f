"""The local-disk backend: today's behaviour, files under a directory, written atomically by rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from app.paths import under_root
from app.storage.base import Part, check_parts
from app.storage.errors import ObjectMissing

#: How far apart two sweeps for stale temporaries are, at least (see LocalStore.abort_stale_uploads).
SWEEP_EVERY = timedelta(hours=1)


def temporary_name(target: Path) -> Path:
    """A hidden, unique name beside `target` to write it under before renaming it into place."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")


def is_temporary(name: str) -> bool:
    """A write in progress (or one a killed process left): never an object, never listed."""
    return name.startswith(".") and name.endswith(".part")


class LocalWriter:
    """Writes to a hidden temporary file beside the target; renamed into place on a clean exit."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = temporary_name(target)
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
        self._swept_before: datetime | None = None

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

    def compose(self, key: str, parts: list[Part]) -> None:
        check_parts(parts)  # the same rule as S3's, so a test on disk fails as it would there
        with self.writer(key) as out:
            for source, start, end in parts:
                with self._open(source) as file:
                    file.seek(start)
                    left = end - start
                    while left and (piece := file.read(min(left, 1024 * 1024))):
                        out.write(piece)
                        left -= len(piece)

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
        temp = temporary_name(target)
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
                if not is_temporary(name):
                    yield Path(folder, name).relative_to(self.root).as_posix()

    def listed(self, prefix: str) -> Iterator[tuple[str, int]]:
        for key in self.list(prefix):
            with contextlib.suppress(ObjectMissing):  # removed since it was listed: not there any more
                yield key, self.size(key)

    def list_after(self, prefix: str, after: str) -> Iterator[str]:
        base = self.path(prefix)
        if base.is_dir():
            yield from self._ordered(base, after)

    def _ordered(self, folder: Path, after: str) -> Iterator[str]:
        """The keys under `folder` greater than `after`, in key order: a folder's entries sorted as their keys sort
        (a folder's as `name/`), and a folder whose keys all come before `after` not entered."""
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name + ("/" if entry.is_dir() else ""))
        for entry in entries:
            key = Path(entry.path).relative_to(self.root).as_posix()
            if entry.is_dir():
                if key + "/" > after or after.startswith(key + "/"):
                    yield from self._ordered(Path(entry.path), after)
            elif key > after and not is_temporary(entry.name):
                yield key

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self.path(key).unlink()

    def delete_many(self, keys: Iterable[str]) -> int:
        """One unlink a key: a disk has no bulk delete, nor needs one (no request per file)."""
        count = 0
        for key in keys:
            self.delete(key)
            count += 1
        return count

    def delete_prefix(self, prefix: str) -> int:
        base = self.path(prefix)
        count = sum(1 for _ in self.list(prefix))
        shutil.rmtree(base, ignore_errors=True)
        return count

    def local_path(self, key: str) -> Path | None:
        return self.path(key)

    def abort_stale_uploads(self, before: datetime) -> int:
        """Remove the temporaries of writes last touched before `before`: a process killed mid-write (SIGKILL,
        a crash) never renames or unlinks its `.<name>.<hex>.part`, which then holds disk space for ever.

        A live write keeps touching its file, so only one idle for longer than any write takes is removed. The
        walk reads every folder of the root, so it is done at most once per SWEEP_EVERY of `before` (the cleanup
        job calls every minute; the bound is hours).
        """
        if self._swept_before is not None and before - self._swept_before < SWEEP_EVERY:
            return 0
        self._swept_before = before
        cutoff = before.timestamp()
        removed = 0
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                if not is_temporary(name):
                    continue
                path = Path(folder, name)
                with contextlib.suppress(FileNotFoundError):  # finished (renamed) or removed by another pass
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
        return removed

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
