"""The change feed: a pull alternative to subscriptions, with stable cursors."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from mdm.db import db
from mdm.events import service
from mdm.web.blueprint import Blueprint
from mdm.web.security import READ, requires

blp = Blueprint("changes", __name__, url_prefix="/changes", description="Change feed")


class ChangesArgs(ma.Schema):
    domain = ma.fields.String()
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=2**63 - 1),
                              metadata={"description": "Cursor: the `position` of the last "
                                        "change you processed (0 from the beginning)"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class ChangeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True, metadata={
        "description": "Stable cursor: positions grow in the order changes became visible"})
    event_id = ma.fields.String(required=True)
    domain = ma.fields.String()
    golden_id = ma.fields.String()
    golden_version = ma.fields.Integer()
    type = ma.fields.String()
    occurred_at = ma.fields.DateTime()
    request_id = ma.fields.String(allow_none=True)
    payload = ma.fields.Dict()


class ChangesPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)
    next_after = ma.fields.Integer(required=True)


@blp.route("")
class Changes(MethodView):
    @requires(*READ)
    @blp.arguments(ChangesArgs, location="query")
    @blp.response(200, ChangesPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Golden-record changes after a cursor, oldest first

        Pass the returned ``next_after`` as ``after`` to read on: no committed change is
        skipped, even when transactions commit out of id order.
        """
        items = service.list_events(db.session, **args)
        return {"items": items, "next_after": items[-1].position if items else args["after"]}
