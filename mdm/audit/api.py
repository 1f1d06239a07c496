"""Read the audit trail."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from mdm.audit import service
from mdm.db import db
from mdm.web.blueprint import Blueprint
from mdm.web.security import STEWARDS, requires

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Audit trail")


class AuditArgs(ma.Schema):
    entity_type = ma.fields.String()
    entity_id = ma.fields.String()
    domain = ma.fields.String()
    request_id = ma.fields.String()
    action = ma.fields.String()
    after = ma.fields.Integer(validate=ma.validate.Range(min=0, max=2**63 - 1),
                              metadata={"description": "Return entries after this id"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    actor = ma.fields.String()
    action = ma.fields.String()
    entity_type = ma.fields.String()
    entity_id = ma.fields.String()
    domain = ma.fields.String(allow_none=True)
    request_id = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    before = ma.fields.Dict(allow_none=True)
    after = ma.fields.Dict(allow_none=True)


@blp.route("")
class Audit(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List audit entries (filter by entity, domain, request id, action)"""
        return service.list_entries(db.session, **args)
