"""Secrets never leave the hub: one redaction rule for responses, audit entries, change
events, delivery errors and log lines.

A value is secret when its key names one (``*secret*``, ``*password*``, ``*token*``,
``*api_key*``, ``*credential*``) or when it is a password inside a URL
(``amqp://user:PASSWORD@host``); signing secrets (``whsec_...``) and API keys
(``mdm_<id>_<secret>``) are recognised in free text too. Non-text values under a secret
key (a count, a flag) are kept.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

import orjson

REDACTED = "***"

_SECRET_KEY = re.compile(r"secret|passw(or)?d|token|api[_-]?key|credential|private[_-]?key",
                         re.IGNORECASE)
# scheme://user:password@ -> scheme://user:***@  (userinfo ends at the last '@' before the path)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*:)"
                           r"(?P<pw>[^/?#\s]*)(?P<at>@)")
# What follows '://' in a JSON text when a string holds a URL with a password (userinfo
# inside one string: no '"'); the scheme before it is not checked (a superset).
_USERINFO_IN_JSON = re.compile(r'[^:/?#@\s"]*:[^/?#\s"]*@')
# _SECRET_KEY's words, and the non-ASCII characters IGNORECASE matches to ASCII letters.
_SECRET_WORDS = ("secret", "passwd", "password", "token", "api_key", "api-key", "apikey",
                 "credential", "private_key", "private-key", "privatekey")
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")
_WEBHOOK_SECRET = re.compile(r"\bwhsec_[A-Za-z0-9+/=_\-]+")
_API_KEY = re.compile(r"\b(?P<head>mdm_[0-9a-f]{12}_)[A-Za-z0-9_\-]+")


@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def redact_text(text: str) -> str:
    """``text`` with passwords in URLs, signing secrets and API keys replaced."""
    if "://" in text and "@" in text:
        text = _URL_PASSWORD.sub(lambda m: m["head"] + REDACTED + m["at"], text)
    if "whsec_" in text:
        text = _WEBHOOK_SECRET.sub("whsec_" + REDACTED, text)
    if "mdm_" in text:
        text = _API_KEY.sub(lambda m: m["head"] + REDACTED, text)
    return text


def _hide(value: Any) -> Any:
    """Everything textual under a secret key."""
    if isinstance(value, str):
        return REDACTED if value else value
    if isinstance(value, dict):
        return {k: _hide(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_hide(v) for v in value]
    return value


def _clearly_clean(value: dict[str, Any] | list[Any] | tuple[Any, ...]) -> bool:
    """Whether nothing in ``value`` can be a secret, judged on its JSON text at C speed:
    no secret-looking word anywhere (keys or values), no URL with userinfo, no signing
    secret or API key. Anything doubtful takes the full walk."""
    try:
        blob = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # not plain JSON: walk it
        return False
    return not (
        ("://" in blob and "@" in blob and _url_password_in_json(blob))
        or "whsec_" in blob
        or "mdm_" in blob
        or _secret_word_in(blob)
    )


def _url_password_in_json(blob: str) -> bool:
    """Whether some string in the JSON text ``blob`` may hold a URL with a password: a
    superset of what _URL_PASSWORD finds in each string, looked for after each '://'."""
    if '\\"' in blob:  # an escaped quote: a string's text differs from the JSON's
        return True
    at = blob.find("://")
    while at >= 0:
        if _USERINFO_IN_JSON.match(blob, at + 3):
            return True
        at = blob.find("://", at + 3)
    return False


def _secret_word_in(blob: str) -> bool:
    """``_SECRET_KEY.search(blob)``, by substring tests on the lower-cased text. Characters
    that match an ASCII letter only under re.IGNORECASE take the regular expression."""
    if any(c in blob for c in _FOLDS_TO_ASCII):
        return bool(_SECRET_KEY.search(blob))
    low = blob.lower()
    return any(word in low for word in _SECRET_WORDS)


def redact(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings, numbers) with secrets replaced.

    A container with nothing secret-looking in it is returned as it is (the ingestion path
    redacts every golden snapshot: most hold no secret)."""
    if isinstance(value, dict | list | tuple) and _clearly_clean(value):
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: (_hide(v) if isinstance(k, str) and is_secret_key(k) else redact(v))
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_each(values: list[Any]) -> list[Any]:
    """``[redact(v) for v in values]``, judged at once: a batch with nothing secret-looking
    anywhere (the common case: a chunk of golden snapshots) is returned as it is."""
    if not values or _clearly_clean(values):
        return values
    return [redact(v) for v in values]


class RedactingFilter(logging.Filter):
    """Log lines (message, arguments and traceback) go out redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True
