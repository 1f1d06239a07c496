from __future__ import annotations

import marshmallow as ma

from mdm.hierarchies.models import HIERARCHY_DOMAINS, HIERARCHY_KINDS, VERSION_STATUSES

_KEY = ma.validate.Length(min=1, max=120)


class HierarchyInSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[
        ma.validate.Length(min=1, max=100),
        ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                           error="Letters, digits, '_', '.' and '-', starting with a "
                                 "letter or digit.")])
    domain = ma.fields.String(required=True, validate=ma.validate.OneOf(HIERARCHY_DOMAINS))
    kind = ma.fields.String(load_default="standard", validate=ma.validate.OneOf(HIERARCHY_KINDS))
    allow_shared = ma.fields.Boolean(load_default=False, metadata={
        "description": "Whether a node may have several parents on one date"})
    chart = ma.fields.String(validate=ma.validate.Length(min=1, max=40), metadata={
        "description": "gl_account: the chart of accounts (node keys are account codes)"})
    legal_entity_code = ma.fields.String(validate=ma.validate.Length(min=1, max=40), metadata={
        "description": "cost_center: the legal entity this standard hierarchy belongs to"})
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class HierarchySchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    domain = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    allow_shared = ma.fields.Boolean(required=True)
    chart = ma.fields.String(allow_none=True)
    legal_entity_code = ma.fields.String(allow_none=True)
    description = ma.fields.String()
    created_by = ma.fields.String()
    created_at = ma.fields.String()
    published_version = ma.fields.Integer(allow_none=True)


class HierarchyListArgs(ma.Schema):
    domain = ma.fields.String(validate=ma.validate.OneOf(HIERARCHY_DOMAINS))


class HierarchyVersionSchema(ma.Schema):
    hierarchy = ma.fields.String(required=True)
    domain = ma.fields.String()
    number = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(VERSION_STATUSES))
    based_on = ma.fields.Integer(allow_none=True)
    note = ma.fields.String()
    node_count = ma.fields.Integer()
    authors = ma.fields.List(ma.fields.String())
    created_by = ma.fields.String()
    created_at = ma.fields.String(allow_none=True)
    submitted_by = ma.fields.String(allow_none=True)
    submitted_at = ma.fields.String(allow_none=True)
    approved_by = ma.fields.String(allow_none=True)
    approved_at = ma.fields.String(allow_none=True)
    published_by = ma.fields.String(allow_none=True)
    published_at = ma.fields.String(allow_none=True)
    archived_at = ma.fields.String(allow_none=True)


class HierarchyViolationSchema(ma.Schema):
    rule = ma.fields.String(required=True)
    node = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    line = ma.fields.Integer(allow_none=True)
    on = ma.fields.String(allow_none=True)


class HierarchyValidationSchema(ma.Schema):
    valid = ma.fields.Boolean(required=True)
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    violations = ma.fields.List(ma.fields.Nested(HierarchyViolationSchema), required=True)
    truncated = ma.fields.Boolean()


class HierarchyVersionResultSchema(HierarchyVersionSchema):
    validation = ma.fields.Nested(HierarchyValidationSchema)


class HierarchyContentInSchema(ma.Schema):
    """A whole hierarchy: ``nodes`` (JSON objects) or ``csv`` (parent-child CSV text)."""

    nodes = ma.fields.List(ma.fields.Dict(), validate=ma.validate.Length(min=1, max=200_000),
                           metadata={"description": "Objects with node, parent, name, "
                                     "valid_from, valid_to, ownership_pct, attributes"})
    csv = ma.fields.String(validate=ma.validate.Length(min=1), metadata={
        "description": "Parent-child CSV: node,parent,name,valid_from,valid_to,ownership_pct"})

    @ma.validates_schema
    def _one_source(self, data: dict, **_: object) -> None:
        if ("nodes" in data) == ("csv" in data):
            raise ma.ValidationError("Give exactly one of nodes or csv.", "_schema")


class HierarchyVersionInSchema(HierarchyContentInSchema):
    copy_of = ma.fields.Integer(validate=ma.validate.Range(min=1), metadata={
        "description": "Start the draft as a copy of this version (default: the published)"})
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))

    @ma.validates_schema
    def _one_source(self, data: dict, **_: object) -> None:
        if sum(k in data for k in ("nodes", "csv", "copy_of")) > 1:
            raise ma.ValidationError("Give at most one of nodes, csv or copy_of.", "_schema")


class HierarchyMoveInSchema(ma.Schema):
    node = ma.fields.String(required=True, validate=_KEY)
    new_parent = ma.fields.String(required=True, validate=_KEY)
    effective_from = ma.fields.Date(required=True)
    from_parent = ma.fields.String(validate=_KEY, metadata={
        "description": "For a shared node: the parent it leaves"})
    reason = ma.fields.String(validate=ma.validate.Length(max=2000))


