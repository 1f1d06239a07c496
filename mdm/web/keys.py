"""Manage API keys over HTTP (admins only; the CLI does the same on the server).

The keys' rules live in mdm.auth.service; this module is their HTTP face, beside the
request check (security.py) that uses them, so mdm.auth never imports the web layer."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from mdm.auth import service
from mdm.auth.models import ROLES
from mdm.db import db
from mdm.web.blueprint import Blueprint
from mdm.web.security import ADMINS, request_context, requires

blp = Blueprint("api_keys", __name__, url_prefix="/api-keys", description="API keys")


class ApiKeyInSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    source = ma.fields.String(metadata={"description": "Source system code (role source only)"})


class ApiKeySchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    source = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    revoked_at = ma.fields.DateTime(allow_none=True)
    key = ma.fields.String(metadata={"description": "The secret key; shown only once"})


def _dump(key: Any, secret: str | None = None) -> dict[str, Any]:
    out = {"id": key.id, "name": key.name, "role": key.role,
           "source": service.source_code(db.session, key),
           "created_at": key.created_at, "revoked_at": key.revoked_at}
    if secret:
        out["key"] = secret
    return out


@blp.route("")
class Keys(MethodView):
    @requires(*ADMINS)
    @blp.response(200, ApiKeySchema(many=True))
    def get(self) -> Any:
        """List API keys (without secrets)"""
        return [_dump(k) for k in service.list_keys(db.session)]

    @requires(*ADMINS)
    @blp.arguments(ApiKeyInSchema)
    @blp.response(201, ApiKeySchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create an API key; the secret is returned once"""
        issued = service.create_key(db.session, request_context(), **body)
        return _dump(issued.key, issued.secret)


@blp.route("/<string:key_id>")
class Key(MethodView):
    @requires(*ADMINS)
    @blp.response(200, ApiKeySchema)
    def delete(self, key_id: str) -> Any:
        """Revoke an API key (never the last active admin key)"""
        return _dump(service.revoke_key(db.session, request_context(), key_id))
