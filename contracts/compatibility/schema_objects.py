"""Object keywords of the comparator: properties, required, content models, dependencies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from contracts.compatibility.comparator_base import ComparatorBase
from contracts.compatibility.findings import (
    Finding,
    Path,
    breaking,
    is_closed,
    is_open,
    under,
)
from contracts.compatibility.rules import SchemaRule
from contracts.compatibility.schema_facts import MISSING, Facts
from contracts.compatibility.schema_keywords import search

R = SchemaRule

_EXTRA_PROPERTY_RULES = {
    "added": (R.ADDITIONAL_PROPERTIES_ADDED, R.UNEVALUATED_PROPERTIES_ADDED),
    "removed": (R.ADDITIONAL_PROPERTIES_REMOVED, R.UNEVALUATED_PROPERTIES_REMOVED),
    "extended": (R.ADDITIONAL_PROPERTIES_EXTENDED, R.UNEVALUATED_PROPERTIES_EXTENDED),
    "narrowed": (R.ADDITIONAL_PROPERTIES_NARROWED, R.UNEVALUATED_PROPERTIES_NARROWED),
}


def _declared_required(f: Facts) -> Facts:
    declared = frozenset(name for name in f.required if name in f.properties)
    return f if declared == f.required else replace(f, required=declared)


class ObjectChecks(ComparatorBase):
    """Mixed into SchemaComparator; relies on its compare(), _facts() and _open_model()."""

    def _objects(self, w: Facts, r: Facts) -> Iterator[Finding]:
        skip = self._skipped_property
        for name in sorted(w.properties.keys() | r.properties.keys()):
            w_prop = w.properties.get(name, MISSING)
            r_prop = r.properties.get(name, MISSING)
            if skip(w_prop) or skip(r_prop):
                continue
            path = ("properties", name)
            if w_prop is not MISSING and r_prop is not MISSING:
                yield from under(path, self.compare(w_prop, r_prop))
            elif r_prop is MISSING:
                yield from self._property_dropped(name, w_prop, r, path)
            else:
                yield from self._property_declared(name, r_prop, w, r, path)
        yield from self._required(w, r)
        yield from self._extra(w, r)
        yield from self._pattern_properties(w, r)
        yield from self._property_names(w, r)
        yield from self._dependencies(w, r)

    def _skipped_property(self, node: Any) -> bool:
        context = self.options.context
        if context is None or not isinstance(node, dict):
            return False
        return bool(node.get("readOnly" if context == "request" else "writeOnly"))

    def _model_for(self, f: Facts, name: str, writer: bool) -> Any:
        """The schema `f` applies to an undeclared property: True (open), False, or a schema."""
        for pattern, schema in f.pattern_properties.items():
            if search(pattern, name):
                return schema
        if f.extra is not None:
            return f.extra[1]
        if writer and not self.options.open_writer_carries_unknown:
            return False
        return True

    def _property_dropped(self, name: str, w_prop: Any, r: Facts, path: Path) -> Iterator[Finding]:
        model = self._model_for(r, name, writer=False)
        if is_open(model):
            yield Finding(R.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, path)
        elif is_closed(model):
            w_resolved = self.w_doc.resolve(w_prop)
            if w_resolved is False:
                yield Finding(R.PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, path)
            else:
                yield Finding(R.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, path)
        else:
            sub = self.compare(w_prop, model)
            yield from under(path, sub)
            rule = (
                R.PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                if breaking(sub)
                else R.PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            )
            yield Finding(rule, path)

    def _property_declared(
        self, name: str, r_prop: Any, w: Facts, r: Facts, path: Path
    ) -> Iterator[Finding]:
        model = self._model_for(w, name, writer=True)
        required = name in r.required
        if is_open(model):
            if self._facts(self.r_doc, self.r_doc.resolve(r_prop)).kind == "any":
                yield Finding(R.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, path)
            else:
                yield Finding(R.PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, path)
        elif not is_closed(model):
            sub = self.compare(model, r_prop)
            yield from under(path, sub)
            rule = (
                R.PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                if breaking(sub)
                else R.PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            )
            yield Finding(rule, path)
        elif not required:
            yield Finding(R.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, path)

    def _required(self, w: Facts, r: Facts) -> Iterator[Finding]:
        if self.options.confluent:  # Confluent reads `required` only for declared properties
            w, r = _declared_required(w), _declared_required(r)
        for name in sorted(r.required - w.required):
            r_prop = r.properties.get(name, MISSING)
            if self._skipped_property(r.properties.get(name)):
                continue
            has_default = isinstance(self.r_doc.resolve(r_prop), dict) and (
                "default" in self.r_doc.resolve(r_prop)
            )
            new_property = r_prop is not MISSING and name not in w.properties
            path = ("required", name)
            if new_property and is_closed(self._model_for(w, name, writer=True)):
                rule = (
                    R.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
                    if has_default
                    else R.REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
                )
            else:
                rule = (
                    R.REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                    if has_default
                    else R.REQUIRED_ATTRIBUTE_ADDED
                )
            yield Finding(rule, path)
        for name in sorted(w.required - r.required):
            if not self._skipped_property(w.properties.get(name)):
                yield Finding(R.REQUIRED_ATTRIBUTE_REMOVED, ("required", name))

    def _extra(self, w: Facts, r: Facts) -> Iterator[Finding]:
        if w.extra is None and r.extra is None:
            return  # neither side declares a model; property checks above cover the rest
        w_kw, w_model = w.extra or ("additionalProperties", MISSING)
        r_kw, r_model = r.extra or (w_kw, MISSING)
        if w_model is MISSING:
            w_model = True if self.options.open_writer_carries_unknown else False
        if r_model is MISSING:
            r_model = True
        unevaluated = "unevaluatedProperties" in (w_kw, r_kw)
        yield from self._open_model(w_model, r_model, (r_kw,), unevaluated, _EXTRA_PROPERTY_RULES)

    def _pattern_properties(self, w: Facts, r: Facts) -> Iterator[Finding]:
        for pattern in sorted(w.pattern_properties.keys() | r.pattern_properties.keys()):
            path = ("patternProperties", pattern)
            w_schema = w.pattern_properties.get(pattern, MISSING)
            r_schema = r.pattern_properties.get(pattern, MISSING)
            if w_schema is not MISSING and r_schema is not MISSING:
                yield from under(path, self.compare(w_schema, r_schema))
            elif r_schema is MISSING:
                model = r.extra[1] if r.extra else True
                if is_open(model):
                    yield Finding(R.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, path)
                elif is_closed(model):
                    yield Finding(R.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, path)
                else:
                    sub = self.compare(w_schema, model)
                    yield from under(path, sub)
            else:
                model = (
                    w.extra[1]
                    if w.extra
                    else (True if self.options.open_writer_carries_unknown else False)
                )
                if is_open(model):
                    yield Finding(R.PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, path)
                elif not is_closed(model):
                    yield from under(path, self.compare(model, r_schema))

    def _property_names(self, w: Facts, r: Facts) -> Iterator[Finding]:
        if r.property_names is None:
            if w.property_names is not None:
                yield Finding(R.PROPERTY_NAMES_REMOVED, ("propertyNames",))
        elif w.property_names is None:
            if not is_open(r.property_names):
                yield Finding(R.PROPERTY_NAMES_ADDED, ("propertyNames",))
        else:
            yield from under(("propertyNames",), self.compare(w.property_names, r.property_names))

    def _dependencies(self, w: Facts, r: Facts) -> Iterator[Finding]:
        for name in sorted(w.dependent_required.keys() | r.dependent_required.keys()):
            path = ("dependencies", name)
            w_dep = w.dependent_required.get(name)
            r_dep = r.dependent_required.get(name)
            if r_dep is None:
                yield Finding(R.DEPENDENCY_ARRAY_REMOVED, path)
            elif w_dep is None:
                if not r_dep <= w.required:
                    yield Finding(R.DEPENDENCY_ARRAY_ADDED, path, MISSING, sorted(r_dep))
            elif not r_dep <= (w_dep | w.required):
                yield Finding(R.DEPENDENCY_ARRAY_EXTENDED, path, sorted(w_dep), sorted(r_dep))
            elif r_dep != w_dep:
                yield Finding(R.DEPENDENCY_ARRAY_NARROWED, path, sorted(w_dep), sorted(r_dep))
        for name in sorted(w.dependent_schemas.keys() | r.dependent_schemas.keys()):
            path = ("dependencies", name)
            w_dep = w.dependent_schemas.get(name, MISSING)
            r_dep = r.dependent_schemas.get(name, MISSING)
            if r_dep is MISSING:
                yield Finding(R.DEPENDENCY_SCHEMA_REMOVED, path)
            elif w_dep is MISSING:
                yield Finding(R.DEPENDENCY_SCHEMA_ADDED, path)
            else:
                yield from under(path, self.compare(w_dep, r_dep))
