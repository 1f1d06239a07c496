"""AMQP 0-9-1 channel (RabbitMQ via pika): one exchange and routing key per domain, persistent
messages, publisher confirms. A message counts as delivered once the broker confirms it.

Confirms are pipelined: a batch is published, then the broker's acks (possibly "multiple")
are awaited together, so a batch costs one round trip rather than one per message. pika's
blocking adapter confirms one message at a time, so the batch is published on the adapter's
underlying asynchronous channel while the blocking connection drives its I/O.
"""
from __future__ import annotations

import time
from typing import Any

import pika
from pika.exceptions import AMQPError

from mdm.publication.channels import Message, Outcome
from mdm.publication.egress import EgressPolicy, TargetRefused
from mdm.publication.payloads import CONTENT_TYPE
from mdm.redaction import redact_text

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
DEFAULT_EXCHANGE = "mdm.{domain}"
DEFAULT_ROUTING_KEY = "{domain}.{change}"


class AmqpChannel:
    def __init__(self, config: dict[str, Any], policy: EgressPolicy) -> None:
        self.url = config.get("url") or DEFAULT_URL
        self.policy = policy
        self.exchange = config.get("exchange") or DEFAULT_EXCHANGE
        self.routing_key = config.get("routing_key") or DEFAULT_ROUTING_KEY
        self.exchange_type = config.get("exchange_type") or "topic"
        self.declare = config.get("declare", True)
        # mandatory: an unroutable message (no bound queue) is a failure, not a silent drop
        self.mandatory = bool(config.get("mandatory", False))
        self.timeout = float(config.get("timeout_seconds") or 10.0)
        self._conn: pika.BlockingConnection | None = None
        self._chan: Any = None
        self._declared: set[str] = set()
        self._next_tag = 1
        self._acked: dict[int, bool] = {}  # delivery tag -> acked (True) / nacked (False)
        # published, not yet confirmed tags, in publishing (= increasing) order: a "multiple"
        # confirm settles a prefix of them, so it costs the batch, not the connection's life
        self._unconfirmed: dict[int, None] = {}
        self._returned: set[str] = set()  # message ids the broker could not route

    def _channel(self) -> Any:
        if self._chan is None or not self._chan.is_open:
            params = pika.URLParameters(self.url)
            # connect to the address just checked, not to whatever DNS answers next
            if params.ssl_options is not None and not params.ssl_options.server_hostname:
                params.ssl_options = pika.SSLOptions(params.ssl_options.context,
                                                     server_hostname=params.host)
            params.host = self.policy.resolve(params.host, params.port)
            params.socket_timeout = self.timeout
            params.blocked_connection_timeout = self.timeout
            params.connection_attempts = 1
            self._conn = pika.BlockingConnection(params)
            self._chan = self._conn.channel()
            self._declared, self._next_tag, self._acked = set(), 1, {}
            self._unconfirmed = {}
            selected: list[bool] = []
            impl = self._chan._impl  # the asynchronous channel under the blocking adapter
            impl.add_on_return_callback(self._on_return)
            impl.confirm_delivery(ack_nack_callback=self._on_confirm,
                                  callback=lambda _frame: selected.append(True))
            self._wait(lambda: bool(selected), "confirm.select")
        return self._chan

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        ok = isinstance(method, pika.spec.Basic.Ack)
        if not method.multiple:
            self._unconfirmed.pop(method.delivery_tag, None)
            self._acked[method.delivery_tag] = ok
            return
        settled = []
        for tag in self._unconfirmed:
            if tag > method.delivery_tag:
                break
            settled.append(tag)
        for tag in settled:
            del self._unconfirmed[tag]
            self._acked[tag] = ok

    def _on_return(self, _chan: Any, _method: Any, props: Any, _body: bytes) -> None:
        self._returned.add(props.message_id)

    def _wait(self, done: Any, what: str) -> None:
        assert self._conn is not None
        deadline = time.monotonic() + self.timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} from the broker within {self.timeout:g}s")
            self._conn.process_data_events(time_limit=0.05)

    def send(self, messages: list[Message]) -> list[Outcome]:
        try:
            chan = self._channel()
        except TargetRefused as exc:
            return [Outcome(False, exc.reason[:500])]
        except (AMQPError, OSError, TimeoutError) as exc:
            self.close()
            return [Outcome(False, redact_text(f"connect: {type(exc).__name__}: {exc}")[:500])]
        tags: list[int] = []
        error: str | None = None
        try:
            for m in messages:
                fields = {"domain": m.domain, "change": m.change}
                exchange = self.exchange.format(**fields)
                if self.declare and exchange not in self._declared:
                    chan.exchange_declare(exchange, exchange_type=self.exchange_type,
                                          durable=True)
                    self._declared.add(exchange)
                chan._impl.basic_publish(
                    exchange, self.routing_key.format(**fields), m.body,
                    properties=pika.BasicProperties(
                        content_type=CONTENT_TYPE, delivery_mode=2, message_id=m.event_id,
                        headers={"idempotency-key": m.event_id, "ce-subject": m.golden_id}),
                    mandatory=self.mandatory,
                )
                tags.append(self._next_tag)
                self._unconfirmed[self._next_tag] = None
                self._next_tag += 1
            self._wait(lambda: all(t in self._acked for t in tags), "publisher confirm")
        except (AMQPError, OSError, TimeoutError) as exc:
            error = redact_text(f"{type(exc).__name__}: {exc}")[:500]
            self.close()
        outcomes: list[Outcome] = []
        for m, tag in zip(messages, tags, strict=False):
            acked = self._acked.pop(tag, None)
            if acked and m.event_id not in self._returned:
                outcomes.append(Outcome(True))
                continue
            reason = ("unroutable: no queue bound" if m.event_id in self._returned
                      else "nacked by the broker" if acked is False
                      else error or "no confirm")
            outcomes.append(Outcome(False, reason))
            break  # later messages wait, so nothing overtakes this one
        if error and not outcomes:
            outcomes.append(Outcome(False, error))
        self._returned.clear()
        return outcomes

    def close(self) -> None:
        conn, self._conn, self._chan = self._conn, None, None
        if conn is not None and conn.is_open:
            try:
                conn.close()
            except (AMQPError, OSError):
                pass
