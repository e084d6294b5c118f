"""The bare-Dramatiq reference: a no-op actor on a RedisBroker configured as Conveyor's is.

Run by the Dramatiq CLI (`python -m dramatiq bench._bare_actor -p 2 -t 8 -Q bench`)
with BENCH_REDIS_URL and BENCH_BARE_NAMESPACE set. Same middleware as
Conveyor's broker (CurrentMessage only), same message shape (one id string):
what is left is the transport, with no engine around it.
"""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

QUEUE = "bench"
ACTOR = "noop"


def make_broker(redis_url: str, namespace: str) -> RedisBroker:
    return RedisBroker(url=redis_url, namespace=namespace, middleware=[CurrentMessage()], heartbeat_timeout=60_000)


def messages_key(namespace: str) -> str:
    """The hash holding the queue's not-yet-acked messages: empty once all are consumed."""
    return f"{namespace}:{QUEUE}.msgs"


if "BENCH_BARE_NAMESPACE" in os.environ:
    broker = make_broker(os.environ["BENCH_REDIS_URL"], os.environ["BENCH_BARE_NAMESPACE"])
    dramatiq.set_broker(broker)

    @dramatiq.actor(actor_name=ACTOR, queue_name=QUEUE)
    def noop(run_id: str) -> None:
        """Does nothing: the message's round trip is the whole cost."""