class HierarchyTransitionInSchema(ma.Schema):
    reason = ma.fields.String(validate=ma.validate.Length(max=2000))


class HierarchyReadArgs(ma.Schema):
    version = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "Version number (default: the published version)"})
    as_of = ma.fields.Date(metadata={"description": "Date to read the hierarchy on "
                                                    "(default: today)"})


class HierarchyDepthArgs(HierarchyReadArgs):
    max_depth = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10_000))


class HierarchyImpactArgs(HierarchyReadArgs):
    new_parent = ma.fields.String(required=True, validate=_KEY)


class HierarchyDiffArgs(ma.Schema):
    against = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "Version to compare with (default: the published version)"})
    as_of = ma.fields.Date(metadata={
        "description": "Compare on this date only (default: every date; changes carry the "
                       "date they take effect)"})


class HierarchyValidationArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=1000, validate=ma.validate.Range(min=1, max=100_000))


class HierarchyExportArgs(ma.Schema):
    version = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))
    as_of = ma.fields.Date(metadata={"description": "Only the rows valid on this date "
                                                    "(default: every period)"})


class HierarchyNodeItemSchema(ma.Schema):
    node = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True)
    golden_id = ma.fields.String(allow_none=True)
    depth = ma.fields.Integer()
    leaf = ma.fields.Boolean()


class _HierarchyReadMeta(ma.Schema):
    hierarchy = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    as_of = ma.fields.String(required=True)


class HierarchyNodeSchema(_HierarchyReadMeta):
    node = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True)
    golden_id = ma.fields.String(allow_none=True)
    parents = ma.fields.List(ma.fields.String(), required=True)
    level = ma.fields.Integer(required=True, metadata={"description": "0 for a root"})
    leaf = ma.fields.Boolean(required=True)
    children = ma.fields.Integer(required=True, metadata={"description": "How many"})


class HierarchyNodeListSchema(_HierarchyReadMeta):
    node = ma.fields.String(allow_none=True)
    count = ma.fields.Integer()
    items = ma.fields.List(ma.fields.Nested(HierarchyNodeItemSchema), required=True)


class HierarchyPathSchema(_HierarchyReadMeta):
    node = ma.fields.String(required=True)
    level = ma.fields.Integer(required=True)
    paths = ma.fields.List(ma.fields.List(ma.fields.Nested(HierarchyNodeItemSchema)), required=True,
                           metadata={"description": "Root first; several for shared nodes"})


class HierarchyTreeNodeSchema(ma.Schema):
    node = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True)
    children = ma.fields.List(ma.fields.Nested(lambda: HierarchyTreeNodeSchema()), required=True)


class HierarchySubtreeSchema(_HierarchyReadMeta):
    tree = ma.fields.Nested(HierarchyTreeNodeSchema, required=True)


class HierarchyImpactSchema(_HierarchyReadMeta):
    node = ma.fields.String(required=True)
    from_parents = ma.fields.List(ma.fields.String(), required=True)
    to_parent = ma.fields.String(required=True)
    descendants = ma.fields.List(ma.fields.String(), required=True)
    postable = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "Postable accounts (gl_account) or leaves that change roll-up"})
    ancestors_losing = ma.fields.List(ma.fields.String(), required=True)
    ancestors_gaining = ma.fields.List(ma.fields.String(), required=True)


class HierarchyDiffSchema(ma.Schema):
    hierarchy = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    against = ma.fields.Integer(required=True)
    as_of = ma.fields.String(allow_none=True)
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    added = ma.fields.List(ma.fields.Dict(), required=True)
    removed = ma.fields.List(ma.fields.Dict(), required=True)
    moved = ma.fields.List(ma.fields.Dict(), required=True)
    renamed = ma.fields.List(ma.fields.Dict(), required=True)


class HierarchyExportNodeSchema(ma.Schema):
    node = ma.fields.String(required=True)
    parent = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    valid_from = ma.fields.String(required=True)
    valid_to = ma.fields.String(allow_none=True)
    ownership_pct = ma.fields.String()
    attributes = ma.fields.Dict()
    golden_id = ma.fields.String(allow_none=True)


class HierarchyExportSchema(ma.Schema):
    hierarchy = ma.fields.String(required=True)
    domain = ma.fields.String(required=True)
    kind = ma.fields.String()
    chart = ma.fields.String(allow_none=True)
    legal_entity_code = ma.fields.String(allow_none=True)
    version = ma.fields.Integer(required=True)
    as_of = ma.fields.String(allow_none=True)
    published_at = ma.fields.String(allow_none=True)
    nodes = ma.fields.List(ma.fields.Nested(HierarchyExportNodeSchema), required=True)


class HierarchyRuleSchema(ma.Schema):
    rule = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    domains = ma.fields.List(ma.fields.String(), allow_none=True)
