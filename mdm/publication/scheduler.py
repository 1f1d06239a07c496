"""The scheduler (``mdm scheduler``): turns due cron ticks of scheduled subscriptions into
pending runs, which the workers execute.

Each tick is one row keyed by (subscription, tick time) under a unique constraint, so two
schedulers running at once trigger every tick exactly once: the second insert fails and is
ignored. Ticks missed while no scheduler ran are caught up as one run (the latest tick).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from croniter import croniter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mdm.db import utcnow
from mdm.publication import runs
from mdm.publication.models import SCHEDULE, Run, Subscription

log = logging.getLogger(__name__)


def due_tick(expression: str, since: datetime, now: datetime) -> datetime | None:
    """The latest cron tick in (since, now], or None."""
    it = croniter(expression, since)
    tick = it.get_next(datetime)
    if tick > now:
        return None
    while True:
        following = it.get_next(datetime)
        if following > now:
            return tick
        tick = following


def tick(session: Session, now: datetime | None = None) -> list[str]:
    """Create the runs that are due; returns their ids. Commits each on its own."""
    now = now or utcnow()
    subs = list(session.scalars(select(Subscription).where(
        Subscription.active.is_(True), Subscription.trigger == SCHEDULE)))
    last_ticks = dict(session.execute(
        select(Run.subscription_id, func.max(Run.scheduled_for))
        .where(Run.scheduled_for.is_not(None)).group_by(Run.subscription_id)).all())
    session.rollback()
    created = []
    for sub in subs:
        if not sub.schedule:
            continue
        since = last_ticks.get(sub.id) or sub.created_at
        due = due_tick(sub.schedule, since, now)
        if due is None:
            continue
        run = runs.create(session, sub, kind=sub.schedule_mode, reason="schedule",
                          scheduled_for=due)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another scheduler triggered this tick first
            continue
        log.info("triggered %s run of %s for %s", sub.schedule_mode, sub.name, due.isoformat())
        created.append(run.id)
    return created


def run(session_factory: Callable[[], Session], stop: threading.Event,
        interval: float = 1.0) -> None:
    while not stop.is_set():
        try:
            with session_factory() as session:
                tick(session)
        except Exception:  # keep scheduling through a database hiccup
            log.exception("scheduler tick failed")
        stop.wait(interval)
