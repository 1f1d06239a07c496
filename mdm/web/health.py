"""Liveness and readiness probes (no authentication: orchestrators call them)."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import text

from mdm.db import db
from mdm.web.blueprint import Blueprint

blp = Blueprint("system", __name__, description="Health and readiness probes")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)
    database = ma.fields.String()


@blp.route("/health")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self) -> Any:
        """Liveness: the process answers"""
        return {"status": "ok"}


@blp.route("/ready")
class Ready(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
    def get(self) -> Any:
        """Readiness: the database answers"""
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not ready"; the reason is logged below
            import logging

            logging.getLogger("mdm.health").exception("readiness check failed")
            return {"status": "unavailable", "database": "unreachable"}, 503
        return {"status": "ok", "database": "ok"}
