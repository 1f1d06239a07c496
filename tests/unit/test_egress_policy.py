"""Where publication may send: the address rules, DNS answers and file-drop containment."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from mdm.config import Config
from mdm.publication.egress import EgressPolicy, TargetRefused


def policy(tmp_path: Path, *allowed: str) -> EgressPolicy:
    return EgressPolicy.from_config(Config(allowed_targets=allowed, file_drop_root=tmp_path))


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


REFUSED_WEBHOOKS = [
    ("http://169.254.169.254/latest/meta-data/", "metadata"),
    ("http://[fd00:ec2::254]/", "metadata"),
    ("http://10.0.0.1/", "private"),
    ("http://192.168.1.20:8080/hook", "private"),
    ("http://127.0.0.1:22/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:169.254.169.254]/", "169.254.169.254"),
    ("http://[::ffff:a9fe:a9fe]/", "169.254.169.254"),
    ("http://[64:ff9b::a9fe:a9fe]/", "169.254.169.254"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[fe80::1]/", "link-local"),
    ("http://100.64.0.1/", "not a public address"),
    ("http://2852039166/", "metadata"),  # 169.254.169.254 as one decimal number
    ("http://user:pw@93.184.216.34/", "credentials"),
    ("http://user@93.184.216.34/", "credentials"),
    ("http://93.184.216.34/\nhook", "control characters"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_WEBHOOKS)
def test_internal_webhook_targets_are_refused(tmp_path: Path, url: str, reason: str) -> None:
    problem = policy(tmp_path).url_problem(url, credentials_allowed=False)
    assert problem is not None and reason in problem, problem


def test_a_public_address_is_allowed(tmp_path: Path) -> None:
    assert policy(tmp_path).url_problem("https://93.184.216.34/hook",
                                        credentials_allowed=False) is None


def test_names_are_checked_after_resolution(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"localhost": ["127.0.0.1"], "hooks.example.com": ["93.184.216.34"],
                           "mixed.example.com": ["93.184.216.34", "10.1.2.3"]})
    p = policy(tmp_path)
    assert "loopback" in (p.url_problem("http://localhost:22/", credentials_allowed=False) or "")
    assert p.url_problem("http://hooks.example.com/", credentials_allowed=False) is None
    # one internal address among public ones is enough to refuse
    assert "10.1.2.3" in (p.url_problem("http://mixed.example.com/",
                                        credentials_allowed=False) or "")
    assert "does not resolve" in (p.url_problem("http://nowhere.invalid/",
                                                credentials_allowed=False) or "")


def test_broker_urls_may_carry_credentials_but_not_internal_hosts(tmp_path: Path) -> None:
    p = policy(tmp_path)
    assert "private" in (p.url_problem("amqp://u:p@10.0.0.5:5672/%2F",
                                       credentials_allowed=True) or "")
    assert "link-local" in (p.url_problem("amqps://u:p@169.254.10.10/",
                                          credentials_allowed=True) or "")
    assert p.url_problem("amqp://u:p@93.184.216.34/", credentials_allowed=True) is None


def test_operators_allow_hosts_and_networks(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"rabbit.internal": ["10.9.9.9"]})
    p = policy(tmp_path, "127.0.0.1", "::1", "10.20.0.0/16", "rabbit.internal")
    for url in ("http://127.0.0.1:8099/hook", "http://[::1]:8099/", "http://10.20.3.4/",
                "http://[::ffff:127.0.0.1]/", "amqp://g:g@rabbit.internal/"):
        assert p.url_problem(url, credentials_allowed=url.startswith("amqp")) is None, url
    assert p.url_problem("http://10.21.0.1/", credentials_allowed=False) is not None
    assert p.url_problem("http://169.254.169.254/", credentials_allowed=False) is not None


def test_resolve_returns_the_checked_address(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Delivery connects to the address resolve() checked; a later answer is checked anew."""
    answers = {"rebind.example.com": ["93.184.216.34"]}
    fake_dns(monkeypatch, answers)
    p = policy(tmp_path)
    assert p.resolve("rebind.example.com", 80) == "93.184.216.34"
    answers["rebind.example.com"] = ["169.254.169.254"]
    with pytest.raises(TargetRefused, match="metadata"):
        p.resolve("rebind.example.com", 80)


REFUSED_DIRECTORIES = ["/tmp/../etc/mdm", "/etc", "/proc/self", "/dev/null", "drops/../..",
                       "ok\nname", "tab\there", "nul\x00byte", "", "x" * 1001]


@pytest.mark.parametrize("directory", REFUSED_DIRECTORIES)
def test_file_drops_outside_the_root_are_refused(tmp_path: Path, directory: str) -> None:
    with pytest.raises(TargetRefused):
        policy(tmp_path / "root").drop_directory(directory)


def test_file_drops_stay_under_the_root_through_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "erp").mkdir(parents=True)
    p = policy(root)
    assert p.drop_directory(str(root / "erp")) == (root / "erp").resolve()
    assert p.drop_directory("erp/new") == (root / "erp" / "new").resolve()  # relative: to root
    os.symlink("/etc", root / "escape")
    with pytest.raises(TargetRefused, match="resolves to /etc"):
        p.drop_directory(str(root / "escape"))
    with pytest.raises(TargetRefused):
        p.drop_directory("escape/mdm")
