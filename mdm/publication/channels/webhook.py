"""Webhook channel: HTTP POST of a structured-mode CloudEvent, Standard Webhooks signed.

The receiver's 2xx is the acknowledgement; anything else, a timeout or a refused
connection is a failed attempt (retried with backoff by the dispatcher).
"""
from __future__ import annotations

from typing import Any

import requests

from mdm.publication import signing
from mdm.publication.channels import Message, Outcome
from mdm.publication.payloads import CONTENT_TYPE

DEFAULT_TIMEOUT = 10.0


class WebhookChannel:
    def __init__(self, config: dict[str, Any], live_secrets: list[str]) -> None:
        self.url: str = config["url"]
        self.timeout = float(config.get("timeout_seconds") or DEFAULT_TIMEOUT)
        self.secrets = live_secrets
        self.http = requests.Session()
        self.http.headers.update({"Content-Type": CONTENT_TYPE,
                                  "User-Agent": "mdm-hub-publication/1"})

    def send(self, messages: list[Message]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for m in messages:
            outcome = self._post(m)
            outcomes.append(outcome)
            if not outcome.ok:
                break
        return outcomes

    def _post(self, m: Message) -> Outcome:
        headers = signing.headers(self.secrets, m.event_id, m.body) if self.secrets else {}
        headers["Idempotency-Key"] = m.event_id
        try:
            # connect and read timeouts both bounded; redirects are not acknowledgements
            resp = self.http.post(self.url, data=m.body, headers=headers, timeout=self.timeout,
                                  allow_redirects=False)
        except requests.Timeout:
            return Outcome(False, f"timeout after {self.timeout:g}s")
        except requests.RequestException as exc:
            return Outcome(False, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= resp.status_code < 300:
            return Outcome(True)
        return Outcome(False, f"HTTP {resp.status_code}: {resp.text[:300]}")

    def close(self) -> None:
        self.http.close()
