"""Which database errors are lost races, and how a lost race is run again."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from mdm.records import conflicts
from mdm.records.conflicts import is_lost_race, run_retrying


class DriverError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


class FakeSession:
    def __init__(self) -> None:
        self.rollbacks = 0

    def rollback(self) -> None:
        self.rollbacks += 1


@pytest.mark.parametrize(
    ("exc", "lost"),
    [
        (StaleDataError("version moved"), True),
        (IntegrityError("INSERT", {}, DriverError("23505")), True),  # unique violation
        (OperationalError("UPDATE", {}, DriverError("40P01")), True),  # deadlock
        (OperationalError("UPDATE", {}, DriverError("40001")), True),  # serialization failure
        (DriverError("23505"), True),  # COPY raises the driver's own error
        (IntegrityError("INSERT", {}, DriverError("23503")), False),  # foreign key: a real error
        (IntegrityError("INSERT", {}, Exception("sqlite")), False),
        (ValueError("bad"), False),
    ],
)
def test_lost_races_are_told_from_errors(exc: BaseException, lost: bool) -> None:
    assert is_lost_race(exc) is lost


def test_a_lost_race_is_rolled_back_and_run_again() -> None:
    session = FakeSession()
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise DriverError("23505")
        return "done"

    assert run_retrying(session, work, what="test", pause=0) == "done"  # type: ignore[arg-type]
    assert (len(calls), session.rollbacks) == (3, 2)


def test_other_errors_and_endless_races_are_raised() -> None:
    session = FakeSession()
    calls: list[int] = []

    def wrong() -> None:
        calls.append(1)
        raise ValueError("a bug, not a race")

    with pytest.raises(ValueError):
        run_retrying(session, wrong, what="test", pause=0)  # type: ignore[arg-type]
    assert (len(calls), session.rollbacks) == (1, 0)

    def always_losing() -> None:
        calls.append(1)
        raise StaleDataError("again")

    calls.clear()
    with pytest.raises(StaleDataError):
        run_retrying(session, always_losing, what="test", pause=0)  # type: ignore[arg-type]
    assert len(calls) == conflicts.ATTEMPTS
