"""Which database errors are an outage, and how a write waits one out (no I/O: errors built by hand)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from app.db.outage import database_unavailable, retry_while_unavailable


def wrapped(orig: Exception, *, invalidated: bool = False) -> DBAPIError:
    """What SQLAlchemy raises for `orig` (a disconnect it noticed sets `connection_invalidated`)."""
    return DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection failed: Connection refused"),  # no SQLSTATE: the client's own failure
        errors.AdminShutdown("terminating connection due to administrator command"),
        errors.CannotConnectNow("the database system is starting up"),
        errors.ConnectionFailure("connection failure"),
        errors.TooManyConnections("sorry, too many clients already"),
    ],
)
def test_a_refused_or_dropped_connection_is_an_outage(error: Exception) -> None:
    assert database_unavailable(error)
    assert database_unavailable(wrapped(error))


@pytest.mark.parametrize(
    "error",
    [
        errors.QueryCanceled("canceling statement due to statement timeout"),
        errors.LockNotAvailable("could not obtain lock"),
        errors.UniqueViolation("duplicate key"),
        ValueError("not a database error"),
    ],
)
def test_other_errors_are_not_an_outage(error: Exception) -> None:
    assert not database_unavailable(error)
    assert not database_unavailable(wrapped(error))


def test_a_connection_sqlalchemy_invalidated_is_an_outage_whatever_the_driver_said() -> None:
    error = wrapped(psycopg.InterfaceError("the connection is closed"), invalidated=True)
    assert isinstance(error, DBAPIError)
    assert database_unavailable(error)


class Clock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_write_is_tried_again_until_the_database_is_back() -> None:
    clock = Clock()
    outcomes: list[Exception | str] = [wrapped(errors.AdminShutdown("down"))] * 6 + ["written"]

    def write() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = retry_while_unavailable(
        write, what="finishing a run", give_up_after=60, sleep=clock.sleep, clock=lambda: clock.now
    )
    assert result == "written"
    assert clock.sleeps == [0.1, 0.25, 0.5, 1.0, 2.0, 2.0]  # backs off, then keeps a steady pace


def test_an_outage_longer_than_the_wait_raises_the_last_error() -> None:
    clock = Clock()

    def write() -> None:
        raise wrapped(psycopg.OperationalError("connection refused"))

    with pytest.raises(OperationalError):
        retry_while_unavailable(
            write, what="starting a run", give_up_after=5, sleep=clock.sleep, clock=lambda: clock.now
        )
    assert clock.now == pytest.approx(5)


def test_a_stop_request_ends_the_wait() -> None:
    clock = Clock()

    def write() -> None:
        raise wrapped(psycopg.OperationalError("connection refused"))

    with pytest.raises(OperationalError):
        retry_while_unavailable(
            write, what="x", give_up_after=60, stop=lambda: clock.now > 1, sleep=clock.sleep, clock=lambda: clock.now
        )
    assert clock.now < 3


def test_any_other_error_is_raised_at_once() -> None:
    clock = Clock()

    def write() -> None:
        raise wrapped(errors.UniqueViolation("duplicate key"))

    with pytest.raises(IntegrityError):
        retry_while_unavailable(write, what="x", give_up_after=60, sleep=clock.sleep, clock=lambda: clock.now)
    assert clock.sleeps == []
