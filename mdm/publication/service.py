"""Publication use cases: managing subscriptions, reading their delivery logs, replay,
backfill and requeueing dead letters. Every write is audited; each call commits once."""
from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from croniter import croniter
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mdm.audit.service import audit
from mdm.context import RequestContext
from mdm.db import new_id, utcnow
from mdm.domains.registry import DomainRegistry
from mdm.errors import AlreadyExists, ClaimedByAnother, NotFound, ValidationFailed
from mdm.events import service as events
from mdm.events.models import ChangeEvent
from mdm.publication import filters, runs, signing
from mdm.publication.channels.amqp import DEFAULT_URL as DEFAULT_AMQP_URL
from mdm.publication.channels.filedrop import FORMATS
from mdm.publication.egress import EgressPolicy, TargetRefused
from mdm.publication.models import (
    AMQP,
    CHANNELS,
    DEAD,
    DELIVERED,
    FILE,
    KIND_REPLAY,
    ON_CHANGE,
    PENDING,
    RUN_RUNNING,
    SCHEDULE,
    SCHEDULE_MODES,
    SNAPSHOT,
    TRIGGERS,
    WEBHOOK,
    Delivery,
    Run,
    Subscription,
)
from mdm.redaction import redact
from mdm.sources.models import SourceSystem

EDITABLE = ("description", "target_system", "domains", "filter", "channel", "channel_config",
            "trigger", "schedule", "schedule_mode", "contract_subject", "contract_version",
            "max_attempts", "retry_initial_seconds", "retry_max_seconds", "active")
EXCHANGE_TYPES = ("topic", "direct", "fanout", "headers")
TEMPLATE_FIELDS = {"domain", "change"}
REPLAY_CHUNK = 5000


# --- validation -------------------------------------------------------------------------

def _template_errors(value: Any) -> str | None:
    if not isinstance(value, str) or not value or len(value) > 255:
        return "Must be a non-empty string of at most 255 characters."
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
    except ValueError:
        return "Not a valid template."
    if fields - TEMPLATE_FIELDS:
        return "Only {domain} and {change} may be used."
    return None


_Err = Callable[[str, str], None]
_ALLOWED_SETTINGS = {
    WEBHOOK: {"url", "timeout_seconds"},
    AMQP: {"url", "exchange", "routing_key", "exchange_type", "declare", "mandatory",
           "timeout_seconds"},
    FILE: {"directory", "format"},
}


def _channel_errors(channel: str, cfg: dict[str, Any], policy: EgressPolicy | None
                    ) -> dict[str, list[str]]:
    """What is wrong with a channel's settings; ``policy`` also checks where it points
    (None: the target is unchanged and is checked again at delivery)."""
    errors: dict[str, list[str]] = {}

    def err(key: str, msg: str) -> None:
        errors.setdefault(f"channel_config.{key}", []).append(msg)

    for key in sorted(set(cfg) - _ALLOWED_SETTINGS[channel]):
        err(key, f"Unknown setting for a {channel} channel.")
    timeout = cfg.get("timeout_seconds")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                or not 0.1 <= timeout <= 120):
        err("timeout_seconds", "Must be a number between 0.1 and 120.")
    {WEBHOOK: _webhook_errors, AMQP: _amqp_errors, FILE: _file_errors}[channel](
        cfg, policy, err)
    return errors


def _webhook_errors(cfg: dict[str, Any], policy: EgressPolicy | None, err: _Err) -> None:
    url = cfg.get("url")
    if not isinstance(url, str):
        err("url", "An http:// or https:// URL is required.")
        return
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        err("url", "An http:// or https:// URL is required.")
    elif policy is not None and (problem := policy.url_problem(url, credentials_allowed=False)):
        err("url", problem)


