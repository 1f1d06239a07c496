"""CSV injection: formula-like text is escaped with a quote, numbers stay numbers, and the
hierarchy import reads escaped cells back exactly."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mdm.csvsafe import escape, escape_row, unescape


def test_formula_like_text_gets_a_quote() -> None:
    for text in ("=2+5", '=HYPERLINK("http://x","y")', "+49 30 1234", "-2+3", "@SUM(A1)",
                 "\tcmd", "\rcmd", "-12.5"):
        assert escape(text) == "'" + text


def test_plain_text_and_numbers_are_written_as_they_are() -> None:
    for value in ("Acme GmbH", "4711", "DE136695976", "", "a=b", "'quoted", -12.5, -3, 0,
                  None, True):
        assert escape(value) == value
    assert escape_row(["=1", -1, "x", None]) == ["'=1", -1, "x", None]


def test_quotes_before_a_trigger_are_escaped_too_so_nothing_is_lost() -> None:
    assert escape("'=1") == "''=1"
    assert unescape("''=1") == "'=1"
    assert unescape("'=1") == "=1"
    assert unescape("'plain") == "'plain"


@given(st.text())
def test_unescape_inverts_escape(text: str) -> None:
    assert unescape(escape(text)) == text
    escaped = escape(text)
    assert escaped[:1] not in set("=+-@\t\r")
