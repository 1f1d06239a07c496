"""Register and list source systems."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from mdm.db import db
from mdm.sources import service
from mdm.sources.models import SOURCE_KINDS
from mdm.web.blueprint import Blueprint
from mdm.web.security import ADMINS, READ, request_context, requires

blp = Blueprint("sources", __name__, url_prefix="/source-systems", description="Source systems")


class SourceSystemSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(SOURCE_KINDS))
    active = ma.fields.Boolean(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


@blp.route("")
class SourceSystems(MethodView):
    @requires(*READ)
    @blp.response(200, SourceSystemSchema(many=True))
    def get(self) -> Any:
        """List source systems"""
        return service.list_all(db.session)

    @requires(*ADMINS)
    @blp.arguments(SourceSystemSchema)
    @blp.response(201, SourceSystemSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Register a source system"""
        return service.register(db.session, request_context(), **body)


@blp.route("/<string:code>")
class SourceSystemByCode(MethodView):
    @requires(*READ)
    @blp.response(200, SourceSystemSchema)
    def get(self, code: str) -> Any:
        """Show a source system"""
        return service.get_by_code(db.session, code)