def _amqp_errors(cfg: dict[str, Any], policy: EgressPolicy | None, err: _Err) -> None:
    url = cfg.get("url")
    if url is not None and (not isinstance(url, str)
                            or urlparse(url).scheme not in ("amqp", "amqps")):
        err("url", "Must be an amqp:// or amqps:// URL.")
    elif policy is not None and (problem := policy.url_problem(
            url or DEFAULT_AMQP_URL, credentials_allowed=True)):
        err("url", problem)
    for key in ("exchange", "routing_key"):
        if key in cfg and (problem := _template_errors(cfg[key])):
            err(key, problem)
    if cfg.get("exchange_type", "topic") not in EXCHANGE_TYPES:
        err("exchange_type", f"One of {', '.join(EXCHANGE_TYPES)}.")
    for key in ("declare", "mandatory"):
        if key in cfg and not isinstance(cfg[key], bool):
            err(key, "Must be true or false.")


def _file_errors(cfg: dict[str, Any], policy: EgressPolicy | None, err: _Err) -> None:
    if policy is not None:
        try:
            policy.drop_directory(cfg.get("directory"))
        except TargetRefused as exc:
            err("directory", exc.reason)
    if cfg.get("format", "csv") not in FORMATS:
        err("format", f"One of {', '.join(FORMATS)}.")


def _validate(session: Session, registry: DomainRegistry, data: dict[str, Any],
              policy: EgressPolicy | None) -> None:
    errors: dict[str, list[str]] = {}
    domains = data.get("domains") or []
    unknown = [d for d in domains if d not in registry]
    if not domains:
        errors["domains"] = ["Name at least one domain."]
    elif unknown:
        errors["domains"] = [f"Unknown domains: {', '.join(unknown)}."]
    names = {a.name for d in domains if d in registry for a in registry.get(d).attributes}
    errors.update(filters.validate(data.get("filter") or {}, names))
    target = data.get("target_system")
    if target and session.scalar(select(SourceSystem.id).where(SourceSystem.code == target)) \
            is None:
        errors["target_system"] = ["Not a registered source system."]
    channel, trigger = data.get("channel"), data.get("trigger", ON_CHANGE)
    if channel not in CHANNELS:
        errors["channel"] = [f"One of {', '.join(CHANNELS)}."]
    else:
        cfg = data.get("channel_config") or {}
        if not isinstance(cfg, dict):
            errors["channel_config"] = ["Must be an object."]
        else:
            errors.update(_channel_errors(channel, cfg, policy))
        if channel == FILE and trigger != SCHEDULE:
            errors["trigger"] = ["A file drop is written on a schedule: use trigger 'schedule'."]
    errors.update(_timing_errors(data, trigger))
    if data.get("contract_version") and not data.get("contract_subject"):
        errors["contract_version"] = ["Pin a contract_subject too."]
    if not errors and data.get("contract_subject"):
        errors.update(_contract_errors(session, data["contract_subject"],
                                       data.get("contract_version")))
    if errors:
        raise ValidationFailed("The subscription is not valid.", errors=errors)


def _timing_errors(data: dict[str, Any], trigger: str) -> dict[str, list[str]]:
    """Trigger, schedule and retry settings."""
    errors: dict[str, list[str]] = {}
    if trigger not in TRIGGERS:
        errors["trigger"] = [f"One of {', '.join(TRIGGERS)}."]
    schedule = data.get("schedule")
    if trigger == SCHEDULE:
        if not schedule:
            errors["schedule"] = ["A cron expression is required for trigger 'schedule'."]
        elif not croniter.is_valid(schedule):
            errors["schedule"] = ["Not a valid cron expression."]
    elif schedule:
        errors["schedule"] = ["Only scheduled subscriptions take a cron expression."]
    if data.get("schedule_mode", SNAPSHOT) not in SCHEDULE_MODES:
        errors["schedule_mode"] = [f"One of {', '.join(SCHEDULE_MODES)}."]
    initial = data.get("retry_initial_seconds", 1.0)
    if data.get("retry_max_seconds", 600.0) < initial:
        errors["retry_max_seconds"] = ["Must not be smaller than retry_initial_seconds."]
    return errors


def _contract_errors(session: Session, subject: str, version: str | None) -> dict[str, list[str]]:
    """Check the pin resolves when the registry is installed (it may land later)."""
    from mdm.publication import contract_check

    try:
        import contracts.registry.service  # noqa: F401
    except ImportError:
        return {}
    try:
        contract_check.validator(session, subject, version)
    except contract_check.ContractUnavailable as exc:
        session.rollback()
        return {"contract_subject": [str(exc)]}
    return {}


