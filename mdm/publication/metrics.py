"""Publication metrics: counters and the end-to-end lag from the worker, and per-subscription
delivery states read from the database at scrape time."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from mdm.web.observability import register_scrape_collector

DELIVERIES = Counter(
    "mdm_publication_deliveries_total",
    "Delivery attempts by outcome (delivered, failed = will retry, dead)",
    ["subscription", "outcome"],
)
LAG = Histogram(
    "mdm_publication_lag_seconds",
    "End to end: committed change to the target's acknowledgement",
    ["subscription"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)


class DeliveryStateCollector(Collector):
    """mdm_publication_delivery_state{subscription,state}: pending, retrying, delivered, dead;
    mdm_publication_oldest_pending_seconds{subscription}. (The gauge is not called
    mdm_publication_deliveries: that is the worker's counter family, ..._total.)"""

    def __init__(self, engine_getter: Any) -> None:
        self.engine_getter = engine_getter

    def describe(self) -> list[Any]:
        return []  # do not touch the database at registration

    def collect(self) -> Iterator[Any]:
        from mdm.db import utcnow
        from mdm.publication.models import PENDING, Delivery, Subscription

        engine = self.engine_getter()
        if engine is None:
            return
        states = GaugeMetricFamily("mdm_publication_delivery_state",
                                   "Deliveries per subscription and state",
                                   labels=["subscription", "state"])
        oldest = GaugeMetricFamily("mdm_publication_oldest_pending_seconds",
                                   "Age of the oldest undelivered delivery",
                                   labels=["subscription"])
        state = case((Delivery.status != PENDING, Delivery.status),
                     (Delivery.attempts > 0, "retrying"), else_="pending").label("state")
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    select(Subscription.name, state, func.count(), func.min(
                        case((Delivery.status == PENDING, Delivery.created_at))))
                    .join(Subscription, Subscription.id == Delivery.subscription_id)
                    .group_by(Subscription.name, state)).all()
        except Exception:  # a scrape must not fail because the database is busy
            return
        now = utcnow()
        firsts: dict[str, Any] = {}
        for name, st, count, first in rows:
            states.add_metric([name, st], count)
            if first is not None:
                if isinstance(first, str):  # SQLite returns MIN() of a timestamp as text
                    from datetime import UTC, datetime

                    first = datetime.fromisoformat(first)
                    first = first if first.tzinfo else first.replace(tzinfo=UTC)
                firsts[name] = min(first, firsts.get(name, first))
        for name, first in firsts.items():
            oldest.add_metric([name], (now - first).total_seconds())
        yield states
        yield oldest


def register_collector() -> None:
    """Register the database collector once per process (the app and the worker), where the
    multiprocess /metrics reads it too."""
    from mdm.db import db

    register_scrape_collector(DeliveryStateCollector(lambda: db.engine))
