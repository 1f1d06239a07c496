"""Stewardship over REST: the review queue, merge and unmerge, not-a-match, overrides,
four-eyes change requests and lineage.

Actions on an existing golden record, task or change request require ``If-Match`` with
the ETag last read (428 without it, 412 when it is stale).
"""
from __future__ import annotations

from typing import Any

from flask import current_app, g, request
from flask.views import MethodView

from mdm.db import db
from mdm.errors import PreconditionRequired
from mdm.records.golden import snapshot
from mdm.stewardship import metrics, queue, service
from mdm.stewardship.approvals import change_request_dict
from mdm.stewardship.schemas import (
    ChangeApproveInSchema,
    ChangeRequestArgs,
    ChangeRequestPageSchema,
    ChangeRequestSchema,
    LineageOperationSchema,
    LineageSchema,
    NotAMatchArgs,
    NotAMatchInSchema,
    NotAMatchPageSchema,
    NotAMatchSchema,
    ReviewAssignInSchema,
    ReviewDecisionInSchema,
    ReviewDecisionResultSchema,
    ReviewQueueStatSchema,
    ReviewTaskDetailSchema,
    ReviewTaskListArgs,
    ReviewTaskPageSchema,
    ReviewTaskSchema,
    StewardMergeInSchema,
    StewardMergeResultSchema,
    StewardOverrideInSchema,
    StewardOverrideResultSchema,
    StewardReasonArgs,
    StewardReasonInSchema,
    StewardUnmergeInSchema,
)
from mdm.web.blueprint import Blueprint
from mdm.web.security import READ, STEWARDS, request_context, requires

blp = Blueprint("stewardship", __name__, description="Stewardship: review queue, merge, "
                "unmerge, not-a-match, overrides, four-eyes approval, lineage")
blp.record_once(lambda _state: metrics.register())

IF_MATCH = [{"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
             "description": "The ETag you read; 428 when missing, 412 when stale"}]


def _registry() -> Any:
    return current_app.extensions["mdm_domains"]


def _if_match() -> service.Precondition:
    if "If-Match" not in request.headers:
        raise PreconditionRequired("Send If-Match with the ETag you read (GET sets it).")
    tags = request.if_match
    if tags.star_tag:
        return service.Precondition(any=True)
    return service.Precondition(frozenset(tags.as_set()))


def _golden_out(golden: Any) -> dict[str, Any]:
    return {**snapshot(golden), "provenance": golden.provenance}


def _merge_out(outcome: service.MergeOutcome) -> dict[str, Any]:
    g.etag = f'"{outcome.golden.version}"'
    return {"operation": service.operation_dict(outcome.operation),
            "golden": _golden_out(outcome.golden),
            "created": _golden_out(outcome.created) if outcome.created else None}


# --- review queue ---------------------------------------------------------------------------

