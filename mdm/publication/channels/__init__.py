"""Delivery channels: how one batch of messages reaches a target system.

A message channel (webhook, AMQP) sends messages in order and stops at the first failure:
the outcomes it returns cover a prefix of the batch, and the rest wait for the next try so
nothing overtakes a failed message. The file drop writes whole snapshots instead (runs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mdm.publication.egress import EgressPolicy


@dataclass(frozen=True)
class Message:
    delivery_id: int
    event_id: str  # the idempotency key
    domain: str
    golden_id: str
    change: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None


class Channel(Protocol):
    def send(self, messages: list[Message]) -> list[Outcome]: ...

    def close(self) -> None: ...


def open_channel(channel: str, config: dict[str, Any], live_secrets: list[str],
                 policy: EgressPolicy) -> Channel:
    if channel == "webhook":
        from mdm.publication.channels.webhook import WebhookChannel

        return WebhookChannel(config, live_secrets, policy)
    if channel == "amqp":
        from mdm.publication.channels.amqp import AmqpChannel

        return AmqpChannel(config, policy)
    raise ValueError(f"channel {channel!r} does not deliver single messages")
