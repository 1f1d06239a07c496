"""CSV cells a spreadsheet would run as a formula (CSV injection) are escaped, in every CSV
the hub writes: crosswalk exports, file-drop snapshots and hierarchy exports.

OWASP's rule: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading single quote (``=HYPERLINK(...)`` is written ``'=HYPERLINK(...)``); spreadsheets
show the quote-prefixed cell as text. Numbers stay numbers: a negative amount held as a
number (``-12.5``) is written as it is, while the same characters held as text are escaped
like any other text, because a cell reader cannot tell ``-12.5`` from ``-2+3`` without
evaluating it. A text cell that already starts with quotes before one of those characters
gets one more, so ``unescape`` (used by the hierarchy import) restores every value exactly.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TRIGGERS = frozenset("=+-@\t\r")
_FIRST = TRIGGERS | {"'"}


def _needs_escape(text: str) -> bool:
    return text.lstrip("'")[:1] in TRIGGERS


def escape(value: Any) -> Any:
    """The value to write into a CSV cell: text that could start a formula gets a quote."""
    if value.__class__ is str and value[:1] in _FIRST and _needs_escape(value):
        return "'" + value
    return value


def escape_row(values: Iterable[Any]) -> list[Any]:
    return [("'" + v) if v.__class__ is str and v[:1] in _FIRST and _needs_escape(v) else v
            for v in values]


def unescape(text: str) -> str:
    """The value an escaped cell stood for (the inverse of ``escape`` on text)."""
    if text[:1] == "'" and _needs_escape(text):
        return text[1:]
    return text
