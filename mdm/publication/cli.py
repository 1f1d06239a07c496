"""``mdm worker``, ``mdm scheduler`` and ``mdm subscriptions ...``: thin commands over the
publication services."""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import datetime
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from mdm.context import cli_context
from mdm.db import db
from mdm.errors import MdmError

log = logging.getLogger("mdm.publication")


def _fail(exc: MdmError) -> None:
    detail = f" {json.dumps(exc.errors)}" if exc.errors else ""
    click.echo(f"error: {exc.message}{detail}", err=True)
    sys.exit(2)


def _policy() -> Any:
    from mdm.publication.egress import EgressPolicy

    return EgressPolicy.from_config(current_app.config["MDM"])


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@click.command("worker")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 5000))
@click.option("--poll-interval", default=0.2, show_default=True, type=click.FloatRange(0.01, 60))
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Subscriptions delivered in parallel.")
@click.option("--metrics-port", type=int, default=None, help="Serve Prometheus metrics here.")
@click.option("--idle-exit", type=float, default=None,
              help="Exit after this many seconds without work (scripts, tests).")
@with_appcontext
def worker(batch_size: int, poll_interval: float, concurrency: int, metrics_port: int | None,
           idle_exit: float | None) -> None:
    """Deliver published events: route the outbox, send, retry, dead-letter, run snapshots."""
    from mdm.publication import metrics
    from mdm.publication.dispatcher import Dispatcher

    if metrics_port:
        from prometheus_client import start_http_server

        metrics.register_collector()
        start_http_server(metrics_port, addr="127.0.0.1")
    stop = _stop_on_signals()
    dispatcher = Dispatcher(db.new_session, current_app.extensions["mdm_domains"],
                            batch_size=batch_size, poll_interval=poll_interval,
                            concurrency=concurrency, policy=_policy())
    log.info("worker started (batch %d, poll %.2fs)", batch_size, poll_interval)
    dispatcher.run(stop, idle_exit=idle_exit)
    log.info("worker stopped")


@click.command("scheduler")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 3600))
@click.option("--once", is_flag=True, help="Trigger what is due now, then exit.")
@with_appcontext
def scheduler(interval: float, once: bool) -> None:
    """Trigger scheduled subscriptions' runs when their cron expression is due."""
    from mdm.publication import scheduler as sched

    if once:
        with db.new_session() as session:
            for run_id in sched.tick(session):
                click.echo(run_id)
        return
    stop = _stop_on_signals()
    log.info("scheduler started (every %.2fs)", interval)
    sched.run(db.new_session, stop, interval)


@click.group("subscriptions", help="Publication subscriptions: create, inspect, replay.")
def subscriptions_group() -> None:
    pass


def _json(value: str | None, what: str) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not JSON: {exc}") from exc


