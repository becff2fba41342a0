"""All runtime settings, read from KB_* environment variables (docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
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

    public_url: str | None = None
    """The site's address as readers reach it, e.g. `https://kb.example.org`: absolute links in
    answers (the embed snippet, links in drafts) start with it. Unset: links are relative, and
    drafts carry no links back to the site. The request's Host header is never used."""

    forwarded_allow_ips: str = ""
    """Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed,
    comma-separated (e.g. `127.0.0.1`); empty: none are."""

    max_body_kb: int = Field(default=256, ge=1)
    """Largest request body accepted, in KiB; a larger one is answered 413."""

    body_timeout: float = Field(default=10, gt=0)
    """Seconds a client may take to send a request body in full; then 408 and the connection
    is closed."""

    header_timeout: float = Field(default=10, gt=0)
    """Seconds a client may take to send a request's headers; then the connection is closed."""

    max_connections: int = Field(default=1000, ge=1)
    """Connections one worker holds at most (also bounded by its open-file limit); more are
    closed as they arrive."""

    office_binary: str = "soffice"
    """LibreOffice's program (a name looked up on PATH, or a path) that renders drafts as PDF;
    when it is missing, PDF requests are answered 503 and the other formats still work."""

    pdf_timeout: float = Field(default=60, gt=0)
    """Seconds one PDF rendering may take, waiting for a turn included; then 503."""

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.strip().rstrip("/")
        scheme, sep, rest = value.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or any(c in rest for c in "?#"):
            raise ValueError("KB_PUBLIC_URL must look like https://kb.example.org")
        return value
