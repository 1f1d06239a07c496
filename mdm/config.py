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
        return cfg
