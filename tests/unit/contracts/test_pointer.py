"""JSON Pointer tokens (RFC 6901): one escape for every engine, report and locator."""

from __future__ import annotations

import pytest

from contracts.compatibility import pointer


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        ([], ""),
        (["paths", "/pets/{id}", "get"], "/paths/~1pets~1{id}/get"),
        (["a~b", "~1", "x/~0"], "/a~0b/~01/x~1~00"),
        (["items", 0], "/items/0"),
    ],
)
def test_join_and_split_are_inverse(tokens: list, text: str) -> None:
    assert pointer.join(tokens) == text
    assert pointer.split(text) == [str(t) for t in tokens]


def test_the_whole_document() -> None:
    assert pointer.split("/") == [] and pointer.split("") == []
    assert pointer.unescape(pointer.escape("~/")) == "~/"
