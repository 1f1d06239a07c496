"""Client side of the registry's Confluent-compatible REST API (the service comes later).

Endpoints: POST /subjects/{s}/versions, POST /compatibility/subjects/{s}/versions/latest,
GET /config/{s}. Every failure becomes a RegistryError so the CLI can exit 2 with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from contracts.compatibility.result import Format
from contracts.errors import RegistryError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
SCHEMA_TYPES = {Format.JSONSCHEMA: "JSON", Format.OPENAPI: "OPENAPI", Format.ASYNCAPI: "ASYNCAPI"}


@dataclass(frozen=True, slots=True)
class RemoteVerdict:
    compatible: bool
    messages: tuple[str, ...] = ()


class RegistryClient:
    def __init__(self, base_url: str, session: Any = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def register(self, subject: str, document: Any, fmt: Format) -> int:
        """Register a new version; returns the schema id."""
        body = self._request(
            "POST", f"/subjects/{quote(subject, safe='')}/versions", self._payload(document, fmt)
        )
        return int(body.get("id", 0))

    def check(self, subject: str, document: Any, fmt: Format) -> RemoteVerdict:
        """Ask the registry whether `document` is compatible with the subject's latest version."""
        path = f"/compatibility/subjects/{quote(subject, safe='')}/versions/latest?verbose=true"
        body = self._request("POST", path, self._payload(document, fmt))
        messages = body.get("messages") or []
        return RemoteVerdict(bool(body.get("is_compatible")), tuple(str(m) for m in messages))

    def config(self, subject: str) -> str:
        body = self._request("GET", f"/config/{quote(subject, safe='')}", None)
        return str(body.get("compatibilityLevel") or body.get("compatibility") or "")

    @staticmethod
    def _payload(document: Any, fmt: Format) -> dict[str, Any]:
        return {"schema": json.dumps(document), "schemaType": SCHEMA_TYPES[fmt]}

    def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        url = self.base_url + path
        try:
            response = self.session.request(
                method,
                url,
                json=payload,
                timeout=self.timeout,
                headers={"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE},
            )
        except requests.RequestException as exc:
            raise RegistryError(f"cannot reach registry at {self.base_url}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            raise RegistryError(
                f"registry answered {response.status_code}: {message or response.reason}"
            )
        return body if isinstance(body, dict) else {}
