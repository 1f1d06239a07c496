"""Lost races between writers: recognising them and running the use case again.

Two transactions that insert the same source key, update the same golden record from a
stale read, or lock rows in opposite orders do not have a wrong request between them:
one simply got there first. ``run_retrying`` rolls the loser back and runs its whole use
case again, so it re-reads what the winner committed and answers as if it had come
second (``unchanged`` or ``updated`` instead of a 500 or a 409). Anything else is raised
at once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

log = logging.getLogger("mdm.records.conflicts")

T = TypeVar("T")

# SQLSTATEs that mean "another transaction got there first", not "this request is wrong".
UNIQUE_VIOLATION = "23505"
SERIALIZATION_FAILURE = "40001"
DEADLOCK_DETECTED = "40P01"
_LOST_RACE_STATES = frozenset({UNIQUE_VIOLATION, SERIALIZATION_FAILURE, DEADLOCK_DETECTED})
_LOCK_CYCLE_STATES = frozenset({SERIALIZATION_FAILURE, DEADLOCK_DETECTED})

ATTEMPTS = 6


def is_lost_race(exc: BaseException) -> bool:
    """True when ``exc`` says a concurrent transaction won, so running again can succeed.

    A unique violation counts: every writer reads before it inserts, so on a re-run it
    finds the row the winner inserted. Only PostgreSQL reports these; SQLite has one
    writer, which ingestion takes before it reads.
    """
    if isinstance(exc, StaleDataError):
        return True
    # A DBAPIError wraps the driver's error; COPY (``db.bulk_insert``) raises psycopg's own.
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(driver_error, "sqlstate", None) in _LOST_RACE_STATES


def is_lock_cycle(exc: BaseException) -> bool:
    """True when PostgreSQL chose this transaction as a deadlock's (or a serialization
    failure's) victim: nothing was wrong with it, and running it again can succeed."""
    driver_error = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(driver_error, "sqlstate", None) in _LOCK_CYCLE_STATES


def run_retrying(session: Session, work: Callable[[], T], *, what: str, pause: float = 0.02,
                 retry_on: Callable[[BaseException], bool] = is_lost_race) -> T:
    """Run ``work`` (a whole use case that commits) until it does not lose a race.

    Between attempts the session is rolled back and a short random pause (exponential
    from ``pause`` seconds, at most half a second) lets the winner finish. After
    ``ATTEMPTS`` lost races the last error is raised as it was. ``retry_on`` says which
    errors are lost races (default ``is_lost_race``).
    """

    def _rollback(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.info(
            "%s lost a race (attempt %d), running it again: %s",
            what,
            state.attempt_number,
            type(exc).__name__,
        )
        session.rollback()

    retrying = Retrying(
        retry=retry_if_exception(retry_on),
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_random_exponential(multiplier=pause, max=0.5),
        before_sleep=_rollback,
        reraise=True,
    )
    return retrying(work)


F = TypeVar("F", bound=Callable[..., Any])


def retried_after_lock_cycles(work: F) -> F:
    """A use case ``work(session, ...)`` that commits, run again as a whole when PostgreSQL
    ends it as a deadlock victim (``is_lock_cycle``): a steward's action and an ingestion
    that lock the same golden and source records in opposite orders.

    Only lock cycles: an optimistic-concurrency loss (StaleDataError) keeps answering
    409/412, as a client that sent a stale version must be told. The re-run reads again,
    so its preconditions are checked against what the other transaction committed.
    """

    @functools.wraps(work)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
        return run_retrying(session, lambda: work(session, *args, **kwargs),
                            what=work.__name__, retry_on=is_lock_cycle)

    return wrapper  # type: ignore[return-value]  # same signature as work: ParamSpec can't say