# --- subscriptions ----------------------------------------------------------------------

def _public(sub: Subscription) -> dict[str, Any]:
    """What the audit trail keeps of a subscription: everything but the secrets."""
    return {k: getattr(sub, k) for k in ("name", *EDITABLE)}


def get(session: Session, sub_id: str) -> Subscription:
    sub = session.get(Subscription, sub_id)
    if sub is None:
        sub = session.scalar(select(Subscription).where(Subscription.name == sub_id))
    if sub is None:
        raise NotFound(f"No subscription '{sub_id}'")
    return sub


def list_all(session: Session) -> list[Subscription]:
    return list(session.scalars(select(Subscription).order_by(Subscription.name)))


def create(session: Session, ctx: RequestContext, registry: DomainRegistry,
           data: dict[str, Any], policy: EgressPolicy | None = None
           ) -> tuple[Subscription, str | None]:
    """Create a subscription; returns it and, for a webhook, its signing secret (shown once).

    ``policy`` says where subscriptions may point (default: from the environment)."""
    _validate(session, registry, data, policy or EgressPolicy.from_env())
    if session.scalar(select(Subscription.id).where(Subscription.name == data["name"])):
        raise AlreadyExists(f"A subscription named '{data['name']}' exists.",
                       errors={"name": ["Already taken."]})
    now = utcnow()
    secret = signing.new_secret() if data["channel"] == WEBHOOK else None
    sub = Subscription(
        id=new_id(), name=data["name"], description=data.get("description"),
        target_system=data.get("target_system"), domains=list(dict.fromkeys(data["domains"])),
        filter=data.get("filter") or {}, channel=data["channel"],
        channel_config=data.get("channel_config") or {},
        secrets=[{"secret": secret, "created_at": now.isoformat(), "expires_at": None}]
        if secret else [],
        trigger=data.get("trigger", ON_CHANGE), schedule=data.get("schedule"),
        schedule_mode=data.get("schedule_mode", SNAPSHOT),
        contract_subject=data.get("contract_subject"),
        contract_version=data.get("contract_version"),
        max_attempts=data.get("max_attempts", 8),
        retry_initial_seconds=data.get("retry_initial_seconds", 1.0),
        retry_max_seconds=data.get("retry_max_seconds", 600.0),
        active=data.get("active", True), created_at=now, updated_at=now,
    )
    session.add(sub)
    audit(session, ctx, "subscription.create", "publication_subscription", sub.id,
          after=_public(sub))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise AlreadyExists(f"A subscription named '{data['name']}' exists.",
                       errors={"name": ["Already taken."]}) from exc
    return sub, secret


