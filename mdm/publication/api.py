"""Subscriptions: who receives which master data, how and when; their delivery logs,
dead letters, replay and backfill."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from mdm.db import db
from mdm.publication import metrics, service
from mdm.publication.egress import EgressPolicy
from mdm.publication.models import Subscription
from mdm.publication.schemas import (
    BackfillSchema,
    DeliveryArgs,
    DeliveryPageSchema,
    PublicationCountSchema,
    PublicationRunSchema,
    ReplaySchema,
    RequeueSchema,
    RotateSchema,
    SubscriptionInSchema,
    SubscriptionPatchSchema,
    SubscriptionSchema,
    SubscriptionStatsSchema,
    SubscriptionWithSecretSchema,
)
from mdm.web.blueprint import Blueprint
from mdm.web.security import ADMINS, STEWARDS, request_context, requires

blp = Blueprint("publication", __name__, url_prefix="/subscriptions",
                description="Publication subscriptions, delivery logs, replay and backfill")


@blp.record_once
def _metrics(_state: Any) -> None:
    metrics.register_collector()


def _registry() -> Any:
    return current_app.extensions["mdm_domains"]


def _policy() -> EgressPolicy:
    return EgressPolicy.from_config(current_app.config["MDM"])


def _shown_once(sub: Subscription, secret: str | None) -> dict[str, Any]:
    """The subscription plus the secret just issued (the only time it is shown)."""
    return {**{c.key: getattr(sub, c.key) for c in Subscription.__table__.columns},
            "secret": secret}


@blp.route("")
class Subscriptions(MethodView):
    @requires(*STEWARDS)
    @blp.response(200, SubscriptionSchema(many=True))
    def get(self) -> Any:
        """List subscriptions"""
        return service.list_all(db.session)

    @requires(*ADMINS)
    @blp.arguments(SubscriptionInSchema)
    @blp.response(201, SubscriptionWithSecretSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a subscription (a webhook's signing secret is returned once)"""
        sub, secret = service.create(db.session, request_context(), _registry(), body,
                                     _policy())
        return _shown_once(sub, secret)


@blp.route("/<string:sub_id>")
class SubscriptionItem(MethodView):
    @requires(*STEWARDS)
    @blp.response(200, SubscriptionSchema)
    def get(self, sub_id: str) -> Any:
        """Read a subscription (by id or name)"""
        return service.get(db.session, sub_id)

    @requires(*ADMINS)
    @blp.arguments(SubscriptionPatchSchema)
    @blp.response(200, SubscriptionWithSecretSchema)
    def patch(self, body: dict[str, Any], sub_id: str) -> Any:
        """Change a subscription (pause it with active=false)"""
        sub, secret = service.update_subscription(db.session, request_context(), _registry(),
                                                  sub_id, body, _policy())
        return _shown_once(sub, secret)

    @requires(*ADMINS)
    @blp.response(204)
    def delete(self, sub_id: str) -> Any:
        """Delete a subscription with its delivery log and runs"""
        service.delete_subscription(db.session, request_context(), sub_id)


@blp.route("/<string:sub_id>/rotate-secret")
class RotateSecret(MethodView):
    @requires(*ADMINS)
    @blp.arguments(RotateSchema)
    @blp.response(200, SubscriptionWithSecretSchema)
    def post(self, body: dict[str, Any], sub_id: str) -> Any:
        """Rotate the webhook signing secret; old ones sign too during the grace period"""
        sub, secret = service.rotate_secret(db.session, request_context(), sub_id,
                                            body["grace_seconds"])
        return _shown_once(sub, secret)


@blp.route("/<string:sub_id>/deliveries")
class Deliveries(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(DeliveryArgs, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, args: dict[str, Any], sub_id: str) -> Any:
        """The delivery log: each message's state, attempts and last error"""
        items = service.list_deliveries(db.session, sub_id, **args)
        return {"items": items, "next_after": items[-1].id if items else args["after"]}


@blp.route("/<string:sub_id>/stats")
class Stats(MethodView):
    @requires(*STEWARDS)
    @blp.response(200, SubscriptionStatsSchema)
    def get(self, sub_id: str) -> Any:
        """Deliveries pending, retrying, delivered and dead, and the oldest pending"""
        return service.stats(db.session, sub_id)


@blp.route("/<string:sub_id>/dead-letters/requeue")
class Requeue(MethodView):
    @requires(*ADMINS)
    @blp.arguments(RequeueSchema)
    @blp.response(200, PublicationCountSchema)
    def post(self, body: dict[str, Any], sub_id: str) -> Any:
        """Requeue dead letters (all, or the listed ones) after fixing the cause"""
        n = service.requeue_dead(db.session, request_context(), sub_id,
                                 body.get("delivery_ids"))
        return {"count": n}


@blp.route("/<string:sub_id>/replay")
class Replay(MethodView):
    @requires(*ADMINS)
    @blp.arguments(ReplaySchema)
    @blp.response(200, PublicationCountSchema)
    def post(self, body: dict[str, Any], sub_id: str) -> Any:
        """Re-deliver the subscription's changes from a cursor or a time range"""
        n = service.replay(db.session, request_context(), sub_id, **body)
        return {"count": n}


@blp.route("/<string:sub_id>/backfill")
class Backfill(MethodView):
    @requires(*ADMINS)
    @blp.arguments(BackfillSchema)
    @blp.response(202, PublicationRunSchema)
    def post(self, body: dict[str, Any], sub_id: str) -> Any:
        """Queue a full snapshot (or a delta) for a worker to send"""
        return service.backfill(db.session, request_context(), sub_id, kind=body["kind"])


@blp.route("/<string:sub_id>/runs")
class Runs(MethodView):
    @requires(*STEWARDS)
    @blp.response(200, PublicationRunSchema(many=True))
    def get(self, sub_id: str) -> Any:
        """Recent snapshot and delta runs, newest first"""
        return service.list_runs(db.session, sub_id)
