"""Real server processes on loopback: `kb serve`, the README's `make serve`, and a failed build
that must leave the previous database serving. Every request loop is bounded and stops by itself."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from kbcli.commands import main
from tests.conftest import ROOT
from tests.servers import KB, free_port, server


def health(base: str) -> dict[str, Any]:
    response = httpx2.get(f"{base}/healthz", timeout=5)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_kb_serve_builds_when_there_is_no_database(content: Path, tmp_path: Path) -> None:
    database = tmp_path / "var" / "kb.sqlite3"
    env = {
        "KB_PORT": str(free_port()),
        "KB_DATABASE_URL": f"sqlite:///{database}",
        "KB_PROTOCOLS_DIR": str(content),
    }
    with server([KB, "serve"], env) as base:
        assert health(base)["counts"]["protocols"] == 2
        page = httpx2.get(base + "/", timeout=5)
        assert "Detainer Limits Ordinance" in page.text
    assert database.exists()


def test_a_failed_build_leaves_the_old_database_serving(content: Path, database_url: str) -> None:
    assert main(["build", "--protocols", str(content), "--database-url", database_url]) == 0
    env = {
        "KB_PORT": str(free_port()),
        "KB_DATABASE_URL": database_url,
        "KB_PROTOCOLS_DIR": str(content),
    }
    with server([KB, "serve", "--no-build"], env) as base:
        before = health(base)
        path = content / "us-xx-example-county" / "ordinance-2012-9.md"
        good = path.read_text()

        path.write_text(good.replace("status: in_force", "status: in-force"))
        assert main(["build", "--protocols", str(content), "--database-url", database_url]) == 1
        assert health(base) == before

        # A good build afterwards is picked up by the running server without a restart.
        path.write_text(good.replace("## Notice {#sec-3", "## Notice given {#sec-3"))
        assert main(["build", "--protocols", str(content), "--database-url", database_url]) == 0
        after = health(base)
        assert after["version"] != before["version"]
        assert after["counts"] == before["counts"]


# Creating .venv and installing the lock with pip took 50-140 s on a 2-core machine, with pip's
# cache warm or empty (every wheel downloaded). Bounded well above that; on a timeout the server's
# output says where it stopped.
QUICK_START_SECONDS = 600


@pytest.fixture
def fresh_checkout() -> Iterator[Path]:
    """A copy of the files git tracks in this checkout, as a fresh clone would hold them (with any
    uncommitted edits to them), in a temporary folder removed afterwards with the .venv it gets."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False, timeout=60
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the quick start is tested from one")
    with tempfile.TemporaryDirectory(prefix="kb-quick-start-") as folder:
        checkout = Path(folder)
        for name in listed.stdout.decode().split("\0"):
            source = ROOT / name
            if name and source.is_file():  # a file deleted but not yet committed is left out
                (checkout / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, checkout / name)
        yield checkout


def test_readme_quick_start_serves_the_knowledge_base(fresh_checkout: Path, tmp_path: Path) -> None:
    """The README's first command, as a new user runs it in a fresh clone: it creates .venv there,
    installs the lock with pip, builds and serves (with a private port and database)."""
    from tests.test_docs import quick_start_commands

    serve_command = quick_start_commands()[0]
    assert not (fresh_checkout / ".venv").exists()
    env = {"KB_PORT": str(free_port()), "KB_DATABASE_URL": f"sqlite:///{tmp_path / 'kb.sqlite3'}"}
    # A new user's shell, not one inside this test run's `make` or virtual environment.
    clean = ["env", "-u", "MAKEFLAGS", "-u", "MAKELEVEL", "-u", "MFLAGS", "-u", "VIRTUAL_ENV"]
    with server(
        [*clean, "sh", "-c", serve_command],
        env,
        cwd=fresh_checkout,
        startup_seconds=QUICK_START_SECONDS,
    ) as base:
        counts = health(base)["counts"]
        assert counts["protocols"] >= 1
        assert counts["jurisdictions"] >= 1
    assert (fresh_checkout / ".venv" / ".installed").exists()


@pytest.mark.postgres
def test_scale_out_compare_is_the_same_on_both_servers(
    content: Path, postgres_url: str, tmp_path: Path
) -> None:
    pair = "us-xx-example-county/ordinance-2010-3,us-xx-example-county/ordinance-2012-9"
    assert (
        main(
            [
                "build",
                "--protocols",
                str(content),
                "--database-url",
                postgres_url,
                "--index-dir",
                str(tmp_path / "a"),
            ]
        )
        == 0
    )
    envs = [
        {
            "KB_PORT": str(free_port()),
            "KB_DATABASE_URL": postgres_url,
            "KB_PROTOCOLS_DIR": str(content),
            "KB_INDEX_DIR": str(tmp_path / name),
        }
        for name in ("a", "b")
    ]
    with (
        server([KB, "serve", "--no-build"], envs[0]) as first,
        server([KB, "serve", "--no-build"], envs[1]) as second,
    ):

        def compare(base: str) -> dict[str, Any]:
            response = httpx2.get(f"{base}/api/v1/compare", params={"protocols": pair}, timeout=10)
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            return body

        assert compare(first) == compare(second)
        before = compare(first)["dataset"]["version"]
        path = content / "us-xx-example-county" / "ordinance-2012-9.md"
        path.write_text(
            path.read_text().replace("max_hold_hours: {value: 0,", "max_hold_hours: {value: 12,")
        )
        assert (
            main(
                ["build", "--protocols", str(content), "--database-url", postgres_url, "--no-index"]
            )
            == 0
        )
        after_first, after_second = compare(first), compare(second)
        assert after_first == after_second
        assert after_first["dataset"]["version"] != before
        hours = next(r for r in after_first["data"]["rows"] if r["key"] == "max_hold_hours")
        assert [c["value"] for c in hours["cells"]] == [48, 12]

        # Each node notices the newer build on a search and rebuilds its own index (B had none).
        for base in (first, second):
            deadline = time.monotonic() + 30
            while True:
                response = httpx2.get(
                    f"{base}/api/v1/search", params={"q": "criminal warrant"}, timeout=10
                )
                if (
                    response.status_code == 200
                    and response.json()["index_version"] == after_first["dataset"]["version"]
                ):
                    break
                assert time.monotonic() < deadline, (
                    f"{base} never refreshed its index: {response.text[:200]}"
                )
                time.sleep(0.3)
