"""Targets are checked again when a delivery connects: a host whose DNS answer changed
after the subscription was saved (rebinding), or an allowance an operator withdrew, ends in
a delivery error; nothing reaches the receiver and the worker keeps going. File drops are
re-checked when a run writes. Secrets stay out of delivery errors and log lines."""
from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mdm.config import Config
from mdm.db import db
from mdm.publication import service
from mdm.publication.dispatcher import Dispatcher
from mdm.publication.egress import EgressPolicy
from mdm.publication.models import Delivery, Run
from mdm.publication.receiver import Receiver
from mdm.records.ingest import IngestItem, ingest
from mdm.redaction import RedactingFilter

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def receiver() -> Any:
    r = Receiver().start()
    yield r
    r.stop()


def _supplier(app: Any, ctx: Any, source_id: str) -> None:
    [result] = ingest(db.session, app.extensions["mdm_domains"], "supplier", "SAP",
                      [IngestItem(source_id, {"name": f"Supplier {source_id}",
                                              "country": "DE"})], ctx)
    assert result.golden_id


def _drain(dispatcher: Dispatcher, sub_id: str) -> None:
    for _ in range(5):
        dispatcher.route_once()
        dispatcher.deliver_batch(sub_id)


def _deliveries(sub_id: str) -> list[Delivery]:
    with db.new_session() as s:
        return list(s.scalars(select(Delivery).where(Delivery.subscription_id == sub_id)))


def test_dns_rebinding_after_saving_is_refused_at_delivery(
        app: Any, session: Any, ctx: Any, sources: Any, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = receiver.server_address[1]
    answer = {"hooks.example.test": "127.0.0.1"}

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        return REAL_GETADDRINFO(answer.get(host, host), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    sub, _ = service.create(session, ctx, app.extensions["mdm_domains"], {
        "name": "rebind", "domains": ["supplier"], "channel": "webhook",
        "channel_config": {"url": f"http://hooks.example.test:{port}/hook"},
        "retry_initial_seconds": 60})
    sub_id = sub.id
    _supplier(app, ctx, "1")
    dispatcher = Dispatcher(db.new_session, app.extensions["mdm_domains"], poll_interval=0.01)
    try:
        _drain(dispatcher, sub_id)
        assert len(receiver.received) == 1  # allowed: 127.0.0.1 is in MDM_ALLOWED_TARGETS
        answer["hooks.example.test"] = "169.254.169.254"  # the name now points inside
        dispatcher.close()  # no kept-alive connection: the next message connects anew
        _supplier(app, ctx, "2")
        _drain(dispatcher, sub_id)
    finally:
        dispatcher.close()
    assert len(receiver.received) == 1
    failed = [d for d in _deliveries(sub_id) if d.status != "delivered"]
    assert len(failed) == 1 and failed[0].attempts == 1
    assert "metadata" in (failed[0].last_error or "")


def test_an_allowance_withdrawn_is_a_delivery_error(
        app: Any, session: Any, ctx: Any, sources: Any, receiver: Receiver) -> None:
    sub, _ = service.create(session, ctx, app.extensions["mdm_domains"], {
        "name": "local", "domains": ["supplier"], "channel": "webhook",
        "channel_config": {"url": receiver.url}, "max_attempts": 1})
    sub_id = sub.id
    _supplier(app, ctx, "1")
    strict = EgressPolicy.from_config(Config(allowed_targets=()))
    dispatcher = Dispatcher(db.new_session, app.extensions["mdm_domains"], policy=strict)
    try:
        _drain(dispatcher, sub_id)
    finally:
        dispatcher.close()
    assert receiver.received == []
    [dead] = _deliveries(sub_id)
    assert dead.status == "dead" and "loopback" in (dead.last_error or "")


def test_a_file_drop_folder_turned_symlink_fails_the_run(
        app: Any, session: Any, ctx: Any, sources: Any, tmp_path: Path) -> None:
    folder = tmp_path / "erp"
    sub, _ = service.create(session, ctx, app.extensions["mdm_domains"], {
        "name": "drop", "domains": ["supplier"], "channel": "file", "trigger": "schedule",
        "schedule": "0 2 * * *", "channel_config": {"directory": str(folder)}})
    _supplier(app, ctx, "1")
    os.symlink("/etc", folder)  # after saving: swapped for a link out of the root
    run = service.run_now(db.new_session, ctx, app.extensions["mdm_domains"], sub.id)
    assert run.status == "failed" and "MDM_FILE_DROP_ROOT" in (run.error or "")
    with db.new_session() as s:
        assert s.scalar(select(Run.record_count).where(Run.id == run.id)) == 0


def test_delivery_errors_and_log_lines_carry_no_broker_password(
        app: Any, session: Any, ctx: Any, sources: Any) -> None:
    # nothing listens on port 9: the connection fails and the error names the target
    sub, _ = service.create(session, ctx, app.extensions["mdm_domains"], {
        "name": "bus", "domains": ["supplier"], "channel": "amqp",
        "channel_config": {"url": "amqp://mdm:hunter2-pw@127.0.0.1:9/%2F",
                           "timeout_seconds": 1}})
    sub_id = sub.id
    _supplier(app, ctx, "1")
    dispatcher = Dispatcher(db.new_session, app.extensions["mdm_domains"])
    try:
        _drain(dispatcher, sub_id)
    finally:
        dispatcher.close()
    [d] = _deliveries(sub_id)
    assert d.status != "delivered" and d.last_error and "hunter2-pw" not in d.last_error
    log = logging.getLogger("mdm.test")
    handler_filter = RedactingFilter()
    record = log.makeRecord("mdm.test", logging.ERROR, __file__, 1,
                            "cannot reach %s", ("amqp://mdm:hunter2-pw@127.0.0.1:9/",), None)
    assert handler_filter.filter(record)
    assert record.getMessage() == "cannot reach amqp://mdm:***@127.0.0.1:9/"
    try:
        raise ConnectionError("amqp://mdm:hunter2-pw@127.0.0.1:9/ refused")
    except ConnectionError:
        import sys

        record = log.makeRecord("mdm.test", logging.ERROR, __file__, 1, "failed", (),
                                sys.exc_info())
    handler_filter.filter(record)
    assert "hunter2-pw" not in (record.exc_text or "") and "mdm:***@" in (record.exc_text or "")


def test_a_broker_no_longer_allowed_is_a_delivery_error(
        app: Any, session: Any, ctx: Any, sources: Any) -> None:
    sub, _ = service.create(session, ctx, app.extensions["mdm_domains"], {
        "name": "bus", "domains": ["supplier"], "channel": "amqp", "max_attempts": 1,
        "channel_config": {"url": "amqp://guest:guest@127.0.0.1:5672/%2F"}})
    sub_id = sub.id
    _supplier(app, ctx, "1")
    strict = EgressPolicy.from_config(Config(allowed_targets=()))
    dispatcher = Dispatcher(db.new_session, app.extensions["mdm_domains"], policy=strict)
    try:
        _drain(dispatcher, sub_id)  # refused before connecting: no broker needed
    finally:
        dispatcher.close()
    [dead] = _deliveries(sub_id)
    assert dead.status == "dead" and "loopback" in (dead.last_error or "")
