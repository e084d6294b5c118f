"""HEAD runs the GET handler and sends its head only: a streamed body is not read to its end."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from litestar import Litestar, get
from litestar.response import Stream
from litestar.testing import TestClient

from app.api.head_requests import answer_head, with_head


def endless_app(pulled: list[int]) -> Litestar:
    """An app whose one GET route streams without end (as a huge CSV download would, for this purpose)."""

    def chunks() -> Iterator[bytes]:
        for n in itertools.count():
            pulled.append(n)
            yield b"x" * 65536

    @get("/endless", sync_to_thread=False)
    def endless() -> Stream:
        return Stream(chunks(), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="a.csv"'})

    app = Litestar([endless])
    app.asgi_handler = answer_head(app.asgi_handler)
    return app


def test_head_of_an_endless_stream_sends_its_headers_and_stops_at_once() -> None:
    pulled: list[int] = []
    with TestClient(endless_app(pulled)) as client:
        head = client.head("/endless")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"].startswith("text/csv")
    assert head.headers["content-disposition"] == 'attachment; filename="a.csv"'
    assert len(pulled) <= 1  # at most the chunk already asked for when the client went away


def test_other_methods_pass_through() -> None:
    with TestClient(endless_app([])) as client:
        assert client.post("/endless").status_code == 405


def test_allow_names_head_wherever_get_is() -> None:
    assert with_head({"GET", "OPTIONS"}) == {"GET", "HEAD", "OPTIONS"}
    assert with_head({"POST"}) == {"POST"}