def _unredacted(stored: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Settings sent back as they were read (``amqp://mdm:***@host``) keep the stored
    secret rather than replacing it with the redaction mark."""
    return {k: stored[k] if k in stored and v != stored[k] and v == redact(stored[k]) else v
            for k, v in given.items()}


def update_subscription(session: Session, ctx: RequestContext, registry: DomainRegistry,
                        sub_id: str, changes: dict[str, Any],
                        policy: EgressPolicy | None = None) -> tuple[Subscription, str | None]:
    """Change a subscription. Its target is checked again when channel or settings change
    (pausing a subscription whose target is no longer allowed stays possible)."""
    sub = get(session, sub_id)
    before = _public(sub)
    if isinstance(changes.get("channel_config"), dict):
        changes = {**changes, "channel_config": _unredacted(sub.channel_config or {},
                                                             changes["channel_config"])}
    merged = {**before, **{k: v for k, v in changes.items() if k in EDITABLE}}
    if "channel" in changes and "channel_config" not in changes \
            and changes["channel"] != sub.channel:
        merged["channel_config"] = {}
    retargeted = "channel" in changes or "channel_config" in changes
    _validate(session, registry, merged,
              (policy or EgressPolicy.from_env()) if retargeted else None)
    for key in EDITABLE:
        if key in changes:
            setattr(sub, key, merged[key])
    if "channel_config" in merged:
        sub.channel_config = merged["channel_config"]
    secret = None
    if sub.channel == WEBHOOK and not sub.secrets:
        secret = signing.new_secret()
        sub.secrets = [{"secret": secret, "created_at": utcnow().isoformat(),
                        "expires_at": None}]
    sub.updated_at = utcnow()
    audit(session, ctx, "subscription.update", "publication_subscription", sub.id,
          before=before, after=_public(sub))
    session.commit()
    return sub, secret


def delete_subscription(session: Session, ctx: RequestContext, sub_id: str) -> None:
    sub = get(session, sub_id)
    before = _public(sub)
    session.execute(delete(Delivery).where(Delivery.subscription_id == sub.id))
    session.execute(delete(Run).where(Run.subscription_id == sub.id))
    session.delete(sub)
    audit(session, ctx, "subscription.delete", "publication_subscription", sub.id,
          before=before)
    session.commit()


def rotate_secret(session: Session, ctx: RequestContext, sub_id: str,
                  grace_seconds: int) -> tuple[Subscription, str]:
    """A new signing secret; the previous ones keep signing for ``grace_seconds``."""
    sub = get(session, sub_id)
    if sub.channel != WEBHOOK:
        raise ValidationFailed("Only webhook subscriptions sign their messages.",
                               errors={"channel": ["Not a webhook."]})
    now = utcnow()
    until = (now + timedelta(seconds=grace_seconds)).isoformat()
    kept = []
    for s in sub.secrets or []:
        expires = s.get("expires_at")
        if expires is None or datetime.fromisoformat(expires) > now:
            kept.append({**s, "expires_at": min(expires or until, until)})
    secret = signing.new_secret()
    sub.secrets = [{"secret": secret, "created_at": now.isoformat(), "expires_at": None}, *kept]
    sub.updated_at = now
    audit(session, ctx, "subscription.rotate_secret", "publication_subscription", sub.id,
          reason=f"previous secrets valid for {grace_seconds}s")
    session.commit()
    return sub, secret


# --- delivery log, dead letters, replay, backfill ----------------------------------------

def list_deliveries(session: Session, sub_id: str, *, status: str | None = None,
                    golden_id: str | None = None, after: int = 0,
                    limit: int = 100) -> list[Delivery]:
    sub = get(session, sub_id)
    q = (select(Delivery).where(Delivery.subscription_id == sub.id, Delivery.id > after)
         .order_by(Delivery.id).limit(limit))
    if status == "retrying":
        q = q.where(Delivery.status == PENDING, Delivery.attempts > 0)
    elif status:
        q = q.where(Delivery.status == status)
    if golden_id:
        q = q.where(Delivery.golden_id == golden_id)
    return list(session.scalars(q))


def requeue_dead(session: Session, ctx: RequestContext, sub_id: str,
                 delivery_ids: list[int] | None = None) -> int:
    """Put dead letters back in line (after the fix), with a fresh attempt budget."""
    sub = get(session, sub_id)
    q = (update(Delivery).where(Delivery.subscription_id == sub.id, Delivery.status == DEAD)
         .values(status=PENDING, attempts=0, next_attempt_at=utcnow()))
    if delivery_ids is not None:
        q = q.where(Delivery.id.in_(delivery_ids))
    count = int(session.execute(q).rowcount)  # type: ignore[attr-defined]
    audit(session, ctx, "subscription.requeue_dead", "publication_subscription", sub.id,
          after={"requeued": count})
    session.commit()
    return count


def replay(session: Session, ctx: RequestContext, sub_id: str, *,
           from_position: int | None = None, to_position: int | None = None,
           since: datetime | None = None, until: datetime | None = None) -> int:
    """Queue the subscription's events again: positions after ``from_position`` up to
    ``to_position``, and/or changes that occurred in [since, until). Same event ids, so
    the receiver can tell a replay from news."""
    sub = get(session, sub_id)
    if from_position is None and since is None:
        raise ValidationFailed("Say where to start.", errors={
            "from_position": ["Give from_position or since."]})
    events.sequence(session)
    q = select(ChangeEvent).where(ChangeEvent.domain.in_(sub.domains),
                                  ChangeEvent.position.is_not(None))
    if from_position is not None:
        q = q.where(ChangeEvent.position > from_position)
    if to_position is not None:
        q = q.where(ChangeEvent.position <= to_position)
    if since is not None:
        q = q.where(ChangeEvent.occurred_at >= since)
    if until is not None:
        q = q.where(ChangeEvent.occurred_at < until)
    now = utcnow()
    total, last = 0, 0
    while True:
        chunk = list(session.scalars(q.where(ChangeEvent.position > last)
                                     .order_by(ChangeEvent.position).limit(REPLAY_CHUNK)))
        if not chunk:
            break
        rows = [{"subscription_id": sub.id, "kind": KIND_REPLAY, "event_id": e.event_id,
                 "change_event_id": e.id, "position": e.position, "domain": e.domain,
                 "golden_id": e.golden_id, "status": PENDING, "attempts": 0,
                 "next_attempt_at": now, "created_at": now}
                for e, payload in zip(chunk, events.payloads(session, chunk), strict=True)
                if filters.matches(sub.filter or {}, (payload or {}).get("record") or {},
                                   e.type)]
        if rows:
            session.execute(insert(Delivery), rows)
        total += len(rows)
        last = chunk[-1].position or last
    audit(session, ctx, "subscription.replay", "publication_subscription", sub.id,
          after={"from_position": from_position, "to_position": to_position,
                 "since": since.isoformat() if since else None,
                 "until": until.isoformat() if until else None, "queued": total})
    session.commit()
    return total


def backfill(session: Session, ctx: RequestContext, sub_id: str, *, kind: str = SNAPSHOT,
             reason: str = "backfill") -> Run:
    """Queue a full snapshot (or a delta since the last run) for the workers to send."""
    sub = get(session, sub_id)
    run = runs.create(session, sub, kind=kind, reason=reason)
    audit(session, ctx, f"subscription.{reason}", "publication_subscription", sub.id,
          after={"run_id": run.id, "kind": kind})
    session.commit()
    return run


def run_now(session_factory: Callable[[], Session], ctx: RequestContext, registry: Any,
            sub_id: str, kind: str | None = None, *, policy: EgressPolicy | None = None) -> Run:
    """Create a run and execute it in this process (the CLI's ``run``)."""
    with session_factory() as session:
        sub = get(session, sub_id)
        run = backfill(session, ctx, sub.id, kind=kind or sub.schedule_mode, reason="manual")
        run_id = run.id
        if not runs.claim(session, run_id):
            raise ClaimedByAnother("The run was claimed by a worker.")
    runs.execute(session_factory, registry, run_id, policy or EgressPolicy.from_env())
    with session_factory() as session:
        done = session.get(Run, run_id)
        assert done is not None
        return done


def list_runs(session: Session, sub_id: str, limit: int = 50) -> list[Run]:
    sub = get(session, sub_id)
    return list(session.scalars(select(Run).where(Run.subscription_id == sub.id)
                                .order_by(Run.created_at.desc()).limit(limit)))


def stats(session: Session, sub_id: str) -> dict[str, Any]:
    sub = get(session, sub_id)
    counts = {"pending": 0, "retrying": 0, "delivered": 0, "dead": 0}
    retried = (Delivery.attempts > 0).label("retried")  # grouped by label: one expression
    for status, retrying, n in session.execute(
        select(Delivery.status, retried, func.count())
        .where(Delivery.subscription_id == sub.id)
        .group_by(Delivery.status, retried)
    ):
        key = "retrying" if status == PENDING and retrying else status
        counts[key] = counts.get(key, 0) + n
    oldest = session.scalar(select(func.min(Delivery.created_at)).where(
        Delivery.subscription_id == sub.id, Delivery.status == PENDING))
    last = session.scalar(select(func.max(Delivery.delivered_at)).where(
        Delivery.subscription_id == sub.id, Delivery.status == DELIVERED))
    running = session.scalar(select(func.count()).select_from(Run).where(
        Run.subscription_id == sub.id, Run.status == RUN_RUNNING))
    return {**counts, "oldest_pending_at": _aware(oldest), "last_delivered_at": _aware(last),
            "runs_running": running or 0}


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite aggregates come back as text
        value = datetime.fromisoformat(value)
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)
