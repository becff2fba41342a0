"""All runtime settings, read from KB_* environment variables (docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting; each field is `KB_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="KB_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/kb.sqlite3"
    """SQLAlchemy URL of the store. SQLite by default; `postgresql://…` for several machines."""

    protocols_dir: Path = Path("./protocols")
    """Folder of protocol files, codebook.yaml, topics.yaml and jurisdictions.yaml."""

    index_dir: Path = Path("./var/index")
    """Folder that holds the search index."""

    host: str = "127.0.0.1"
    """Address `kb serve` listens on."""

    port: int = 8000
    """Port `kb serve` listens on."""

    workers: int = 1
    """Number of uvicorn worker processes for `kb serve` (more than one needs PostgreSQL)."""

    response_cache_mb: float = Field(default=64, ge=0)
    """Memory each worker may use to keep whole API answers for the current build (0: off)."""
