"""A small client of the registry's native API (/contracts), for CI jobs and the `contracts` CLI.

Unlike the Confluent-compatible API it handles every format (OpenAPI, AsyncAPI, JSON Schema),
semantic versions and consumers. The API key comes from the argument or CONTRACTS_REGISTRY_KEY.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

import requests

from contracts.errors import RegistryError

KEY_VARIABLE = "CONTRACTS_REGISTRY_KEY"


class RegistryApiClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        session: Any = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or os.environ.get(KEY_VARIABLE)
        self.session = session or requests.Session()
        self.timeout = timeout

    def check(
        self, subject: str, document: Any, *, version: str | None = None, bump: str | None = None
    ) -> dict[str, Any]:
        """What registering `document` would do: {compatible, registrable, reason,
        proposed_version, changes, affected_consumers, ...}. Never registers."""
        return self._request(
            "POST", f"{self._subject(subject)}/check", _candidate(document, version, bump)
        )

    def register(
        self, subject: str, document: Any, *, version: str | None = None, bump: str | None = None
    ) -> dict[str, Any]:
        """Register a version; returns it ({version, number, schema_id, created, changes...}).
        A refusal raises RegistryError naming the breaking changes."""
        return self._request(
            "POST", f"{self._subject(subject)}/versions", _candidate(document, version, bump)
        )

    def version(self, subject: str, version: str = "latest") -> dict[str, Any]:
        return self._request("GET", f"{self._subject(subject)}/versions/{quote(version, safe='')}")

    def subject(self, subject: str) -> dict[str, Any]:
        return self._request("GET", self._subject(subject))

    def create_subject(self, name: str, fmt: str, owner_team: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "format": fmt, "owner_team": owner_team, **fields}
        return self._request("POST", "/contracts/subjects", body)

    @staticmethod
    def _subject(subject: str) -> str:
        return f"/contracts/subjects/{quote(subject, safe='')}"

    def _request(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            response = self.session.request(
                method, self.base_url + path, json=payload, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise RegistryError(f"cannot reach the registry at {self.base_url}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise RegistryError(_describe(response.status_code, body, response.reason))
        return body if isinstance(body, dict) else {}


def _candidate(document: Any, version: str | None, bump: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"content": document}
    if version is not None:
        body["version"] = version
    if bump is not None:
        body["bump"] = bump
    return body


def _describe(status: int, body: Any, reason: str) -> str:
    if not isinstance(body, dict):
        return f"registry answered {status}: {reason}"
    text = f"registry answered {status}: {body.get('message') or reason}"
    changes = body.get("changes") or []
    lines = [f"  {c.get('path') or '/'}: {c.get('message')} [{c.get('rule')}]" for c in changes]
    errors = body.get("errors") if not changes else None
    if isinstance(errors, dict):
        for field, reasons in errors.items():
            shown = "; ".join(map(str, reasons)) if isinstance(reasons, list) else str(reasons)
            lines.append(f"  {field}: {shown}")
    return "\n".join([text, *lines])