@subscriptions_group.command("create")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, required=True)
@click.option("--channel", required=True, type=click.Choice(["webhook", "amqp", "file"]))
@click.option("--url", help="webhook: the receiver's URL; amqp: the broker URL.")
@click.option("--timeout", type=float, help="Seconds to wait for the receiver or broker.")
@click.option("--exchange", help="amqp: exchange name template, default mdm.{domain}.")
@click.option("--routing-key", help="amqp: routing key template, default {domain}.{change}.")
@click.option("--directory", help="file: the target folder.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="file: format.")
@click.option("--target-system", help="Send this source system's own ids with each record.")
@click.option("--filter", "filter_json", help='JSON, e.g. {"statuses": ["active"]}.')
@click.option("--cron", help="Scheduled: a cron expression (trigger schedule).")
@click.option("--mode", type=click.Choice(["snapshot", "delta"]), default="snapshot")
@click.option("--contract", help="Validate payloads against this contract subject.")
@click.option("--contract-version", help="... at this version (default: latest).")
@click.option("--max-attempts", type=int)
@click.option("--retry-initial", type=float, help="First retry delay in seconds.")
@with_appcontext
def sub_create(name: str, domains: tuple[str, ...], channel: str, url: str | None,
               timeout: float | None, exchange: str | None, routing_key: str | None,
               directory: str | None, fmt: str | None, target_system: str | None,
               filter_json: str | None, cron: str | None, mode: str, contract: str | None,
               contract_version: str | None, max_attempts: int | None,
               retry_initial: float | None) -> None:
    """Create a subscription; prints its id (and a webhook's signing secret)."""
    from mdm.publication import service

    config = {"url": url, "timeout_seconds": timeout, "exchange": exchange,
              "routing_key": routing_key, "directory": directory, "format": fmt}
    data: dict[str, Any] = {
        "name": name, "domains": list(domains), "channel": channel,
        "channel_config": {k: v for k, v in config.items() if v is not None},
        "target_system": target_system, "filter": _json(filter_json, "--filter") or {},
        "trigger": "schedule" if cron else "on_change", "schedule": cron,
        "schedule_mode": mode, "contract_subject": contract,
        "contract_version": contract_version,
    }
    if max_attempts is not None:
        data["max_attempts"] = max_attempts
    if retry_initial is not None:
        data["retry_initial_seconds"] = retry_initial
        data["retry_max_seconds"] = max(600.0, retry_initial)
    try:
        sub, secret = service.create(db.session, cli_context(), current_app.extensions[
            "mdm_domains"], data, _policy())
    except MdmError as exc:
        _fail(exc)
    click.echo(sub.id)
    if secret:
        click.echo(f"signing secret (shown once): {secret}", err=True)


@subscriptions_group.command("list")
@with_appcontext
def sub_list() -> None:
    """One line per subscription: name, channel, trigger, domains, state."""
    from mdm.publication import service

    for s in service.list_all(db.session):
        trigger = f"cron '{s.schedule}' {s.schedule_mode}" if s.schedule else s.trigger
        state = "active" if s.active else "paused"
        click.echo(f"{s.name}\t{s.channel}\t{trigger}\t{','.join(s.domains)}\t{state}\t{s.id}")


def _service_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except MdmError as exc:
        _fail(exc)


@subscriptions_group.command("show")
@click.argument("subscription")
@with_appcontext
def sub_show(subscription: str) -> None:
    """A subscription's settings and delivery counts, as JSON."""
    from mdm.publication import service
    from mdm.publication.schemas import SubscriptionSchema, SubscriptionStatsSchema

    sub = _service_call(service.get, db.session, subscription)
    out = {**SubscriptionSchema().dump(sub),
           "stats": SubscriptionStatsSchema().dump(service.stats(db.session, sub.id))}
    click.echo(json.dumps(out, indent=2))


@subscriptions_group.command("set")
@click.argument("subscription")
@click.option("--active/--paused", default=None)
@click.option("--filter", "filter_json", help="JSON filter (replaces the current one).")
@click.option("--max-attempts", type=int)
@with_appcontext
def sub_set(subscription: str, active: bool | None, filter_json: str | None,
            max_attempts: int | None) -> None:
    """Pause, resume or re-filter a subscription."""
    from mdm.publication import service

    changes: dict[str, Any] = {}
    if active is not None:
        changes["active"] = active
    if filter_json is not None:
        changes["filter"] = _json(filter_json, "--filter")
    if max_attempts is not None:
        changes["max_attempts"] = max_attempts
    _service_call(service.update_subscription, db.session, cli_context(),
                  current_app.extensions["mdm_domains"], subscription, changes, _policy())
    click.echo("updated")


@subscriptions_group.command("delete")
@click.argument("subscription")
@with_appcontext
def sub_delete(subscription: str) -> None:
    """Delete a subscription with its delivery log."""
    from mdm.publication import service

    _service_call(service.delete_subscription, db.session, cli_context(), subscription)
    click.echo("deleted")


@subscriptions_group.command("rotate-secret")
@click.argument("subscription")
@click.option("--grace", default=86400, show_default=True, help="Seconds old secrets still sign.")
@with_appcontext
def sub_rotate(subscription: str, grace: int) -> None:
    """Issue a new webhook signing secret (printed once)."""
    from mdm.publication import service

    _, secret = _service_call(service.rotate_secret, db.session, cli_context(), subscription,
                              grace)
    click.echo(secret)


@subscriptions_group.command("deliveries")
@click.argument("subscription")
@click.option("--status", type=click.Choice(["pending", "retrying", "delivered", "dead"]))
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def sub_deliveries(subscription: str, status: str | None, limit: int) -> None:
    """The delivery log, oldest first."""
    from mdm.publication import service

    for d in _service_call(service.list_deliveries, db.session, subscription, status=status,
                           limit=limit):
        click.echo(f"{d.id}\t{d.status}\t{d.kind}\t{d.golden_id}\tattempts={d.attempts}\t"
                   f"{d.event_id}\t{d.last_error or ''}")


@subscriptions_group.command("requeue")
@click.argument("subscription")
@with_appcontext
def sub_requeue(subscription: str) -> None:
    """Requeue every dead letter of a subscription."""
    from mdm.publication import service

    n = _service_call(service.requeue_dead, db.session, cli_context(), subscription)
    click.echo(f"requeued {n}")


@subscriptions_group.command("replay")
@click.argument("subscription")
@click.option("--from-position", type=int, help="Replay changes after this feed position.")
@click.option("--to-position", type=int)
@click.option("--since", type=click.DateTime(), help="UTC time, e.g. 2026-11-23T10:00:00")
@click.option("--until", type=click.DateTime())
@with_appcontext
def sub_replay(subscription: str, from_position: int | None, to_position: int | None,
               since: datetime | None, until: datetime | None) -> None:
    """Queue a subscription's changes again from a cursor or a time range."""
    from mdm.publication import service

    n = _service_call(service.replay, db.session, cli_context(), subscription,
                      from_position=from_position, to_position=to_position, since=since,
                      until=until)
    click.echo(f"queued {n}")


@subscriptions_group.command("backfill")
@click.argument("subscription")
@click.option("--mode", type=click.Choice(["snapshot", "delta"]), default="snapshot")
@with_appcontext
def sub_backfill(subscription: str, mode: str) -> None:
    """Queue a full snapshot for the workers to send (e.g. to a new subscriber)."""
    from mdm.publication import service

    run = _service_call(service.backfill, db.session, cli_context(), subscription, kind=mode)
    click.echo(run.id)


@subscriptions_group.command("run")
@click.argument("subscription")
@click.option("--mode", type=click.Choice(["snapshot", "delta"]), default=None,
              help="Default: the subscription's schedule mode.")
@with_appcontext
def sub_run(subscription: str, mode: str | None) -> None:
    """Run a snapshot or delta now, in this process, and report it."""
    from mdm.publication import service

    run = _service_call(service.run_now, db.new_session, cli_context(),
                        current_app.extensions["mdm_domains"], subscription, mode,
                        policy=_policy())
    click.echo(json.dumps({"run_id": run.id, "status": run.status, "kind": run.kind,
                           "records": run.record_count, "files": run.files,
                           "error": run.error}))
    if run.status != "succeeded":
        sys.exit(1)


@subscriptions_group.command("listen")
@click.option("--port", default=8099, show_default=True)
@click.option("--secret", help="Verify signatures with this secret (whsec_...).")
@click.option("--status", default=200, show_default=True, help="Status to answer with.")
def sub_listen(port: int, secret: str | None, status: int) -> None:
    """A local webhook receiver that prints each event it acknowledges (for trying out)."""
    from mdm.publication.receiver import Receiver

    def show(event: dict[str, Any]) -> None:
        data = event.get("data") or {}
        extra = {k: data[k] for k in ("victims", "survivor", "target") if k in data}
        click.echo(f"{event.get('time')} {event.get('type')} {event.get('subject')} "
                   f"v{data.get('version')} {json.dumps(extra) if extra else ''}".rstrip())

    receiver = Receiver(port, secret=secret, status=status, on_event=show)
    click.echo(f"listening on {receiver.url} (Ctrl-C to stop)", err=True)
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.server_close()
