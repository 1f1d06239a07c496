"""Array keywords of the comparator: items, tuples (prefixItems/items arrays), contains."""

from __future__ import annotations

from collections.abc import Iterator
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

R = SchemaRule

_EXTRA_ITEM_RULES = {
    "added": (R.ADDITIONAL_ITEMS_ADDED, R.ADDITIONAL_ITEMS_ADDED),
    "removed": (R.ADDITIONAL_ITEMS_REMOVED, R.ADDITIONAL_ITEMS_REMOVED),
    "extended": (R.ADDITIONAL_ITEMS_EXTENDED, R.ADDITIONAL_ITEMS_EXTENDED),
    "narrowed": (R.ADDITIONAL_ITEMS_NARROWED, R.ADDITIONAL_ITEMS_NARROWED),
}


class ArrayChecks(ComparatorBase):
    """Mixed into SchemaComparator; relies on its compare(), _facts() and _open_model()."""

    def _arrays(self, w: Facts, r: Facts) -> Iterator[Finding]:
        if not w.tuple_form and not r.tuple_form:
            w_items = w.rest[1] if w.rest else True
            r_items = r.rest[1] if r.rest else True
            keyword = (r.rest or w.rest or ("items", None))[0]
            if keyword == "unevaluatedItems":
                yield from self._open_model(w_items, r_items, (keyword,), True, _EXTRA_ITEM_RULES)
            else:
                yield from under((keyword,), self.compare(w_items, r_items))
            if self.options.confluent:
                yield from self._confluent_additional_items(w, r)
        else:
            yield from self._tuples(w, r)
        yield from self._contains(w, r)
        if r.unique and not w.unique:
            yield Finding(R.UNIQUE_ITEMS_ADDED, ("uniqueItems",), False, True)
        elif w.unique and not r.unique:
            yield Finding(R.UNIQUE_ITEMS_REMOVED, ("uniqueItems",), True, False)

    def _confluent_additional_items(self, w: Facts, r: Facts) -> Iterator[Finding]:
        """Confluent compares `additionalItems` next to a single `items` schema too."""
        if w.additional_items is MISSING and r.additional_items is MISSING:
            return
        w_model = True if w.additional_items is MISSING else w.additional_items
        r_model = True if r.additional_items is MISSING else r.additional_items
        yield from self._open_model(
            w_model, r_model, ("additionalItems",), False, _EXTRA_ITEM_RULES
        )

    def _rest_model(self, f: Facts, writer: bool) -> Any:
        if f.rest is not None:
            return f.rest[1]
        if not f.tuple_form:
            return True
        if writer and not self.options.open_writer_carries_unknown:
            return False
        return True

    def _tuples(self, w: Facts, r: Facts) -> Iterator[Finding]:
        w_rest, r_rest = self._rest_model(w, True), self._rest_model(r, False)
        prefix_kw = r.prefix_keyword if r.tuple_form else w.prefix_keyword
        for index in range(max(len(w.prefix), len(r.prefix))):
            path = (prefix_kw, str(index))
            if index < len(w.prefix) and index < len(r.prefix):
                yield from under(path, self.compare(w.prefix[index], r.prefix[index]))
            elif index < len(w.prefix):
                yield from self._item_dropped(w.prefix[index], r_rest, path)
            else:
                yield from self._item_declared(w_rest, r.prefix[index], path)
        if w.rest is None and r.rest is None:
            return
        rest_kw = (r.rest or w.rest or ("additionalItems", None))[0]
        yield from self._open_model(
            w_rest, r_rest, (rest_kw,), rest_kw == "unevaluatedItems", _EXTRA_ITEM_RULES
        )

    def _item_dropped(self, w_item: Any, r_rest: Any, path: Path) -> Iterator[Finding]:
        if is_open(r_rest):
            yield Finding(R.ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL, path)
        elif is_closed(r_rest):
            if self.w_doc.resolve(w_item) is False:
                yield Finding(R.ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, path)
            else:
                yield Finding(R.ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL, path)
        else:
            sub = self.compare(w_item, r_rest)
            yield from under(path, sub)
            yield Finding(
                R.ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                if breaking(sub)
                else R.ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                path,
            )

    def _item_declared(self, w_rest: Any, r_item: Any, path: Path) -> Iterator[Finding]:
        if is_open(w_rest):
            if self._facts(self.r_doc, self.r_doc.resolve(r_item)).kind == "any":
                yield Finding(R.ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, path)
            else:
                yield Finding(R.ITEM_ADDED_TO_OPEN_CONTENT_MODEL, path)
        elif is_closed(w_rest):
            yield Finding(R.ITEM_ADDED_TO_CLOSED_CONTENT_MODEL, path)
        else:
            sub = self.compare(w_rest, r_item)
            yield from under(path, sub)
            yield Finding(
                R.ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                if breaking(sub)
                else R.ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL,
                path,
            )

    def _contains(self, w: Facts, r: Facts) -> Iterator[Finding]:
        if r.contains is None:
            if w.contains is not None:
                yield Finding(R.CONTAINS_REMOVED, ("contains",))
        elif w.contains is None:
            yield Finding(R.CONTAINS_ADDED, ("contains",))
        else:
            yield from under(("contains",), self.compare(w.contains, r.contains))
