"""Training a domain's parameters on its own data as it grows, during ingestion.

Untrained, the hub scores with priors and merges only on strong evidence, so a fresh
hub fed one record at a time misses many duplicates until someone runs ``mdm match``.
Once a domain holds ``auto_train_from`` indexed records, the ingest that finds it so
trains m, u, the prior and the term frequencies on the domain's feature rows and stores
them, exactly as ``mdm match`` would (without re-matching anything already decided);
it trains again each time the domain has doubled since, until ``auto_train_until``
records. Beyond that training reads too many rows for one request: ``mdm match``
(which also re-clusters) is the way to refresh the parameters of a big domain.

The value frequencies of the term-frequency adjustment are refreshed with each
training, so they follow the data as it arrives: a value's share of a domain changes
slowly, and a value new since the last training counts as rare (its boost is capped).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mdm.context import RequestContext
from mdm.matching import index
from mdm.matching.models import MatchPrepared
from mdm.matching.params import ModelParams
from mdm.matching.settings import MatchSettings
from mdm.matching.training import estimate_params
from mdm.records.models import SourceRecord
from mdm.sources.models import SourceSystem

__all__ = ["GROWTH", "due_at", "maybe_train"]

# Train again when the domain holds this many times the records trained on.
GROWTH = 2


def due_at(settings: MatchSettings, params: ModelParams) -> int | None:
    """Records the domain must hold before the next automatic training, or None."""
    policy = settings.training
    if not policy.auto_train_from:
        return None
    trained_on = int(params.training.get("records", 0)) if params.trained else 0
    due = max(policy.auto_train_from, trained_on * GROWTH)
    return due if due <= policy.auto_train_until else None


@dataclass
class _Seen:
    """What this process knows of a domain's size without counting it again."""

    counted: int  # records at the last count
    added: int = 0  # records this process linked since
    too_big: bool = False  # more records than auto_train_until: never count again


# (domain, settings version, params version) -> what this process saw. Counting a
# domain's rows on every ingest would cost a scan each; a process counts again only
# once its own ingests could have made training due (other processes' ingests count
# when they make it due themselves).
_SEEN: dict[tuple[str, str, str], _Seen] = {}


def maybe_train(session: Session, ctx: RequestContext, domain: str, settings: MatchSettings,
                params: ModelParams, arriving: int) -> ModelParams:
    """The parameters to match ``arriving`` new records with: ``params``, or new ones
    trained and stored now because the domain has grown enough (see the module)."""
    due = due_at(settings, params)
    if due is None:
        return params
    key = (domain, settings.version, params.version)
    seen = _SEEN.get(key)
    if seen is not None:
        seen.added += arriving
        if seen.too_big or seen.counted + seen.added < due:
            return params
    held = _count(session, domain, settings)
    too_big = held > settings.training.auto_train_until
    _SEEN[key] = _Seen(held, arriving, too_big)
    if held < due or too_big or not _try_lock(session, domain):
        return params
    rows, sources = _rows(session, domain, settings)
    trained = estimate_params(settings, rows, sources)
    trained.training["auto"] = True
    index.store_params(session, ctx, domain, settings, trained, len(rows))
    return trained


def _count(session: Session, domain: str, settings: MatchSettings) -> int:
    P = MatchPrepared
    return int(session.scalar(select(func.count()).select_from(P).where(
        P.domain == domain, P.settings_version == settings.version)) or 0)


def _rows(session: Session, domain: str,
          settings: MatchSettings) -> tuple[list[tuple[object, ...]], list[str]]:
    """Feature rows (as the index holds them for these settings) and source systems."""
    P, SR = MatchPrepared, SourceRecord
    rows, sources = [], []
    for features, code in session.execute(
            select(P.features, SourceSystem.code)
            .join(SR, SR.id == P.source_record_id)
            .join(SourceSystem, SourceSystem.id == SR.source_system_id)
            .where(P.domain == domain, P.settings_version == settings.version)
            .order_by(P.source_record_id)):
        rows.append(tuple(features))
        sources.append(code)
    return rows, sources


def _try_lock(session: Session, domain: str) -> bool:
    """PostgreSQL: whether this transaction may train (another one training the domain
    now holds the lock: match with the current parameters instead of waiting). SQLite:
    ingestion already holds the single write lock."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(
        index.key_hash(domain, "\0auto_train")))))
