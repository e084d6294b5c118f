"""The transition writer's answer to one request (workers/transitions.py): waited for, or handed to a callback."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Answer(Generic[T]):
    """A request's answer, waited for (`result`) or handed to a callback (`add_done_callback`): the part of
    `concurrent.futures.Future` the executor uses.

    A Future costs a Condition (an RLock, a waiters list) per request and a `notify_all` to answer it, which
    was the writer thread's biggest own cost; here a waiter blocks on a plain lock held until the answer is
    set, and the one callback is handed over with atomic list operations instead of a lock.
    """

    __slots__ = ("_callbacks", "_done", "_error", "_unset", "_value")

    def __init__(self) -> None:
        self._unset = threading.Lock()
        self._unset.acquire()  # released when the answer is set: a waiter acquires it (and passes it on)
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[[Answer[T]], object]] = []

    def done(self) -> bool:
        return self._done

    def result(self, timeout: float | None = None) -> T:
        """The answer, waiting up to `timeout` seconds (None: for ever) for it; raises the request's error."""
        if not self._done:
            if not self._unset.acquire(timeout=-1 if timeout is None else timeout):
                raise TimeoutError
            self._unset.release()  # for any other thread waiting
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def add_done_callback(self, callback: Callable[[Answer[T]], object]) -> None:
        """Call `callback(self)` once answered: in the answering thread, or at once here if it is already."""
        self._callbacks.append(callback)
        if self._done:
            self._call_back()

    def set_result(self, value: T) -> None:
        self._value = value
        self._set()

    def set_exception(self, error: BaseException) -> None:
        self._error = error
        self._set()

    def _set(self) -> None:
        self._done = True  # after the value: whoever sees it done sees the answer
        self._unset.release()
        self._call_back()

    def _call_back(self) -> None:
        # Both the answering thread and a late `add_done_callback` may get here; each callback is popped (an
        # atomic step) by exactly one of them, so it runs once, and only after `_done` was set.
        callbacks = self._callbacks
        while callbacks:
            try:
                callback = callbacks.pop(0)
            except IndexError:
                return
            try:
                callback(self)
            except Exception:
                logger.exception("a callback of a transition's answer failed")
