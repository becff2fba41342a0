"""Shared fixtures: fixture content in a temp folder, and database URLs for SQLite and PostgreSQL.

Database tests take the `database_url` fixture and so run on SQLite always and on PostgreSQL when
KB_TEST_DATABASE_URL is set (CI sets it and fails if the server cannot be reached). Each
PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kb.build import build
from kb.db import make_engine, parse_url
from kb.registry import import_captures
from search_index.build import build_index


def office(*also: str) -> str:
    """The LibreOffice binary (and any other tools named, e.g. pdfinfo), or skip the test; in CI,
    where .ci/run installs them, fail instead."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None or any(shutil.which(tool) is None for tool in also):
        if os.environ.get("CI"):
            pytest.fail("LibreOffice or poppler-utils is missing: .ci/run installs them")
        pytest.skip(
            "LibreOffice is missing: apt-get install -y libreoffice-writer-nogui poppler-utils"
        )
    return found


ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
ICE_287G_SAMPLES = FIXTURES / "ice-287g"
"""Four real captures of ICE's 287(g) lists (public domain), for tests and the API examples."""
PROTOCOLS = ROOT / "protocols"


def copy_content(destination: Path) -> Path:
    """The good fixture tree with the project's real codebook and topics."""
    shutil.copytree(FIXTURES / "good", destination)
    for name in ("codebook.yaml", "topics.yaml"):
        shutil.copy(PROTOCOLS / name, destination / name)
    return destination


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The real protocols/ built once per session: (SQLite URL, search index folder). Read only."""
    folder = tmp_path_factory.mktemp("real-content")
    url = f"sqlite:///{folder / 'kb.sqlite3'}"
    build(PROTOCOLS, url)
    import_captures(sorted(ICE_287G_SAMPLES.glob("*.xlsx")), url)
    engine = make_engine(url)
    build_index(engine, folder / "index")
    engine.dispose()
    return url, folder / "index"


@pytest.fixture(autouse=True)
def private_index_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every server it starts) writes its search index under its own tmp_path."""
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "index"))
    return tmp_path / "index"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return copy_content(tmp_path / "protocols")


def postgres_admin_url() -> str | None:
    url = os.environ.get("KB_TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail(
                "KB_TEST_DATABASE_URL must be set in CI: the PostgreSQL tests may not be skipped"
            )
        pytest.skip("KB_TEST_DATABASE_URL is not set")
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own."""
    admin_url = postgres_admin_url()
    assert admin_url is not None
    schema = f"kbtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(parse_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = parse_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # A test that leaks an open transaction makes this fail loudly instead of hanging.
            conn.execute(text("SET lock_timeout = '20s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'kb.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Make the PostgreSQL test count visible, so a CI log shows they really ran."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for outcome in counts:
        for report in terminalreporter.stats.get(outcome, []):
            if "postgres" in getattr(report, "keywords", {}) and report.when in ("call", "setup"):
                if outcome == "passed" and report.when != "call":
                    continue
                counts[outcome] += 1
    terminalreporter.write_line(
        f"PostgreSQL tests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
    )
