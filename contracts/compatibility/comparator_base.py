"""What the comparator's keyword mixins rely on; ``SchemaComparator`` provides it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from contracts.compatibility.document import SchemaDocument
from contracts.compatibility.findings import DiffOptions, Finding, Path
from contracts.compatibility.rules import SchemaRule
from contracts.compatibility.schema_facts import Facts


class ComparatorBase:
    """Declares, once, the state and methods the keyword mixins call on the comparator."""

    w_doc: SchemaDocument
    r_doc: SchemaDocument
    options: DiffOptions

    if TYPE_CHECKING:  # implemented by SchemaComparator; declared here for the type checker

        def compare(self, writer: Any, reader: Any) -> list[Finding]: ...

        def _facts(self, doc: SchemaDocument, node: Any) -> Facts: ...

        def _open_model(
            self,
            w_model: Any,
            r_model: Any,
            path: Path,
            unevaluated: bool,
            rules: dict[str, tuple[SchemaRule, SchemaRule]],
        ) -> Iterator[Finding]: ...
