"""A TCP proxy in front of PostgreSQL (or Redis) that cuts its sessions as a failover does, quietly.

pg_terminate_backend or a restart closes each session with a goodbye the client's idle socket can see.
When a primary vanishes (a host lost, a failover behind a virtual IP) the client learns nothing until it
next speaks: then its statement fails. `cut()` does that: every session's server side is closed (the
backend ends and rolls back), while the client side stays open and silent until the client sends, and is
then closed. New connections go through as before.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from psycopg.conninfo import conninfo_to_dict

CHUNK = 65536


@dataclass
class _Session:
    client: socket.socket
    server: socket.socket
    cut: threading.Event = field(default_factory=threading.Event)


class CuttingProxy:
    """Forwards a port of 127.0.0.1 to the server of `database_url`; `url` is that database through the proxy."""

    def __init__(self, database_url: str) -> None:
        #: The database behind the proxy, reached directly.
        self.database_url = database_url
        self._target = conninfo_to_dict(database_url)
        host, port = str(self._target.get("host") or "127.0.0.1"), int(self._target.get("port") or 5432)
        self._listen(f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port))
        auth = quote(str(self._target.get("user", "postgres")), safe="")
        if password := self._target.get("password"):
            auth += ":" + quote(str(password), safe="")
        self.url = f"postgresql://{auth}@127.0.0.1:{self._listener.getsockname()[1]}/{self._target['dbname']}"

    @classmethod
    def redis(cls, redis_url: str) -> CuttingProxy:
        """The same in front of the Redis of `redis_url` (redis://host:port/db); `url` is that Redis through it."""
        proxy = cls.__new__(cls)
        target = urlsplit(redis_url)
        proxy._listen((target.hostname or "127.0.0.1", target.port or 6379))
        proxy.url = target._replace(netloc=f"127.0.0.1:{proxy._listener.getsockname()[1]}").geturl()
        return proxy

    def _listen(self, upstream: tuple[str, int] | str) -> None:
        self._upstream = upstream
        self._sessions: list[_Session] = []
        self._lock = threading.Lock()
        #: Set by `down()`: new connections are closed at once, as a server that is not there refuses them.
        self._refusing = threading.Event()
        #: Connections refused while down.
        self.refused = 0
        #: Set by `stall()`: nothing is answered, and new connections are accepted and held silent.
        self._stalling = threading.Event()
        self._held: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    def down(self) -> int:
        """`cut()`, and refuse new connections until `up()`: the server is gone a while. Returns how many were cut."""
        self._refusing.set()
        return self.cut()

    def stall(self) -> int:
        """`cut()`, and answer nothing until `up()`: the server's host is gone (no refusal, no reset, silence), as a
        lost network or a paused server looks to a client. Returns how many sessions were cut."""
        self._stalling.set()
        return self.cut()

    def up(self) -> None:
        self._refusing.clear()
        self._stalling.clear()
        with self._lock:
            held, self._held = self._held, []
        for client in held:  # what a client sent meanwhile is lost: its connection ends, as a TCP timeout would end it
            _close(client)

    def cut(self) -> int:
        """Cut every open session quietly; returns how many."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.cut.set()
            _close(session.server)
        return len(sessions)

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            sessions, self._sessions = self._sessions, []
            held, self._held = self._held, []
        for client in held:
            _close(client)
        for session in sessions:
            _close(session.server)
            _close(session.client)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            if self._refusing.is_set():
                self.refused += 1
                _close(client)
                continue
            if self._stalling.is_set():
                self._hold(client)
                continue
            upstream = self._upstream
            family = socket.AF_UNIX if isinstance(upstream, str) else socket.AF_INET
            server = socket.socket(family, socket.SOCK_STREAM)
            server.connect(upstream)
            session = _Session(client, server)
            with self._lock:
                self._sessions.append(session)
            threading.Thread(target=self._to_server, args=(session,), daemon=True).start()
            threading.Thread(target=self._to_client, args=(session,), daemon=True).start()

    def _hold(self, client: socket.socket) -> None:
        """Keep `client` open and unanswered (its bytes read and dropped) until `up()` or it gives up."""
        with self._lock:
            self._held.append(client)
        threading.Thread(target=_drain, args=(client,), daemon=True).start()

    def _to_server(self, session: _Session) -> None:
        """Client bytes to the server; once cut, the client's next bytes close its socket (as a lost peer's would),
        or, while stalled, are dropped unanswered."""
        while (data := _receive(session.client)) and not session.cut.is_set():
            try:
                session.server.sendall(data)
            except OSError:
                break
        _close(session.server)
        if data and self._stalling.is_set():
            self._hold(session.client)
            return
        _close(session.client)

    @staticmethod
    def _to_client(session: _Session) -> None:
        """Server bytes to the client; a cut session says nothing more to the client (no goodbye, no close)."""
        while (data := _receive(session.server)) and not session.cut.is_set():
            with contextlib.suppress(OSError):
                session.client.sendall(data)
        if not session.cut.is_set():
            _close(session.client)


def _receive(sock: socket.socket) -> bytes:
    try:
        return sock.recv(CHUNK)
    except OSError:
        return b""


def _drain(sock: socket.socket) -> None:
    """Read and drop what `sock` sends until it is closed."""
    while _receive(sock):
        pass


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
