"""The CLI's policy file: per-rule level overrides and dated, reasoned waivers.

```yaml
mode: BACKWARD                 # optional default mode
levels:                        # rule id -> breaking | warning | info
  PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: warning
waivers:
  - rule: TYPE_NARROWED
    path: /properties/amount*  # fnmatch pattern on the change's JSON pointer
    reason: ledger team migrates amounts to integers (FIN-123)
    expires: 2027-01-31
```

A waiver without a reason or an expiry is invalid configuration; an expired waiver fails the
check so that it cannot silently outlive its purpose.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from contracts.compatibility.result import Change, CompatibilityResult, Level, Mode
from contracts.errors import InvalidConfig

WAIVER_EXPIRED = "WAIVER_EXPIRED"


@dataclass(frozen=True, slots=True)
class Waiver:
    rule: str
    path: str
    reason: str
    expires: dt.date

    def covers(self, change: Change) -> bool:
        return fnmatchcase(change.rule, self.rule) and fnmatchcase(change.path, self.path)


@dataclass(frozen=True, slots=True)
class Policy:
    mode: Mode | None = None
    levels: tuple[tuple[str, Level], ...] = ()
    waivers: tuple[Waiver, ...] = ()


def load_policy(path: str | Path) -> Policy:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidConfig(f"cannot read config: {exc}", source=str(path)) from exc
    except yaml.YAMLError as exc:
        raise InvalidConfig("config is not valid YAML", source=str(path)) from exc
    return parse_policy(data or {}, source=str(path))


def parse_policy(data: Any, source: str | None = None) -> Policy:
    if not isinstance(data, dict):
        raise InvalidConfig("config must be a mapping", source=source)
    unknown = set(data) - {"mode", "levels", "waivers"}
    if unknown:
        raise InvalidConfig(f"unknown config keys: {', '.join(sorted(unknown))}", source=source)
    mode = None
    if data.get("mode") is not None:
        try:
            mode = Mode.parse(str(data["mode"]))
        except ValueError as exc:
            raise InvalidConfig(f"unknown mode {data['mode']!r}", source=source) from exc
    levels = []
    for rule, level in (data.get("levels") or {}).items():
        try:
            levels.append((str(rule), Level(str(level).lower())))
        except ValueError as exc:
            raise InvalidConfig(f"unknown level {level!r} for {rule}", source=source) from exc
    waivers = tuple(
        _waiver(entry, index, source) for index, entry in enumerate(data.get("waivers") or [])
    )
    return Policy(mode, tuple(levels), waivers)


def _waiver(entry: Any, index: int, source: str | None) -> Waiver:
    where = f"waiver #{index + 1}"
    if not isinstance(entry, dict):
        raise InvalidConfig(f"{where} must be a mapping", source=source)
    for key in ("rule", "reason", "expires"):
        if not entry.get(key):
            raise InvalidConfig(f"{where} needs a '{key}'", source=source)
    expires = entry["expires"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError as exc:
            raise InvalidConfig(f"{where}: expires must be YYYY-MM-DD", source=source) from exc
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    if not isinstance(expires, dt.date):
        raise InvalidConfig(f"{where}: expires must be YYYY-MM-DD", source=source)
    return Waiver(str(entry["rule"]), str(entry.get("path", "*")), str(entry["reason"]), expires)


def apply_policy(
    result: CompatibilityResult, policy: Policy, today: dt.date | None = None
) -> CompatibilityResult:
    """Re-level changes, mark waived ones, and add a breaking entry per expired waiver."""
    today = today or dt.date.today()
    active = [w for w in policy.waivers if w.expires >= today]
    changes = []
    for change in result.changes:
        for pattern, level in policy.levels:
            if fnmatchcase(change.rule, pattern):
                change = replace(change, level=level)
        if change.level is Level.BREAKING:
            waiver = next((w for w in active if w.covers(change)), None)
            if waiver is not None:
                change = replace(change, waived=f"{waiver.reason} (until {waiver.expires})")
        changes.append(change)
    for waiver in policy.waivers:
        if waiver.expires < today:
            changes.append(
                Change(
                    rule=WAIVER_EXPIRED,
                    level=Level.BREAKING,
                    path=waiver.path,
                    message=(
                        f"waiver for {waiver.rule} at {waiver.path} expired on {waiver.expires}"
                        f" ({waiver.reason}); remove it or renew it"
                    ),
                )
            )
    return result.with_changes(changes)
