"""HEAD on every GET route (RFC 9110 §9.3.2): the GET handler answers, its headers go out, its body does not.

Litestar 2 routes HEAD only to a handler declared for it (one that returns no body), so a load balancer's
or an uptime checker's `HEAD /healthz` got 405. Rather than a second handler on every route (and a HEAD
operation on every path of the OpenAPI document), the app's ASGI handler is wrapped: a HEAD request is
routed as a GET, so the same guard, permission and rate limit apply, and its answer ends after the head,
with the GET's Content-Type, Content-Length and ETag. The handler then sees the client as gone, so a
streamed download stops at its first chunk instead of being read to its end.

What the client asked stays known: `client_method` says HEAD for such a request, and the request metrics
and the error logs use it, so a HEAD is counted and logged as a HEAD, not as the GET that answered it.
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

HEAD = "HEAD"
#: The scope state key that marks a HEAD routed as a GET.
_ASKED_HEAD = "conveyor.head"


def client_method(scope: Scope | dict[str, Any]) -> str:
    """The method the client sent: HEAD for a HEAD answered by a GET route, else the scope's own."""
    state = scope.get("state") or {}
    return HEAD if state.get(_ASKED_HEAD) else str(scope.get("method") or scope["type"])


def answer_head(app: ASGIApp) -> ASGIApp:
    """`app`, answering HEAD as GET without the body."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != HEAD:
            await app(scope, receive, send)
            return
        head_sent = False

        async def send_head(message: Message) -> None:
            nonlocal head_sent
            if head_sent:
                return  # the body, or what is left of it: not sent
            await send(message)
            if message["type"] == "http.response.start":
                head_sent = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def receive_until_head() -> ReceiveMessage:
            # Once the head is out the exchange is over: a streaming response listening for it stops here.
            return {"type": "http.disconnect"} if head_sent else await receive()

        # A copy: the server keeps its own scope, whose method (HEAD) tells it to send no body.
        state = {**scope.get("state", {}), _ASKED_HEAD: True}
        await app({**scope, "method": "GET", "state": state}, receive_until_head, send_head)  # type: ignore[typeddict-item]

    return handle


def with_head(methods: set[str]) -> set[str]:
    """The methods a path answers: HEAD wherever GET is (one rule for `Allow` on OPTIONS and on 405)."""
    return methods | {HEAD} if "GET" in methods else methods
