"""Request ids, structured logs and Prometheus metrics."""
from __future__ import annotations

import logging
import os
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from mdm.redaction import RedactingFilter
from mdm.web import guard

REQUESTS = Counter(
    "mdm_http_requests_total", "HTTP requests", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "mdm_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RECORDS_INGESTED = Counter(
    "mdm_records_ingested_total", "Source records ingested, by result", ["domain", "result"]
)

# Collectors that read the database at scrape time (queue sizes, delivery states). They
# belong to no process, so the multiprocess registry gets them as well.
_SCRAPE_COLLECTORS: list[Collector] = []


def register_scrape_collector(collector: Collector) -> None:
    """Register a database-backed collector once per process."""
    if any(type(c) is type(collector) for c in _SCRAPE_COLLECTORS):
        return
    REGISTRY.register(collector)
    _SCRAPE_COLLECTORS.append(collector)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id") or "-"
        except RuntimeError:  # outside a request
            record.request_id = "-"
        return True


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RequestIdFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.addFilter(RequestIdFilter())
        handler.addFilter(RedactingFilter())
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
        root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        # A client-supplied id is kept when it is sane, so one id follows a call across systems.
        g.request_id = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())
        g.started = time.perf_counter()
        guard.check_request()

    @app.after_request
    def _finish(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        if endpoint != "/metrics":
            REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
            started = g.get("started")
            if started is not None:
                LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics() -> Any:
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            # gunicorn workers: sum their files, and add the scrape-time database collectors,
            # which belong to no worker.
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            for collector in _SCRAPE_COLLECTORS:
                registry.register(collector)
        # Prometheus text by default, OpenMetrics when the scraper asks for it.
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        # content_type, not mimetype: Flask would add a second "; charset=utf-8".
        return Response(encoder(registry), content_type=content_type)
