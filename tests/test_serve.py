"""Real server processes on loopback: `kb serve`, the README's `make serve`, and a failed build
that must leave the previous database serving. Every request loop is bounded and stops by itself."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from kb.cli import main
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


def test_readme_quick_start_serves_the_knowledge_base(tmp_path: Path) -> None:
    """The README's first command, as a new user runs it (with a private port and database)."""
    from tests.test_docs import quick_start_commands

    serve_command = quick_start_commands()[0]
    env = {"KB_PORT": str(free_port()), "KB_DATABASE_URL": f"sqlite:///{tmp_path / 'kb.sqlite3'}"}
    with server(["sh", "-c", serve_command], env) as base:
        counts = health(base)["counts"]
        assert counts["protocols"] >= 1
        assert counts["jurisdictions"] >= 1


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
