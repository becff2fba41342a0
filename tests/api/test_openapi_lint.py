"""The OpenAPI document lints clean with Redocly CLI (tools/openapi-lint/, installed by .ci/run
with `npm ci`): no error and no warning under the recommended rules (the license rule aside:
tools/openapi-lint/redocly.yaml says why). Skipped where the linter is not installed, except in
CI, where it must be."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kb.settings import Settings
from tests.conftest import ROOT

LINT = ROOT / "tools" / "openapi-lint"
REDOCLY = LINT / "node_modules" / ".bin" / "redocly"


def test_the_openapi_document_lints_clean(real_build: tuple[str, Path], tmp_path: Path) -> None:
    if not REDOCLY.exists() or shutil.which("node") is None:
        if os.environ.get("CI"):
            pytest.fail(
                "Redocly CLI is missing: .ci/run installs it (npm ci in tools/openapi-lint)"
            )
        pytest.skip("Redocly CLI is not installed: (cd tools/openapi-lint && npm ci)")
    url, index_dir = real_build
    client = TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))
    document = tmp_path / "openapi.json"
    document.write_bytes(client.get("/api/v1/openapi.json").content)
    done = subprocess.run(
        [
            str(REDOCLY),
            "lint",
            str(document),
            "--config",
            str(LINT / "redocly.yaml"),
            "--format=json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=LINT,
    )
    report = json.loads(done.stdout[done.stdout.index("{") :])
    problems = [(p["ruleId"], p["message"]) for p in report["problems"]]
    assert report["totals"]["errors"] == 0, problems
    assert report["totals"]["warnings"] == 0, problems
