"""Structural JSON Schema comparison: can a reader schema read everything a writer accepts?

`SchemaComparator.compare(writer, reader)` returns findings (rule, relative path, values); the
rule table in `rules.py` decides which findings break compatibility. Semantics follow Confluent
Schema Registry's JSON Schema rules: open, closed and partially open content models, type
narrowing with integer inside number, bounds, enums, tuples, combinators matched regardless of
order, cycle-safe `$ref`.

The comparison is memoised per (writer node, reader node) identity, and a pair already being
compared is assumed compatible when met again (recursive schemas), which is the usual
co-inductive reading of recursive types.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from contracts.compatibility import schema_facts as sf
from contracts.compatibility.document import SchemaDocument
from contracts.compatibility.findings import (
    DiffOptions,
    Finding,
    Path,
    breaking,
    is_closed,
    is_open,
    render_pointer,
    under,
    weight,
)
from contracts.compatibility.rules import SchemaRule
from contracts.compatibility.schema_arrays import ArrayChecks
from contracts.compatibility.schema_facts import MISSING, Facts
from contracts.compatibility.schema_keywords import (
    admits,
    annotation_changes,
    covers,
    family,
    finite_domain,
    format_change,
    length_bounds,
    number_keywords,
    overlaps,
    string_keywords,
    types_out,
)
from contracts.compatibility.schema_objects import ObjectChecks
from contracts.errors import UnresolvableReference

R = SchemaRule

__all__ = [
    "DiffOptions",
    "Finding",
    "SchemaComparator",
    "breaking",
    "render_pointer",
    "schema_findings",
]


class SchemaComparator(ObjectChecks, ArrayChecks):
    def __init__(
        self,
        writer_doc: SchemaDocument,
        reader_doc: SchemaDocument,
        options: DiffOptions | None = None,
    ) -> None:
        self.w_doc = writer_doc
        self.r_doc = reader_doc
        self.options = options or DiffOptions()
        self._memo: dict[tuple[int, int], list[Finding]] = {}
        self._active: set[tuple[int, int]] = set()
        self._contexts: dict[tuple[int, int], Any] = {}
        self._same: dict[tuple[int, int], bool] = {}
        self._prepared: dict[tuple[int, int], Any] = {}
        self._keepalive: list[Any] = []
        self._facts_cache: dict[tuple[int, int], Facts] = {}

    # -- entry point -------------------------------------------------------------------------

    def compare(self, writer: Any, reader: Any) -> list[Finding]:
        """Findings of reading `writer` data with `reader`; paths are relative to the pair."""
        w = self._prepare(self.w_doc, writer)
        r = self._prepare(self.r_doc, reader)
        key = (id(w), id(r))
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        if key in self._active:
            return []
        if self._identical(w, r):
            self._memo[key] = []
            return []
        self._active.add(key)
        try:
            found = list(self._compare(w, r))
        finally:
            self._active.discard(key)
        self._memo[key] = found
        return found

    def _identical(self, w: Any, r: Any) -> bool:
        """Same text with same `$ref` targets: nothing to report, without building facts.

        Far cheaper than a comparison, and most of two versions of a large API is unchanged.
        """
        if type(w) is not type(r):
            return False
        if not isinstance(w, dict | list):
            return bool(w == r)
        key = (id(w), id(r))
        known = self._same.get(key)
        if known is not None:
            return known
        self._same[key] = True  # a cycle met again is assumed identical
        if self.w_doc.text(w) == self.r_doc.text(r):
            # The same text (serialised in C, far faster than walking it here): identical if
            # every `$ref` in it reaches identical targets in the two documents.
            same = all(self._same_target(ref) for ref in self.w_doc.refs_in(w))
            self._same[key] = same
            return same
        if isinstance(w, list):
            same = len(w) == len(r) and all(
                self._identical(a, b) for a, b in zip(w, r, strict=True)
            )
        elif w.keys() != r.keys():
            same = False
        elif isinstance(w.get("$ref"), str) and isinstance(r.get("$ref"), str):
            # (a `properties` map may hold a property named "$ref": not a reference)
            same = (
                w["$ref"] == r["$ref"]
                and self._identical(self.w_doc.lookup(w["$ref"]), self.r_doc.lookup(r["$ref"]))
                and all(self._identical(w[k], r[k]) for k in w if k != "$ref")
            )
        else:
            same = all(self._identical(v, r[k]) for k, v in w.items())
        self._same[key] = same
        return same

    def _same_target(self, ref: str) -> bool:
        """Does `ref` reach identical nodes in both documents? A reference neither document
        resolves (an external one) is the same reference; `refs_in` may also offer a string
        that only looks like a reference (a list ["$ref", "x"]): one side failing is a
        difference, which only costs a full comparison."""
        targets = []
        for doc in (self.w_doc, self.r_doc):
            try:
                targets.append(doc.lookup(ref))
            except UnresolvableReference:
                targets.append(MISSING)
        if any(target is MISSING for target in targets):
            return targets[0] is targets[1]
        return self._identical(targets[0], targets[1])

    def swapped(self) -> SchemaComparator:
        """A comparator reading in the other direction (for `not`, which is contravariant)."""
        return SchemaComparator(self.r_doc, self.w_doc, self.options)

    # -- preparation -------------------------------------------------------------------------

    def _prepare(self, doc: SchemaDocument, node: Any) -> Any:
        key = (id(doc), id(node))
        prepared = self._prepared.get(key, MISSING)
        if prepared is MISSING:
            prepared = self._unwrap(doc, node)
            self._prepared[key] = prepared
        return prepared

    def _unwrap(self, doc: SchemaDocument, node: Any) -> Any:
        seen = 0
        while True:
            node = doc.resolve(node)
            if not isinstance(node, dict) or seen > 32:
                return node
            # {"allOf": [X]} (often `$ref` plus a description in OpenAPI) is X.
            members = [k for k in sf.COMBINATORS if isinstance(node.get(k), list)]
            if (
                len(members) == 1
                and len(node[members[0]]) == 1
                and not any(sf.is_constraint_key(k) for k in node if k != members[0])
            ):
                node = node[members[0]][0]
                seen += 1
                continue
            return node

    def _facts(self, doc: SchemaDocument, node: Any) -> Facts:
        key = (id(doc), id(node))
        found = self._facts_cache.get(key)
        if found is None:
            found = sf.extract(node, doc.dialect)
            self._facts_cache[key] = found
        return found

    # -- the comparison ----------------------------------------------------------------------

    def _compare(self, w_node: Any, r_node: Any) -> Iterator[Finding]:
        if w_node is r_node and self.w_doc is self.r_doc:
            return
        w = self._facts(self.w_doc, w_node)
        r = self._facts(self.r_doc, r_node)
        if w.kind == "none":
            return
        if r.kind == "none":
            yield Finding(R.SCHEMA_REJECTS_ALL, (), w_node, r_node)
            return
        if self.options.annotations:
            yield from annotation_changes(w, r)
        if r.kind == "any":
            if w.types is not None:
                yield Finding(R.TYPE_EXTENDED, (), sorted(w.types), MISSING)
            return

        w_comb, r_comb = w.combinators(), r.combinators()
        if w_comb and not r_comb and not w.has_base:
            yield from self._writer_alternatives(w_comb, r_node)
            return
        if w.has_base or r.has_base:
            yield from self._base(w, r, w_node, r_node)
        if r_comb:
            yield from self._combinators(w, r, w_comb, r_comb, w_node)

    def _base(self, w: Facts, r: Facts, w_node: Any, r_node: Any) -> Iterator[Finding]:
        if w.values is not None:
            yield from self._finite_writer(w, r)
            return
        if r.values is not None:
            finite = finite_domain(w)
            if finite is None:
                yield Finding(R.ENUM_ADDED, ("enum",), MISSING, list(r.values))
                return
            yield from self._finite_writer(w, r, finite)
            return
        shared = yield from self._types(w, r)
        if shared is None:
            return
        yield from format_change(w, r)
        if "string" in shared:
            yield from string_keywords(w, r)
        if "number" in shared:
            yield from number_keywords(w, r)
        if "object" in shared:
            yield from self._objects(w, r)
        if "array" in shared:
            yield from self._arrays(w, r)
        yield from length_bounds(w, r, shared)
        yield from self._not(w, r)
        yield from self._conditional(w, r)

    # -- types and values --------------------------------------------------------------------

    def _types(self, w: Facts, r: Facts) -> Generator[Finding, None, set[str] | None]:
        """Yield type findings; return the keyword families both sides share (None: stop)."""
        w_types = w.types if w.types is not None else sf.ALL_TYPES
        r_types = r.types if r.types is not None else sf.ALL_TYPES
        uncovered = {t for t in w_types if not covers(r_types, t)}
        shared = {family(t) for t in w_types if covers(r_types, t) or overlaps(t, r_types)}
        if uncovered:
            if not shared:
                yield Finding(R.TYPE_CHANGED, ("type",), types_out(w), types_out(r))
                return None
            yield Finding(R.TYPE_NARROWED, ("type",), types_out(w), types_out(r))
        elif (
            w.types is not None
            and r_types - w_types
            and not (r_types - w_types == {"integer"} and "number" in w_types)
        ):
            yield Finding(R.TYPE_EXTENDED, ("type",), types_out(w), types_out(r))
        return shared

    def _finite_writer(
        self, w: Facts, r: Facts, domain: tuple[Any, ...] | None = None
    ) -> Iterator[Finding]:
        values = domain if domain is not None else w.values or ()
        if w.types is not None:  # values the writer's own type rejects never occur
            values = tuple(v for v in values if covers(w.types, sf.json_type(v)))
        rejected = [v for v in values if not admits(r, v)]
        if r.values is not None:
            w_keys = {sf.value_key(v) for v in values}
            extra = [v for v in r.values if sf.value_key(v) not in w_keys]
            if rejected:
                rule = R.ENUM_ARRAY_CHANGED if extra else R.ENUM_ARRAY_NARROWED
                yield Finding(rule, ("enum",), list(values), list(r.values))
            elif extra and w.values is not None:
                yield Finding(R.ENUM_ARRAY_EXTENDED, ("enum",), list(values), list(r.values))
        elif rejected:
            yield Finding(R.TYPE_NARROWED, (), rejected, types_out(r))
        elif w.values is not None:
            yield Finding(R.ENUM_REMOVED, ("enum",), list(w.values), MISSING)

    def _open_model(
        self,
        w_model: Any,
        r_model: Any,
        path: Path,
        unevaluated: bool,
        rules: dict[str, tuple[SchemaRule, SchemaRule]],
    ) -> Iterator[Finding]:
        """Compare two "everything else" schemas (additionalProperties/Items)."""
        pick = 1 if unevaluated else 0
        w_open, r_open = is_open(w_model), is_open(r_model)
        w_closed, r_closed = is_closed(w_model), is_closed(r_model)
        if w_closed:
            if not r_closed:
                yield Finding(rules["added"][pick], path, False, r_model)
        elif r_closed:
            yield Finding(rules["removed"][pick], path, w_model, False)
        elif r_open:
            if not w_open:
                yield Finding(rules["extended"][pick], path, w_model, r_model)
        elif w_open:
            yield Finding(rules["narrowed"][pick], path, w_model, r_model)
        else:
            yield from under(path, self.compare(w_model, r_model))

    # -- not, if/then/else -------------------------------------------------------------------

    def _not(self, w: Facts, r: Facts) -> Iterator[Finding]:
        if r.not_ is None:
            if w.not_ is not None:
                yield Finding(R.NOT_REMOVED, ("not",))
            return
        if w.not_ is None:
            yield Finding(R.NOT_ADDED, ("not",))
            return
        # Contravariant: the reader may only exclude what the writer already excluded.
        inner = self.swapped().compare(r.not_, w.not_)
        if breaking(inner):
            yield Finding(R.NOT_TYPE_EXTENDED, ("not",))
        elif inner:
            yield Finding(R.NOT_TYPE_NARROWED, ("not",))

    def _conditional(self, w: Facts, r: Facts) -> Iterator[Finding]:
        if r.if_ is MISSING:
            if w.if_ is not MISSING:
                yield Finding(R.CONDITIONAL_REMOVED, ("if",))
            return
        if w.if_ is MISSING:
            if r.then_ is not MISSING or r.else_ is not MISSING:
                yield Finding(R.CONDITIONAL_ADDED, ("if",))
            return
        if self.compare(w.if_, r.if_) or self.swapped().compare(r.if_, w.if_):
            yield Finding(R.CONDITION_CHANGED, ("if",))
            return
        for keyword, w_branch, r_branch in (
            ("then", w.then_, r.then_),
            ("else", w.else_, r.else_),
        ):
            w_branch = self._in_context(self.w_doc, w, True if w_branch is MISSING else w_branch)
            r_branch = self._in_context(self.r_doc, r, True if r_branch is MISSING else r_branch)
            inherited = {
                (f.rule, ("properties", name) + f.path)
                for name in w.properties.keys() & r.properties.keys()
                for f in self.compare(w.properties[name], r.properties[name])
            }
            for finding in self.compare(w_branch, r_branch):
                if (finding.rule, finding.path) not in inherited:
                    yield finding._replace(path=(keyword,) + finding.path)

    def _in_context(self, doc: SchemaDocument, parent: Facts, branch: Any) -> Any:
        """A then/else branch with the parent's property schemas folded in.

        The instance a branch sees also satisfies the parent, so `{"pattern": ...}` under
        `then` describes the parent's string property, not any value. Findings the parent
        comparison already reported are filtered out by the caller.
        """
        branch = doc.resolve(branch)
        if not isinstance(branch, dict) or not isinstance(branch.get("properties"), dict):
            return branch
        key = (id(parent), id(branch))
        cached = self._contexts.get(key)
        if cached is not None:
            return cached
        properties = {}
        for name, schema in branch["properties"].items():
            inherited = doc.resolve(parent.properties.get(name))
            schema = doc.resolve(schema)
            if isinstance(inherited, dict) and isinstance(schema, dict):
                schema = {**inherited, **schema}
            properties[name] = schema
        merged = {**branch, "properties": properties}
        self._contexts[key] = merged
        self._keepalive.append((parent, branch))  # ids in the key must stay unique
        return merged

    # -- combinators -------------------------------------------------------------------------

    def _writer_alternatives(
        self, w_comb: dict[str, tuple[Any, ...]], r_node: Any
    ) -> Iterator[Finding]:
        """A writer made only of allOf/anyOf/oneOf against a plain reader."""
        for keyword, members in w_comb.items():
            results = [self.compare(m, r_node) for m in members]
            if keyword == "allOf":
                # data meets every member: one member the reader covers is enough
                if any(not breaking(res) for res in results):
                    continue
                best = min(range(len(results)), key=lambda i: weight(results[i]))
                yield from under((keyword, str(best)), results[best])
            else:
                for index, res in enumerate(results):
                    if breaking(res):
                        yield Finding(R.SUM_TYPE_NARROWED, (keyword, str(index)))
                        yield from under((keyword, str(index)), res)

    def _combinators(
        self,
        w: Facts,
        r: Facts,
        w_comb: dict[str, tuple[Any, ...]],
        r_comb: dict[str, tuple[Any, ...]],
        w_node: Any,
    ) -> Iterator[Finding]:
        for keyword, r_members in r_comb.items():
            if keyword in w_comb:
                yield from self._match(keyword, w_comb[keyword], r_members)
                continue
            w_kind = next(iter(w_comb), None)
            if w_kind is None:
                yield from self._reader_alternatives(keyword, w_node, r_members, w.has_base)
                continue
            allowed = keyword == "anyOf" and w_kind in ("allOf", "oneOf")
            if not allowed:
                yield Finding(R.COMBINED_TYPE_CHANGED, (keyword,), w_kind, keyword)
                continue
            yield Finding(R.COMBINED_TYPE_EXTENDED, (keyword,), w_kind, keyword)
            w_members = w_comb[w_kind]
            if w_kind == "allOf":
                ok = any(not breaking(self.compare(wm, rm)) for wm in w_members for rm in r_members)
                if not ok:
                    yield Finding(R.SUM_TYPE_NARROWED, (keyword,))
            else:
                yield from self._match("anyOf", w_members, r_members)

    def _reader_alternatives(
        self, keyword: str, w_node: Any, r_members: tuple[Any, ...], w_has_base: bool
    ) -> Iterator[Finding]:
        """A plain writer against a reader's allOf/anyOf/oneOf."""
        results = [self.compare(w_node, m) for m in r_members]
        if keyword == "allOf":
            for index, res in enumerate(results):
                yield from under((keyword, str(index)), res)
            return
        if any(not breaking(res) for res in results):
            if len(r_members) > 1:
                yield Finding(R.SUM_TYPE_EXTENDED, (keyword,))
            return
        best = min(range(len(results)), key=lambda i: weight(results[i]))
        yield Finding(R.SUM_TYPE_NARROWED, (keyword,))
        yield from under((keyword, str(best)), results[best])

    def _match(
        self, keyword: str, w_members: tuple[Any, ...], r_members: tuple[Any, ...]
    ) -> Iterator[Finding]:
        """Match subschemas regardless of order.

        allOf: every reader conjunct must follow from some writer conjunct.
        anyOf/oneOf: every writer alternative must be readable by some reader alternative.
        """
        product = keyword == "allOf"
        needed, offered = (r_members, w_members) if product else (w_members, r_members)

        def pair(need: int, offer: int) -> list[Finding]:
            if product:
                return self.compare(offered[offer], needed[need])
            return self.compare(needed[need], offered[offer])

        for index in range(len(needed)):
            positional = pair(index, index) if index < len(offered) else None
            if positional is not None and not breaking(positional):
                yield from under((keyword, str(index)), positional)
                continue
            if any(
                not breaking(pair(index, other)) for other in range(len(offered)) if other != index
            ):
                continue
            if positional is not None and len(needed) == len(offered):
                yield from under((keyword, str(index)), positional)
            else:
                rule = R.PRODUCT_TYPE_EXTENDED if product else R.SUM_TYPE_NARROWED
                yield Finding(rule, (keyword, str(index)))
        if len(offered) > len(needed):
            rule = R.PRODUCT_TYPE_NARROWED if product else R.SUM_TYPE_EXTENDED
            yield Finding(rule, (keyword,), len(w_members), len(r_members))


def schema_findings(
    writer_doc: SchemaDocument,
    reader_doc: SchemaDocument,
    options: DiffOptions | None = None,
    writer: Any = MISSING,
    reader: Any = MISSING,
) -> list[Finding]:
    """Findings of reading documents written with `writer_doc` using `reader_doc`."""
    comparator = SchemaComparator(writer_doc, reader_doc, options)
    return comparator.compare(
        writer_doc.root if writer is MISSING else writer,
        reader_doc.root if reader is MISSING else reader,
    )
