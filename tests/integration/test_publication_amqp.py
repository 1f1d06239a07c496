"""The AMQP channel against the RabbitMQ on this machine (127.0.0.1:5672, guest/guest):
exchange and routing key per domain, publisher confirms, the event id as message id."""
from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from mdm.db import db
from mdm.publication import service
from mdm.publication.dispatcher import Dispatcher
from mdm.records.ingest import IngestItem, ingest

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def rabbitmq_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [pytest.mark.rabbitmq,
              pytest.mark.skipif(not rabbitmq_up(), reason="no RabbitMQ on 127.0.0.1:5672")]


def test_changes_reach_a_bound_queue_in_order(app: Any, session: Any, ctx: Any,
                                              sources: Any) -> None:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(URL))
    chan = conn.channel()
    chan.exchange_declare("mdm.test.supplier", exchange_type="topic", durable=True)
    queue = chan.queue_declare("", exclusive=True).method.queue
    chan.queue_bind(queue, "mdm.test.supplier", routing_key="supplier.#")
    try:
        sub, _ = service.create(session, ctx, app.extensions["mdm_domains"], {
            "name": "bus", "domains": ["supplier"], "channel": "amqp", "target_system": "SAP",
            "channel_config": {"url": URL, "exchange": "mdm.test.{domain}",
                               "routing_key": "{domain}.{change}", "mandatory": True}})
        registry = app.extensions["mdm_domains"]
        for version in range(3):
            ingest(session, registry, "supplier", "SAP",
                   [IngestItem("4711", {"name": f"Acme GmbH {version}", "country": "DE"})], ctx)
        dispatcher = Dispatcher(db.new_session, registry)
        dispatcher.route_once()
        for _ in range(3):
            dispatcher.deliver_batch(sub.id)
        dispatcher.close()
        got = []
        for _ in range(3):
            method, props, body = chan.basic_get(queue, auto_ack=True)
            assert method is not None
            got.append((method.routing_key, props.message_id, json.loads(body)))
        assert [rk for rk, _, _ in got] == ["supplier.created", "supplier.updated",
                                            "supplier.updated"]
        assert all(mid == event["id"] for _, mid, event in got)
        assert [e["data"]["version"] for _, _, e in got] == [1, 2, 3]
        assert got[0][2]["data"]["target"]["id"] == "4711"
        assert service.stats(session, sub.id)["delivered"] == 3
    finally:
        chan.exchange_delete("mdm.test.supplier")
        conn.close()
