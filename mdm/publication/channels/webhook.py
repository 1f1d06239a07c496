"""Webhook channel: HTTP POST of a structured-mode CloudEvent, Standard Webhooks signed.

The receiver's 2xx is the acknowledgement; anything else, a timeout or a refused
connection is a failed attempt (retried with backoff by the dispatcher).
"""
from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from mdm.publication import signing
from mdm.publication.channels import Message, Outcome
from mdm.publication.egress import EgressPolicy, TargetRefused
from mdm.publication.payloads import CONTENT_TYPE
from mdm.redaction import redact_text

DEFAULT_TIMEOUT = 10.0


def _guarded(cls: Any, policy: EgressPolicy) -> Any:
    """``cls`` (a urllib3 connection) that resolves its host itself, checks the address
    with ``policy`` and connects to exactly that address. The Host header, TLS SNI and
    certificate check keep the URL's host name."""

    class Guarded(cls):  # type: ignore[misc, valid-type]
        def _new_conn(self) -> Any:
            host: str = self._dns_host  # type: ignore[has-type]  # urllib3: untyped
            self._dns_host = policy.resolve(host, self.port)
            try:
                return super()._new_conn()
            finally:
                self._dns_host = host

    return Guarded


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        pools = {}
        for scheme, pool, conn in (("http", HTTPConnectionPool, HTTPConnection),
                                   ("https", HTTPSConnectionPool, HTTPSConnection)):
            pools[scheme] = type(f"Guarded{pool.__name__}", (pool,),
                                 {"ConnectionCls": _guarded(conn, self._policy)})
        self.poolmanager.pool_classes_by_scheme = pools


class WebhookChannel:
    def __init__(self, config: dict[str, Any], live_secrets: list[str],
                 policy: EgressPolicy) -> None:
        self.url: str = config["url"]
        self.timeout = float(config.get("timeout_seconds") or DEFAULT_TIMEOUT)
        self.secrets = live_secrets
        self.http = requests.Session()
        self.http.trust_env = False  # a proxy from the environment would bypass the check
        adapter = _GuardedAdapter(policy)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
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
        except TargetRefused as exc:
            return Outcome(False, exc.reason[:500])
        except requests.Timeout:
            return Outcome(False, f"timeout after {self.timeout:g}s")
        except requests.RequestException as exc:
            return Outcome(False, redact_text(f"{type(exc).__name__}: {exc}")[:500])
        if 200 <= resp.status_code < 300:
            return Outcome(True)
        return Outcome(False, f"HTTP {resp.status_code}: {resp.text[:300]}")

    def close(self) -> None:
        self.http.close()
