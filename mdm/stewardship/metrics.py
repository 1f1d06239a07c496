"""Review-queue figures for Prometheus, computed from the database at scrape time.

``mdm_review_tasks_pending{domain, status, age}`` counts open and deferred tasks by age
bucket; ``mdm_review_task_oldest_age_seconds{domain}`` is the age of the oldest one.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mdm.web.observability import register_scrape_collector

log = logging.getLogger("mdm.stewardship.metrics")


class QueueCollector(Collector):
    def collect(self) -> Iterator[Any]:
        from mdm.db import db
        from mdm.stewardship.queue import stats

        pending = GaugeMetricFamily("mdm_review_tasks_pending", "Pending review tasks",
                                    labels=["domain", "status", "age"])
        oldest = GaugeMetricFamily("mdm_review_task_oldest_age_seconds",
                                   "Age of the oldest pending review task", labels=["domain"])
        if db.session_factory is None:
            return
        session = db.new_session()
        try:
            rows = stats(session)
        except Exception:  # a scrape must not fail because the database is away
            log.warning("review queue metrics unavailable", exc_info=True)
            return
        finally:
            session.close()
        seen: dict[str, int] = {}
        for row in rows:
            pending.add_metric([row["domain"], row["status"], row["age"]], row["count"])
            seen[row["domain"]] = row["oldest_age_seconds"]
        for domain, age in seen.items():
            oldest.add_metric([domain], age)
        yield pending
        yield oldest

    def describe(self) -> Iterator[Any]:
        return iter(())  # collected on demand: no description queries at registration


def register() -> None:
    """Register the collector once per process (several apps may share it in tests)."""
    register_scrape_collector(QueueCollector())
