"""Read the domain definitions the hub manages."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView

from mdm.web.blueprint import Blueprint
from mdm.web.security import READ, requires

blp = Blueprint("domains", __name__, url_prefix="/domains", description="Domain definitions")


class AttributeSchema(ma.Schema):
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    required = ma.fields.Boolean(required=True)
    validators = ma.fields.List(ma.fields.String())
    choices = ma.fields.List(ma.fields.String())
    max_length = ma.fields.Integer()
    description = ma.fields.String()


class DomainSchema(ma.Schema):
    name = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    description = ma.fields.String()
    display = ma.fields.String()
    builtin = ma.fields.Boolean()
    attributes = ma.fields.List(ma.fields.Nested(AttributeSchema), required=True)
    approval = ma.fields.List(ma.fields.String())
    match = ma.fields.Dict()
    survivorship = ma.fields.Dict()


def registry() -> Any:
    return current_app.extensions["mdm_domains"]


@blp.route("")
class Domains(MethodView):
    @requires(*READ)
    @blp.response(200, DomainSchema(many=True))
    def get(self) -> Any:
        """List the domains"""
        return [d.to_dict() for d in registry()]


@blp.route("/<string:domain>")
class Domain(MethodView):
    @requires(*READ)
    @blp.response(200, DomainSchema)
    def get(self, domain: str) -> Any:
        """Show one domain's definition"""
        return registry().get(domain).to_dict()
