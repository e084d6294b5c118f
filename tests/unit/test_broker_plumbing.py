"""The worker broker's own plumbing: msgspec message encoding and middleware hooks called only where defined."""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.middleware import Middleware, SkipMessage

from app.domain.dispatch import RunMessage, _encode
from workers.broker import MsgspecEncoder, WakingRedisBroker


def test_the_encoder_reads_the_message_the_api_writes_as_dramatiqs_json_does() -> None:
    sent = _encode(
        RunMessage(
            queue_name="q.bulk",
            args=("r-1",),
            options={"redis_message_id": "m-1"},
            message_id="m-1",
            message_timestamp=7,
        )
    )
    ours = MsgspecEncoder().decode(sent)
    assert ours == dramatiq.JSONEncoder().decode(sent)
    assert dramatiq.Message(**{**ours, "args": tuple(ours["args"])}).args == ("r-1",)


def test_the_encoder_round_trips_what_dramatiq_writes_itself() -> None:
    message = dramatiq.Message(queue_name="q.DQ", actor_name="a", args=("r",), kwargs={}, options={"eta": 5, "x": None})
    written = MsgspecEncoder().encode(message.asdict())
    assert dramatiq.JSONEncoder().decode(written) == {**message.asdict(), "args": ["r"]}
    with pytest.raises(dramatiq.errors.DecodeError):
        MsgspecEncoder().decode(b"{not json")


class Recorder(Middleware):
    def __init__(self, name: str, calls: list[str]) -> None:
        self.name, self.calls = name, calls

    def before_process_message(self, broker, message) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(f"before:{self.name}")
        if message == "skip":
            raise SkipMessage

    def after_process_message(self, broker, message, *, result=None, exception=None) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(f"after:{self.name}")
        raise RuntimeError("a failing after hook is logged, the others still run")


def test_emits_call_the_middleware_that_hook_them_in_dramatiqs_order_with_its_error_rules() -> None:
    calls: list[str] = []
    broker = WakingRedisBroker(url="redis://127.0.0.1:1/0", middleware=[Recorder("a", calls), Middleware()])
    broker.add_middleware(Recorder("b", calls))  # a middleware added later is called too
    assert len(broker._hooks_of("before_ack")) == 0  # nothing hooks acks: nothing to call
    broker.emit_before("process_message", "m")
    broker.emit_after("process_message", "m")
    assert calls == ["before:a", "before:b", "after:b", "after:a"]
    with pytest.raises(SkipMessage):  # a MiddlewareError stops the message, as in Dramatiq
        broker.emit_before("process_message", "skip")
