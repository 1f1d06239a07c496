"""JSON Pointer (RFC 6901) tokens: the one escape every engine, report and locator uses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def escape(token: Any) -> str:
    """One reference token: `~` -> `~0`, `/` -> `~1` (in that order)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The inverse of `escape` (`~1` first, so `~01` reads as `~1`)."""
    return token.replace("~1", "/").replace("~0", "~")


def join(tokens: Iterable[Any]) -> str:
    """ "/a/b~1c" from ["a", "b/c"]; "" (the whole document) from no tokens."""
    return "".join("/" + escape(token) for token in tokens)


def split(pointer: str) -> list[str]:
    """The tokens of a pointer; "" and "/" are both read as the whole document."""
    if not pointer or pointer == "/":
        return []
    return [unescape(token) for token in pointer.lstrip("/").split("/")]
