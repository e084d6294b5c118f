"""The transition writer's answer object (workers/answer.py) keeps the Future semantics the executor relies on."""

from __future__ import annotations

import threading

import pytest

from workers.answer import Answer


def test_a_waiter_gets_the_value_set_by_another_thread() -> None:
    answer: Answer[int] = Answer()
    assert not answer.done()
    with pytest.raises(TimeoutError):
        answer.result(timeout=0.01)
    got: list[int] = []
    waiters = [threading.Thread(target=lambda: got.append(answer.result())) for _ in range(3)]
    for waiter in waiters:
        waiter.start()
    answer.set_result(7)
    for waiter in waiters:
        waiter.join(timeout=5)
    assert got == [7, 7, 7]
    assert answer.done()
    assert answer.result(timeout=0) == 7


def test_the_error_is_raised_to_every_caller_as_it_was_set() -> None:
    answer: Answer[int] = Answer()
    error = ConnectionError("down")
    answer.set_exception(error)
    for _ in range(2):
        with pytest.raises(ConnectionError) as raised:
            answer.result()
        assert raised.value is error


def test_a_callback_runs_once_with_the_answer_whether_added_before_or_after_it_is_set() -> None:
    seen: list[tuple[str, object]] = []
    before: Answer[str] = Answer()
    before.add_done_callback(lambda a: seen.append(("before", a.result())))
    assert seen == []
    before.set_result("x")
    after: Answer[str] = Answer()
    after.set_result("y")
    after.add_done_callback(lambda a: seen.append(("after", a.result())))
    assert seen == [("before", "x"), ("after", "y")]


def test_a_callback_added_while_the_answer_is_set_runs_exactly_once() -> None:
    for _ in range(300):
        answer: Answer[int] = Answer()
        calls: list[int] = []
        go = threading.Barrier(2)

        def add(answer: Answer[int] = answer, calls: list[int] = calls, go: threading.Barrier = go) -> None:
            go.wait()
            answer.add_done_callback(lambda a: calls.append(a.result()))

        adder = threading.Thread(target=add)
        adder.start()
        go.wait()
        answer.set_result(1)
        adder.join(timeout=5)
        assert calls == [1]


def test_a_failing_callback_is_logged_and_does_not_stop_the_answer(caplog: pytest.LogCaptureFixture) -> None:
    answer: Answer[int] = Answer()
    answer.add_done_callback(lambda a: 1 / 0)
    answer.set_result(3)
    assert answer.result() == 3
    assert "callback" in caplog.text
