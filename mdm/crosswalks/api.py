"""Crosswalk look-ups: "what is SAP vendor 4711 in Coupa?"."""
from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask.views import MethodView

from mdm.crosswalks import service
from mdm.crosswalks.schemas import BatchResolveInSchema, BatchResolveOutSchema, ResolutionSchema
from mdm.db import db
from mdm.web.blueprint import Blueprint
from mdm.web.security import READ, requires

blp = Blueprint("crosswalks", __name__, description="Crosswalks between source ids and golden ids")


def _registry() -> Any:
    return current_app.extensions["mdm_domains"]


@blp.route("/domains/<string:domain>/crosswalk/<string:source_system>/<path:source_id>")
class Resolve(MethodView):
    @requires(*READ)
    @blp.response(200, ResolutionSchema)
    def get(self, domain: str, source_system: str, source_id: str) -> Any:
        """Resolve one source key to its golden record and its ids in every other system"""
        return service.resolve(db.session, _registry(), domain,
                               service.Key(source_system, source_id))


@blp.route("/domains/<string:domain>/crosswalk/resolve")
class ResolveBatch(MethodView):
    @requires(*READ)
    @blp.arguments(BatchResolveInSchema)
    @blp.response(200, BatchResolveOutSchema)
    def post(self, body: dict[str, Any], domain: str) -> Any:
        """Resolve up to 1,000 source keys in one call"""
        keys = [service.Key(k["source_system"], k["source_id"]) for k in body["keys"]]
        resolved = service.resolve_many(db.session, _registry(), domain, keys)
        results = []
        for key, res in zip(keys, resolved, strict=True):
            if res is None:
                results.append({"source_system": key.source_system, "source_id": key.source_id,
                                "found": False, "golden_id": None})
            else:
                results.append({**res, "found": True})
        # Serialised directly: marshmallow would spend longer on 1,000 nested results than
        # the look-up itself; the documented schema still describes the body.
        return jsonify({"results": results})


@blp.route("/golden/<string:golden_id>/source-records")
class GoldenSources(MethodView):
    @requires(*READ)
    @blp.response(200, ResolutionSchema)
    def get(self, golden_id: str) -> Any:
        """The source records of a golden record; a merged id answers for its survivor"""
        return service.resolve_golden(db.session, golden_id)
