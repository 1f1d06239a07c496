"""Read matching decisions, explain a pair, show a domain's match settings."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from mdm.db import db
from mdm.matching import service
from mdm.matching.schemas import (
    ExplainArgs,
    ExplainSchema,
    MatchDecisionSchema,
    MatchSettingsSchema,
)
from mdm.web.blueprint import Blueprint
from mdm.web.security import READ, requires

blp = Blueprint("matching", __name__, description="Matching: decisions, explanations, settings")


def _registry() -> Any:
    return current_app.extensions["mdm_domains"]


@blp.route("/golden/<string:golden_id>/match-decisions")
class GoldenMatchDecisions(MethodView):
    @requires(*READ)
    @blp.response(200, MatchDecisionSchema(many=True))
    def get(self, golden_id: str) -> Any:
        """Matching decisions about a golden record and its source records, oldest first"""
        return [service.decision_dict(d)
                for d in service.decisions_for_golden(db.session, golden_id)]


@blp.route("/domains/<string:domain>/match/explain")
class MatchExplain(MethodView):
    @requires(*READ)
    @blp.arguments(ExplainArgs, location="query")
    @blp.response(200, ExplainSchema)
    def get(self, args: dict[str, Any], domain: str) -> Any:
        """Explain how two records compare: live scores and stored decisions"""
        return service.explain(db.session, _registry(), domain, args["a"], args["b"])


@blp.route("/domains/<string:domain>/match/settings")
class MatchSettingsView(MethodView):
    @requires(*READ)
    @blp.response(200, MatchSettingsSchema)
    def get(self, domain: str) -> Any:
        """A domain's match settings, their version and the parameters in use"""
        return service.settings_view(db.session, _registry(), domain)
