"""Configuration, read from environment variables only (twelve-factor)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path(os.environ.get("MDM_DATA_DIR", "data"))


def default_database_url() -> str:
    return f"sqlite:///{(DEFAULT_DATA_DIR / 'mdm.sqlite3').resolve()}"


@dataclass
class Config:
    database_url: str = field(default_factory=default_database_url)
    # Extra domain definitions (YAML files or a folder of them) added to the built-in five.
    domains_path: str | None = None
    log_level: str = "INFO"
    bulk_max_records: int = 10_000
    batch_resolve_max_keys: int = 1_000
    page_max_size: int = 500
    # Domains whose incremental matching is switched off ("*" for all), e.g. for an initial
    # bulk load that is matched afterwards in batch with `mdm match DOMAIN`.
    matching_disabled: frozenset[str] = frozenset()
    # Publication targets allowed although internal (loopback, private, link-local): hosts,
    # addresses or CIDRs, e.g. ("127.0.0.1", "::1") for a receiver on the same machine.
    allowed_targets: tuple[str, ...] = ()
    # The folder file-drop subscriptions write under (nothing outside it)
    file_drop_root: Path = field(default_factory=lambda: DEFAULT_DATA_DIR.resolve() / "drops")
    testing: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        cfg = cls()
        if env.get("MDM_DATABASE_URL"):
            cfg.database_url = env["MDM_DATABASE_URL"]
        cfg.domains_path = env.get("MDM_DOMAINS_PATH") or None
        cfg.log_level = env.get("MDM_LOG_LEVEL", cfg.log_level)
        cfg.matching_disabled = frozenset(
            d.strip() for d in env.get("MDM_MATCHING_DISABLED", "").split(",") if d.strip()
        )
        cfg.allowed_targets = tuple(
            t.strip() for t in env.get("MDM_ALLOWED_TARGETS", "").split(",") if t.strip()
        )
        data_dir = Path(env["MDM_DATA_DIR"]) if env.get("MDM_DATA_DIR") else DEFAULT_DATA_DIR
        cfg.file_drop_root = Path(env.get("MDM_FILE_DROP_ROOT") or data_dir / "drops").resolve()
        return cfg
