"""Where publication may send: network targets (webhooks, AMQP brokers) and file-drop folders.

A subscription is an instruction to the hub to connect somewhere, so an API caller could aim
it at the hub's own network (server-side request forgery): loopback, private and link-local
addresses, cloud metadata services. Those are refused unless the operator allows them
(``MDM_ALLOWED_TARGETS``: hosts, addresses or CIDRs). File drops stay under one folder
(``MDM_FILE_DROP_ROOT``).

Targets are checked when a subscription is saved and again right before each delivery
connects: the host is resolved, every address checked, and the connection made to the
address that was checked, so a DNS answer that changes in between (rebinding) cannot
redirect a delivery.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mdm.config import Config

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services (AWS, GCP and Azure share the IPv4 one; AWS's IPv6 one)
METADATA = frozenset({ipaddress.ip_address("169.254.169.254"),
                      ipaddress.ip_address("fd00:ec2::254"),
                      ipaddress.ip_address("100.100.100.200")})  # Alibaba Cloud
NAT64 = ipaddress.ip_network("64:ff9b::/96")
HOW_TO_ALLOW = "an operator can allow it with MDM_ALLOWED_TARGETS"
DEFAULT_PORTS = {"http": 80, "https": 443, "amqp": 5672, "amqps": 5671}
MAX_DIRECTORY = 1000


class TargetRefused(Exception):
    """A target the policy does not allow; the message says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _embedded_ipv4(addr: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo), if any."""
    if not isinstance(addr, ipaddress.IPv6Address):
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]
    return None


def _classify(addr: IPAddress) -> str | None:
    """Why an address is not a public internet address, or None when it is."""
    if addr in METADATA:
        return "a cloud metadata address"
    for test, what in ((addr.is_unspecified, "an unspecified address"),
                       (addr.is_loopback, "a loopback address"),
                       (addr.is_link_local, "a link-local address"),
                       (addr.is_multicast, "a multicast address"),
                       (addr.is_private, "a private-network address"),
                       (not addr.is_global, "not a public address")):
        if test:
            return what
    return None


def _strip(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class EgressPolicy:
    allowed_hosts: frozenset[str]
    allowed_networks: tuple[IPNetwork, ...]
    file_drop_root: Path

    @classmethod
    def from_config(cls, cfg: Config) -> EgressPolicy:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in cfg.allowed_targets:
            try:
                networks.append(ipaddress.ip_network(_strip(entry), strict=False))
            except ValueError:
                hosts.add(_strip(entry))
        return cls(frozenset(hosts), tuple(networks), Path(cfg.file_drop_root))

    @classmethod
    def from_env(cls) -> EgressPolicy:
        return cls.from_config(Config.from_env())

    # --- network targets ----------------------------------------------------------------

    def _allowed(self, addr: IPAddress) -> bool:
        embedded = _embedded_ipv4(addr)
        return any(a.version == net.version and a in net
                   for net in self.allowed_networks for a in (addr, embedded) if a is not None)

    def address_problem(self, addr: IPAddress) -> str | None:
        if self._allowed(addr):
            return None
        embedded = _embedded_ipv4(addr)
        problem = _classify(embedded) if embedded is not None else None
        if problem:
            return f"{addr} stands for {embedded}, {problem}"
        problem = _classify(addr)
        return f"{addr} is {problem}" if problem else None

    @staticmethod
    def _addresses(name: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(name)]
        except ValueError:
            pass
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise TargetRefused(f"The host {name!r} does not resolve ({exc}).") from exc
        addrs = list(dict.fromkeys(
            ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))
        if not addrs:
            raise TargetRefused(f"The host {name!r} does not resolve.")
        return addrs

    def resolve(self, host: str, port: int) -> str:
        """The address to connect to for ``host``: resolved now, every address checked.

        Raises TargetRefused when the host does not resolve or any of its addresses is not
        allowed (an answer mixing a public and an internal address is an attack pattern)."""
        name = _strip(host)
        if not name:
            raise TargetRefused("The URL names no host.")
        addrs = self._addresses(name, port)
        if name in self.allowed_hosts:
            return str(addrs[0])
        for addr in addrs:
            problem = self.address_problem(addr)
            if problem:
                where = "" if str(addr) == name else f"{name} resolves to "
                raise TargetRefused(f"Refused target: {where}{problem}; {HOW_TO_ALLOW}.")
        return str(addrs[0])

    def url_problem(self, url: str, *, credentials_allowed: bool) -> str | None:
        """Why a webhook (credentials_allowed=False) or broker URL may not be used."""
        try:
            parts = urlsplit(url)
            port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
        except ValueError as exc:
            return f"Not a valid URL ({exc})."
        if any(unicodedata.category(ch)[0] == "C" or ch.isspace() for ch in url):
            return "The URL must not contain spaces or control characters."
        if not credentials_allowed and (parts.username is not None or "@" in parts.netloc):
            return "The URL must not carry credentials (user:password@host)."
        if not parts.hostname:
            return "The URL names no host."
        try:
            self.resolve(parts.hostname, port)
        except TargetRefused as exc:
            return exc.reason
        return None

    # --- file drops ---------------------------------------------------------------------

    def drop_directory(self, directory: object) -> Path:
        """The folder a file drop writes to, resolved (symlinks followed) and inside the
        root. Relative paths are taken relative to the root."""
        if not isinstance(directory, str) or not directory or len(directory) > MAX_DIRECTORY:
            raise TargetRefused(f"A folder path of at most {MAX_DIRECTORY} characters is "
                                "required.")
        if any(unicodedata.category(ch)[0] == "C" for ch in directory):
            raise TargetRefused("The path must not contain control characters (newlines, "
                                "NUL, ...).")
        if ".." in Path(directory).parts:
            raise TargetRefused("The path must not contain '..'.")
        root = self.file_drop_root.resolve()
        candidate = Path(directory) if os.path.isabs(directory) else root / directory
        resolved = candidate.resolve()  # follows symlinks that exist
        if resolved != root and root not in resolved.parents:
            raise TargetRefused(f"File drops stay under {root} (MDM_FILE_DROP_ROOT); "
                                f"{directory!r} resolves to {resolved}.")
        return resolved