@blp.route("/review-tasks")
class ReviewTasks(MethodView):
    @requires(*READ)
    @blp.arguments(ReviewTaskListArgs, location="query")
    @blp.response(200, ReviewTaskPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List review tasks (potential matches), oldest first, filtered"""
        items, cursor = queue.list_tasks(db.session, _registry(), **args)
        return {"items": [queue.task_dict(t) for t in items], "next_cursor": cursor}


@blp.route("/review-tasks/stats")
class ReviewTaskStats(MethodView):
    @requires(*READ)
    @blp.response(200, ReviewQueueStatSchema(many=True))
    def get(self) -> Any:
        """Pending review tasks by domain, status and age (also exported as metrics)"""
        return queue.stats(db.session)


@blp.route("/review-tasks/<string:task_id>")
class ReviewTaskView(MethodView):
    @requires(*READ)
    @blp.response(200, ReviewTaskDetailSchema)
    def get(self, task_id: str) -> Any:
        """A review task with its records side by side and the match explanation"""
        out = queue.side_by_side(db.session, _registry(), queue.get_task(db.session, task_id))
        g.etag = f'"{out["etag"]}"'
        return out


@blp.route("/review-tasks/<string:task_id>/claim", parameters=IF_MATCH)
class ReviewTaskClaim(MethodView):
    @requires(*STEWARDS)
    @blp.response(200, ReviewTaskSchema)
    def post(self, task_id: str) -> Any:
        """Claim a review task for yourself"""
        task = queue.assign(db.session, request_context(), task_id, precondition=_if_match())
        return _task_out(task)


@blp.route("/review-tasks/<string:task_id>/assign", parameters=IF_MATCH)
class ReviewTaskAssign(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(ReviewAssignInSchema)
    @blp.response(200, ReviewTaskSchema)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Assign a review task to a steward"""
        task = queue.assign(db.session, request_context(), task_id, assignee=body["assignee"],
                            precondition=_if_match())
        return _task_out(task)


@blp.route("/review-tasks/<string:task_id>/decision", parameters=IF_MATCH)
class ReviewTaskDecision(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(ReviewDecisionInSchema)
    @blp.response(200, ReviewDecisionResultSchema)
    def post(self, body: dict[str, Any], task_id: str) -> Any:
        """Decide a review task: merge, not_a_match or defer"""
        task, outcome = queue.decide(db.session, _registry(), request_context(), task_id,
                                     decision=body["decision"], reason=body["reason"],
                                     defer_until=body.get("defer_until"),
                                     precondition=_if_match())
        out: dict[str, Any] = {"task": _task_out(task), "operation": None, "golden": None}
        if outcome is not None:
            out.update(_merge_out(outcome))
        return out


def _task_out(task: Any) -> dict[str, Any]:
    etag = queue.task_etag(db.session, task)
    g.etag = f'"{etag}"'
    return queue.task_dict(task, etag)


# --- merge, unmerge, lineage ----------------------------------------------------------------

@blp.route("/golden/<string:golden_id>/merge", parameters=IF_MATCH)
class Merge(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(StewardMergeInSchema)
    @blp.response(200, StewardMergeResultSchema)
    def post(self, body: dict[str, Any], golden_id: str) -> Any:
        """Merge other golden records with this one (the oldest record survives)"""
        pre = {gid: service.Precondition.version(v)
               for gid, v in (body.get("versions") or {}).items()}
        pre[golden_id] = _if_match()
        outcome = service.merge(db.session, _registry(), request_context(),
                                [golden_id, *body["golden_ids"]], reason=body["reason"],
                                preconditions=pre)
        return _merge_out(outcome)


@blp.route("/golden/<string:golden_id>/unmerge", parameters=IF_MATCH)
class Unmerge(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(StewardUnmergeInSchema)
    @blp.response(200, StewardMergeResultSchema)
    def post(self, body: dict[str, Any], golden_id: str) -> Any:
        """Split source records (or what an earlier merge brought in) into a new golden record"""
        keys = None
        if "source_records" in body:
            keys = [(k["source_system"], k["source_id"]) for k in body["source_records"]]
        outcome = service.unmerge(db.session, _registry(), request_context(), golden_id,
                                  reason=body["reason"], precondition=_if_match(),
                                  source_records=keys, operation_id=body.get("operation_id"))
        return _merge_out(outcome)


@blp.route("/golden/<string:golden_id>/lineage")
class Lineage(MethodView):
    @requires(*READ)
    @blp.response(200, LineageSchema)
    def get(self, golden_id: str) -> Any:
        """Which golden ids a record came from and went to (merges and unmerges)"""
        return service.lineage(db.session, golden_id)


@blp.route("/lineage-operations/<string:operation_id>")
class LineageOperationView(MethodView):
    @requires(*READ)
    @blp.response(200, LineageOperationSchema)
    def get(self, operation_id: str) -> Any:
        """One merge or unmerge operation"""
        return service.operation_dict(service.get_operation(db.session, operation_id))


# --- overrides ------------------------------------------------------------------------------

@blp.route("/golden/<string:golden_id>/overrides/<string:attribute>", parameters=IF_MATCH)
class Override(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(StewardOverrideInSchema)
    @blp.response(200, StewardOverrideResultSchema)
    def put(self, body: dict[str, Any], golden_id: str, attribute: str) -> Any:
        """Pin an attribute value that wins survivorship (approval attributes: held for a
        second steward)"""
        golden, cr = service.pin(db.session, _registry(), request_context(), golden_id,
                                 attribute, body["value"], reason=body["reason"],
                                 precondition=_if_match())
        g.etag = f'"{golden.version}"'
        return {"golden": _golden_out(golden),
                "change_request": change_request_dict(cr) if cr else None}

    @requires(*STEWARDS)
    @blp.arguments(StewardReasonArgs, location="query")
    @blp.response(200, StewardOverrideResultSchema)
    def delete(self, args: dict[str, Any], golden_id: str, attribute: str) -> Any:
        """Unpin an attribute value; survivorship decides it again"""
        golden, cr = service.unpin(db.session, _registry(), request_context(), golden_id,
                                   attribute, reason=args["reason"], precondition=_if_match())
        g.etag = f'"{golden.version}"'
        return {"golden": _golden_out(golden),
                "change_request": change_request_dict(cr) if cr else None}


# --- not-a-match ----------------------------------------------------------------------------

@blp.route("/domains/<string:domain>/not-a-match")
class NotAMatchList(MethodView):
    @requires(*READ)
    @blp.arguments(NotAMatchArgs, location="query")
    @blp.response(200, NotAMatchPageSchema)
    def get(self, args: dict[str, Any], domain: str) -> Any:
        """List not-a-match decisions (active by default)"""
        items, cursor = service.list_not_a_match(db.session, _registry(), domain, **args)
        return {"items": [service.not_a_match_dict(d) for d in items], "next_cursor": cursor}

    @requires(*STEWARDS)
    @blp.arguments(NotAMatchInSchema)
    @blp.response(200, NotAMatchSchema)
    def post(self, body: dict[str, Any], domain: str) -> Any:
        """Record that two golden records (or two source records) are not the same thing

        Idempotent: an active decision on the same pair is returned as it is.
        """
        keys = None
        if "source_records" in body:
            keys = [(k["source_system"], k["source_id"]) for k in body["source_records"]]
        decision, _created = service.mark_not_a_match(
            db.session, _registry(), request_context(), domain, reason=body["reason"],
            golden_ids=body.get("golden_ids"), source_records=keys)
        return service.not_a_match_dict(decision)


@blp.route("/not-a-match/<int:decision_id>/revoke")
class NotAMatchRevoke(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(StewardReasonInSchema)
    @blp.response(200, NotAMatchSchema)
    def post(self, body: dict[str, Any], decision_id: int) -> Any:
        """Revoke a not-a-match decision so matching may reconsider the pair (idempotent)"""
        decision = service.revoke_not_a_match(db.session, request_context(), decision_id,
                                              reason=body["reason"])
        return service.not_a_match_dict(decision)


# --- change requests (four eyes) ------------------------------------------------------------

@blp.route("/change-requests")
class ChangeRequests(MethodView):
    @requires(*READ)
    @blp.arguments(ChangeRequestArgs, location="query")
    @blp.response(200, ChangeRequestPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List change requests held for four-eyes approval (pending by default)"""
        items, cursor = service.list_change_requests(db.session, **args)
        return {"items": [change_request_dict(c) for c in items], "next_cursor": cursor}


@blp.route("/change-requests/<string:request_id>")
class ChangeRequestView(MethodView):
    @requires(*READ)
    @blp.response(200, ChangeRequestSchema)
    def get(self, request_id: str) -> Any:
        """Show a change request; ETag carries its version"""
        cr = service.get_change_request(db.session, request_id)
        g.etag = f'"{cr.version}"'
        return change_request_dict(cr)


@blp.route("/change-requests/<string:request_id>/approve", parameters=IF_MATCH)
class ChangeRequestApprove(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(ChangeApproveInSchema)
    @blp.response(200, ChangeRequestSchema)
    def post(self, body: dict[str, Any], request_id: str) -> Any:
        """Approve a held change (a steward other than the requester)"""
        cr = service.approve_change_request(db.session, _registry(), request_context(),
                                            request_id, reason=body.get("reason"),
                                            precondition=_if_match())
        g.etag = f'"{cr.version}"'
        return change_request_dict(cr)


@blp.route("/change-requests/<string:request_id>/reject", parameters=IF_MATCH)
class ChangeRequestReject(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(StewardReasonInSchema)
    @blp.response(200, ChangeRequestSchema)
    def post(self, body: dict[str, Any], request_id: str) -> Any:
        """Reject a held change; the golden record keeps its value"""
        cr = service.reject_change_request(db.session, request_context(), request_id,
                                           reason=body["reason"], precondition=_if_match())
        g.etag = f'"{cr.version}"'
        return change_request_dict(cr)
