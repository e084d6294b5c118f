"""One output file sent to the store while DuckDB is still writing it, with a local copy of every byte.

On an S3 data root an import used to write its Parquet to a local file and upload it after the COPY: the
upload (1.4-1.6 s for the 1 GiB CSV's 220 MiB of Parquet, most of it the store's CPU) waited for the parse.
Here DuckDB writes into a filesystem registered on its connection (DuckDB's fsspec support) whose one file
passes each buffer both to the local file (the importer's column statistics and the host's cache read it) and
to the store's streamed writer, which sends 8 MiB multipart parts as they fill. DuckDB writes such a file in
order, in buffers of about 8 MiB; a write anywhere but the end is refused, so an out-of-order writer fails the
COPY instead of sending a file with holes.

The object is complete only when the `with` block exits cleanly (after the importer has finished with the
file); an error in it, a failed COPY or a cancelled import aborts the multipart upload, so a version's object
never holds half a file. A store that fails mid-COPY fails the COPY; `failure` keeps the store's own error so
the caller reports it as what it is (unavailable: retryable), not as a bad input file.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from fsspec.spec import AbstractFileSystem

from app.storage.base import Store

#: The URL scheme DuckDB sees for a streamed output (registered per connection, so one name serves them all).
PROTOCOL = "conveyor-output"


class StreamedOutput:
    """A store object at `key` written by DuckDB through `url_for(local)`, with `local` as its local copy."""

    def __init__(self, store: Store, key: str) -> None:
        self._store = store
        self._key = key
        self._local: Path | None = None
        self._writer: Any = None  # the store's writer context, entered when DuckDB opens the file
        self._sink: Any = None
        self._file: _TeeFile | None = None
        #: The store's error that failed a write, if one did (DuckDB reports it as its own error).
        self.failure: BaseException | None = None

    @property
    def streamed(self) -> bool:
        """Whether DuckDB wrote the file through this output (else the caller uploads the local file itself)."""
        return self._file is not None

    def url_for(self, local: str | Path) -> str:
        """The COPY target for a file whose local copy is `local`; allow it in the connection's allowed_paths."""
        if self._local is not None:
            raise RuntimeError("a streamed output takes one file")
        self._local = Path(local)
        # A folder in the URL: DuckDB's allowed_paths refused `conveyor-output://data.parquet` (DuckDB 2.0).
        return f"{PROTOCOL}://out/{self._local.name}"

    def register(self, conn: Any) -> None:
        """Make `url_for`'s URL writable on the DuckDB connection `conn` (and nothing else under the scheme)."""
        conn.register_filesystem(_OutputFileSystem(self))

    def _open(self, name: str) -> _TeeFile:
        if self._local is None or name != self._local.name or self._file is not None:
            raise PermissionError(f"{PROTOCOL}: only {self._local.name if self._local else 'one file'} may be written")
        writer = self._store.writer(self._key)
        self._sink = writer.__enter__()
        self._writer = writer
        self._file = _TeeFile(self._local, self)
        return self._file

    def _send(self, data: bytes) -> None:
        try:
            self._sink.write(data)
        except BaseException as exc:
            self.failure = exc
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._file is not None:
            self._file.close()
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        if kind is None and self.failure is None:
            writer.__exit__(None, None, None)  # the last part and the completion: the object appears now
        else:
            with contextlib.suppress(Exception):  # the caller's error says what went wrong; cleanup aborts later
                writer.__exit__(kind or RuntimeError, exc or RuntimeError("aborted"), tb)


class _TeeFile(io.RawIOBase):
    """The file DuckDB writes: each buffer to the local copy and to the store, strictly in order."""

    def __init__(self, local: Path, output: StreamedOutput) -> None:
        self._local = local.open("wb")
        self._output = output
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._position + offset}.get(whence)
        if target != self._position:
            raise OSError(f"{PROTOCOL}: the output is written in order only (asked for {offset}, {whence})")
        return self._position

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to a closed output")
        data = bytes(data)
        self._local.write(data)
        self._output._send(data)
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._local.close()
        super().close()


class _OutputFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """The scheme DuckDB writes a streamed output through: one file, write only."""

    protocol = PROTOCOL
    cachable = False  # fsspec would hand every connection the first instance made with the same arguments

    def __init__(self, output: StreamedOutput) -> None:
        super().__init__()
        self._output = output

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> _TeeFile:
        if "w" not in mode:
            raise PermissionError(f"{PROTOCOL}: write only")
        return self._output._open(str(path).removeprefix(f"{PROTOCOL}://").removeprefix("out/"))

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        raise FileNotFoundError(path)  # nothing to read: DuckDB asks whether the file exists before writing
