"""Finance hierarchies over REST: versions and their lifecycle, as-of queries, diffs, exports."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify
from flask.views import MethodView

from mdm.db import db
from mdm.hierarchies import formats, queries, service
from mdm.hierarchies.engine import RULES, ValidationResult
from mdm.hierarchies.schemas import (
    HierarchyContentInSchema,
    HierarchyDepthArgs,
    HierarchyDiffArgs,
    HierarchyDiffSchema,
    HierarchyExportArgs,
    HierarchyExportSchema,
    HierarchyImpactArgs,
    HierarchyImpactSchema,
    HierarchyInSchema,
    HierarchyListArgs,
    HierarchyMoveInSchema,
    HierarchyNodeListSchema,
    HierarchyNodeSchema,
    HierarchyPathSchema,
    HierarchyReadArgs,
    HierarchyRuleSchema,
    HierarchySchema,
    HierarchySubtreeSchema,
    HierarchyTransitionInSchema,
    HierarchyValidationArgs,
    HierarchyValidationSchema,
    HierarchyVersionInSchema,
    HierarchyVersionResultSchema,
    HierarchyVersionSchema,
)
from mdm.web.blueprint import Blueprint
from mdm.web.security import READ, STEWARDS, request_context, requires

blp = Blueprint("hierarchies", __name__, description="Finance hierarchies: accounts, cost "
                "centers and legal entities; effective-dated, versioned, validated")

NODE = "/hierarchies/<string:name>/nodes/<string:key>"
VERSION = "/hierarchies/<string:name>/versions/<int:number>"


def _registry() -> Any:
    return current_app.extensions["mdm_domains"]


def _hierarchy_out(h: Any) -> dict[str, Any]:
    published = service.published_version(db.session, h)
    return {**service.hierarchy_dict(h),
            "published_version": published.number if published else None}


def _validation(result: ValidationResult, limit: int = 1000) -> dict[str, Any]:
    return {"valid": result.valid, "counts": result.counts(),
            "violations": [v.to_dict() for v in result.violations[:limit]],
            "truncated": len(result.violations) > limit}


def _rows(body: dict[str, Any], domain: str) -> Any:
    if "csv" in body:
        return service.parse(domain, _registry(), body["csv"], "csv")
    return service.parse_nodes(body["nodes"])


def _direct(payload: dict[str, Any]) -> Response:
    """A read that may list thousands of nodes, as JSON without marshmallow dumping it item
    by item (a Response passes flask-smorest's dump untouched). The query builds exactly the
    documented schema's members, so the body is what the schema would have produced."""
    return jsonify(payload)


def _outcome(outcome: service.ImportOutcome) -> dict[str, Any]:
    return {**service.version_dict(outcome.hierarchy, outcome.version),
            "validation": _validation(outcome.validation, 200)}


@blp.route("/hierarchy-rules")
class Rules(MethodView):
    @requires(*READ)
    @blp.response(200, HierarchyRuleSchema(many=True))
    def get(self) -> Any:
        """The validation rules, with the domains they apply to"""
        return [{"rule": str(r.rule), "description": r.description,
                 "domains": sorted(r.domains) if r.domains else None} for r in RULES]


@blp.route("/hierarchies")
class Hierarchies(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyListArgs, location="query")
    @blp.response(200, HierarchySchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """List hierarchies"""
        return [_hierarchy_out(h) for h in service.list_hierarchies(db.session, **args)]

    @requires(*STEWARDS)
    @blp.arguments(HierarchyInSchema)
    @blp.response(201, HierarchySchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a named hierarchy over a domain"""
        h = service.create_hierarchy(db.session, _registry(), request_context(), **body)
        return _hierarchy_out(h)


@blp.route("/hierarchies/<string:name>")
class HierarchyView(MethodView):
    @requires(*READ)
    @blp.response(200, HierarchySchema)
    def get(self, name: str) -> Any:
        """Show a hierarchy"""
        return _hierarchy_out(service.get_hierarchy(db.session, name))


@blp.route("/hierarchies/<string:name>/versions")
class Versions(MethodView):
    @requires(*READ)
    @blp.response(200, HierarchyVersionSchema(many=True))
    def get(self, name: str) -> Any:
        """List a hierarchy's versions"""
        h = service.get_hierarchy(db.session, name)
        return [service.version_dict(h, v) for v in service.list_versions(db.session, h)]

    @requires(*STEWARDS)
    @blp.arguments(HierarchyVersionInSchema)
    @blp.response(201, HierarchyVersionResultSchema)
    def post(self, body: dict[str, Any], name: str) -> Any:
        """Start a draft: import a whole hierarchy (nodes or csv) or copy a version"""
        h = service.get_hierarchy(db.session, name)
        rows = _rows(body, h.domain) if ("nodes" in body or "csv" in body) else None
        return _outcome(service.create_version(db.session, request_context(), h, rows=rows,
                                               copy_of=body.get("copy_of"), note=body["note"]))


@blp.route(VERSION)
class VersionView(MethodView):
    @requires(*READ)
    @blp.response(200, HierarchyVersionSchema)
    def get(self, name: str, number: int) -> Any:
        """Show a version"""
        h = service.get_hierarchy(db.session, name)
        return service.version_dict(h, service.get_version(db.session, h, number))


@blp.route(VERSION + "/nodes")
class VersionNodes(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(HierarchyContentInSchema)
    @blp.response(200, HierarchyVersionResultSchema)
    def put(self, body: dict[str, Any], name: str, number: int) -> Any:
        """Replace a draft's whole content (nodes or csv)"""
        h = service.get_hierarchy(db.session, name)
        return _outcome(service.replace_nodes(db.session, request_context(), h, number,
                                              _rows(body, h.domain)))


@blp.route(VERSION + "/moves")
class Moves(MethodView):
    @requires(*STEWARDS)
    @blp.arguments(HierarchyMoveInSchema)
    @blp.response(200, HierarchyVersionSchema)
    def post(self, body: dict[str, Any], name: str, number: int) -> Any:
        """Plan a move in a draft, effective from a date (earlier dates keep the old parent)"""
        h = service.get_hierarchy(db.session, name)
        v = service.plan_move(db.session, request_context(), h, number, **body)
        return service.version_dict(h, v)


@blp.route(VERSION + "/validation")
class Validation(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyValidationArgs, location="query")
    @blp.response(200, HierarchyValidationSchema)
    def get(self, args: dict[str, Any], name: str, number: int) -> Any:
        """Validate a version: every violation with its rule and node"""
        h = service.get_hierarchy(db.session, name)
        return _validation(service.validate_version(db.session, h, number), args["limit"])


@blp.route(VERSION + "/diff")
class VersionDiff(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyDiffArgs, location="query")
    @blp.response(200, HierarchyDiffSchema)
    def get(self, args: dict[str, Any], name: str, number: int) -> Any:
        """Compare a version with another (default: the published one)

        Lists the nodes added, removed, moved and renamed, each with the date it takes effect.
        """
        return queries.diff(db.session, name, number, args.get("against"), args.get("as_of"))


def _transition(action: str, summary: str) -> type[MethodView]:
    class Transition(MethodView):
        @requires(*STEWARDS)
        @blp.arguments(HierarchyTransitionInSchema)
        @blp.response(200, HierarchyVersionSchema)
        def post(self, body: dict[str, Any], name: str, number: int) -> Any:
            h = service.get_hierarchy(db.session, name)
            v = service.transition(db.session, request_context(), h, number, action,
                                   body.get("reason"))
            return service.version_dict(h, v)

    Transition.post.__doc__ = summary
    Transition.__name__ = f"{action.capitalize()}Version"
    return Transition


for _action, _summary in (
    ("submit", "Submit a valid draft for approval (refused with its violations if invalid)"),
    ("reject", "Send a submitted version back to draft"),
    ("approve", "Approve a submitted version (a steward other than its authors)"),
    ("publish", "Publish an approved version; the previous one is archived and an event "
                "is written"),
    ("archive", "Archive a version"),
):
    blp.route(f"{VERSION}/{_action}", endpoint=f"version_{_action}")(
        _transition(_action, _summary))


@blp.route("/hierarchies/<string:name>/roots")
class Roots(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyReadArgs, location="query")
    @blp.response(200, HierarchyNodeListSchema)
    def get(self, args: dict[str, Any], name: str) -> Any:
        """The top nodes on a date"""
        return _direct(queries.roots(db.session, _view(name, args)))


def _view(name: str, args: dict[str, Any]) -> queries.View:
    return queries.open_view(db.session, name, args.get("version"), args.get("as_of"))


@blp.route(NODE)
class NodeView(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyReadArgs, location="query")
    @blp.response(200, HierarchyNodeSchema)
    def get(self, args: dict[str, Any], name: str, key: str) -> Any:
        """A node on a date: its parent(s), level and whether it is a leaf"""
        return queries.node(db.session, _view(name, args), key)


@blp.route(NODE + "/children")
class Children(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyReadArgs, location="query")
    @blp.response(200, HierarchyNodeListSchema)
    def get(self, args: dict[str, Any], name: str, key: str) -> Any:
        """A node's children on a date"""
        return queries.children(db.session, _view(name, args), key)


@blp.route(NODE + "/ancestors")
class Ancestors(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyReadArgs, location="query")
    @blp.response(200, HierarchyNodeListSchema)
    def get(self, args: dict[str, Any], name: str, key: str) -> Any:
        """A node's ancestors on a date, nearest first"""
        return queries.ancestors(db.session, _view(name, args), key)


@blp.route(NODE + "/path")
class Path(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyReadArgs, location="query")
    @blp.response(200, HierarchyPathSchema)
    def get(self, args: dict[str, Any], name: str, key: str) -> Any:
        """The path(s) from the root to a node on a date, and its level"""
        return queries.paths(db.session, _view(name, args), key)


@blp.route(NODE + "/descendants")
class Descendants(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyDepthArgs, location="query")
    @blp.response(200, HierarchyNodeListSchema)
    def get(self, args: dict[str, Any], name: str, key: str) -> Any:
        """A node's descendants on a date (pre-order, with depth)"""
        return _direct(queries.descendants(db.session, _view(name, args), key,
                                           args.get("max_depth")))


@blp.route(NODE + "/subtree")
class Subtree(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyDepthArgs, location="query")
    @blp.response(200, HierarchySubtreeSchema)
    def get(self, args: dict[str, Any], name: str, key: str) -> Any:
        """A node's subtree on a date as nested JSON"""
        return _direct(queries.subtree(db.session, _view(name, args), key,
                                       args.get("max_depth")))


@blp.route(NODE + "/leaves")
class Leaves(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyReadArgs, location="query")
    @blp.response(200, HierarchyNodeListSchema)
    def get(self, args: dict[str, Any], name: str, key: str) -> Any:
        """The leaves that roll up into a node on a date"""
        return _direct(queries.leaves(db.session, _view(name, args), key))


@blp.route(NODE + "/move-impact")
class MoveImpact(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyImpactArgs, location="query")
    @blp.response(200, HierarchyImpactSchema)
    def get(self, args: dict[str, Any], name: str, key: str) -> Any:
        """What a move would change: descendants and postable accounts that change roll-up"""
        return queries.move_impact(db.session, _view(name, args), key, args["new_parent"])


@blp.route("/hierarchies/<string:name>/export")
class Export(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyExportArgs, location="query")
    @blp.response(200, HierarchyExportSchema)
    def get(self, args: dict[str, Any], name: str) -> Any:
        """Export the published version as JSON (parent-child rows with their periods)"""
        meta, rows = queries.export(db.session, name, args.get("version"), args.get("as_of"))
        return formats.to_json(rows, meta)


@blp.route("/hierarchies/<string:name>/export.csv")
class ExportCsv(MethodView):
    @requires(*READ)
    @blp.arguments(HierarchyExportArgs, location="query")
    @blp.response(200, content_type="text/csv", description="Parent-child CSV")
    def get(self, args: dict[str, Any], name: str) -> Any:
        """Export the published version as parent-child CSV"""
        meta, rows = queries.export(db.session, name, args.get("version"), args.get("as_of"))
        filename = f"{name}-v{meta['version']}.csv"
        return Response(formats.to_csv(rows), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})
