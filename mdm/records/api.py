"""Send source records; read golden records, their history and quality issues."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import current_app, g, jsonify
from flask.views import MethodView

from mdm.db import db
from mdm.errors import ValidationFailed
from mdm.records import ingest, service
from mdm.records.golden import snapshot
from mdm.records.schemas import (
    AsOfArgs,
    BulkInSchema,
    BulkResultSchema,
    GoldenSearchArgs,
    QualityArgs,
    QualityPageSchema,
    RecordInSchema,
    ResultSchema,
    SourceRecordSchema,
    VersionSchema,
)
from mdm.web.blueprint import Blueprint
from mdm.web.schemas import GoldenPageSchema, GoldenSchema
from mdm.web.security import (
    READ,
    WRITERS,
    current_actor,
    ensure_may_write_source,
    request_context,
    requires,
)

blp = Blueprint("records", __name__, description="Source records and golden records")


def _registry() -> Any:
    return current_app.extensions["mdm_domains"]


def _system_for(body: dict[str, Any]) -> str:
    code = body.get("source_system") or current_actor().source_system_code
    if not code:
        raise ValidationFailed(
            "Which source system sent these records?",
            errors={"source_system": ["Required with an admin key."]},
        )
    ensure_may_write_source(code)
    return str(code)


@blp.route("/domains/<string:domain>/records")
class Records(MethodView):
    @requires(*WRITERS)
    @blp.arguments(RecordInSchema)
    @blp.response(200, ResultSchema)
    def post(self, body: dict[str, Any], domain: str) -> Any:
        """Upsert one source record"""
        system = _system_for(body)
        item = ingest.IngestItem(body["source_id"], body["attributes"], body.get("active", True))
        result = ingest.ingest(db.session, _registry(), domain, system, [item], request_context())[
            0
        ]
        if result.status == ingest.REJECTED:
            raise ValidationFailed("The record is not valid.", errors=result.errors)
        return result.to_dict()


@blp.route("/domains/<string:domain>/records/bulk")
class BulkRecords(MethodView):
    @requires(*WRITERS)
    @blp.arguments(BulkInSchema)
    @blp.response(200, BulkResultSchema)
    def post(self, body: dict[str, Any], domain: str) -> Any:
        """Upsert up to 10,000 source records; one result per record"""
        system = _system_for(body)
        items = []
        for raw in body["records"]:
            if isinstance(raw, dict):
                items.append(
                    ingest.IngestItem(
                        raw.get("source_id"),
                        raw.get("attributes", {}),
                        raw.get("active", True) is not False,
                    )
                )
            else:
                items.append(ingest.IngestItem(None, None))
        results = ingest.ingest(db.session, _registry(), domain, system, items, request_context())
        for raw, res in zip(body["records"], results, strict=True):
            if not isinstance(raw, dict):
                res.errors = {"_schema": ["A record must be an object."]}
        # Up to 10,000 results: serialise directly (the documented schema still describes it)
        # rather than through marshmallow, which would cost more than the ingestion itself.
        return jsonify(
            {
                "summary": dict(Counter(r.status for r in results)),
                "results": [r.to_dict() for r in results],
            }
        )


@blp.route("/domains/<string:domain>/records/<string:source_system>/<path:source_id>")
class SourceRecordView(MethodView):
    @requires(*READ)
    @blp.response(200, SourceRecordSchema)
    def get(self, domain: str, source_system: str, source_id: str) -> Any:
        """Show a source record as its system sent it, with its quality findings"""
        sr, issues = service.get_source_record(
            db.session, _registry(), domain, source_system, source_id
        )
        return {
            "domain": sr.domain,
            "source_system": source_system,
            "source_id": sr.source_id,
            "golden_id": sr.golden_id,
            "active": sr.active,
            "version": sr.version,
            "attributes": sr.attributes,
            "quality_status": sr.quality_status,
            "quality": [
                {
                    "attribute": i.attribute,
                    "rule": i.rule,
                    "severity": i.severity,
                    "message": i.message,
                }
                for i in issues
            ],
            "created_at": sr.created_at.isoformat(),
            "updated_at": sr.updated_at.isoformat(),
        }

    @requires(*WRITERS)
    @blp.response(200, ResultSchema)
    def delete(self, domain: str, source_system: str, source_id: str) -> Any:
        """Deactivate a source record (it is kept, and leaves its golden record's survivorship)"""
        ensure_may_write_source(source_system)
        return ingest.deactivate(
            db.session, _registry(), domain, source_system, source_id, request_context()
        ).to_dict()


@blp.route("/domains/<string:domain>/golden")
class GoldenList(MethodView):
    @requires(*READ)
    @blp.arguments(GoldenSearchArgs, location="query")
    @blp.response(200, GoldenPageSchema)
    def get(self, args: dict[str, Any], domain: str) -> Any:
        """List and search golden records (cursor pagination)"""
        page = service.search_golden(db.session, _registry(), domain, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}


@blp.route("/golden/<string:golden_id>")
class Golden(MethodView):
    @requires(*READ)
    @blp.arguments(AsOfArgs, location="query")
    @blp.response(200, GoldenSchema)
    def get(self, args: dict[str, Any], golden_id: str) -> Any:
        """Show a golden record, now or as of a past time; ETag carries its version"""
        if args.get("as_of"):
            version = service.version_as_of(db.session, golden_id, args["as_of"])
            golden = service.get_golden(db.session, golden_id)
            return service.version_snapshot(version, golden.domain)
        golden = service.get_golden(db.session, golden_id)
        g.etag = f'"{golden.version}"'
        return {**snapshot(golden), "provenance": golden.provenance}


@blp.route("/golden/<string:golden_id>/history")
class GoldenHistory(MethodView):
    @requires(*READ)
    @blp.response(200, VersionSchema(many=True))
    def get(self, golden_id: str) -> Any:
        """Every version of a golden record: who changed what, when and why"""
        golden = service.get_golden(db.session, golden_id)
        return [
            service.version_snapshot(v, golden.domain)
            for v in service.history(db.session, golden_id)
        ]


@blp.route("/domains/<string:domain>/quality-issues")
class QualityIssues(MethodView):
    @requires(*READ)
    @blp.arguments(QualityArgs, location="query")
    @blp.response(200, QualityPageSchema)
    def get(self, args: dict[str, Any], domain: str) -> Any:
        """List stored records' data-quality findings"""
        page = service.list_quality_issues(db.session, _registry(), domain, **args)
        return {"items": page.items, "next_cursor": page.next_cursor}
