"""schemathesis against the app's own OpenAPI schema: no 5xx, every response matches its schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from kb.build import build
from kb.db import make_engine
from kb.settings import Settings
from kbcli.commands import main
from search_index.build import build_index
from tests.conftest import copy_content
from tests.servers import KB, free_port, server


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.schemas.BaseSchema:
    folder = tmp_path_factory.mktemp("fuzz")
    content = copy_content(folder / "protocols")
    url = f"sqlite:///{folder / 'kb.sqlite3'}"
    build(content, url)
    build_index(make_engine(url), folder / "index")
    app = create_app(Settings(database_url=url, index_dir=folder / "index"))
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def test_the_api_honours_its_own_schema(api_schema: schemathesis.schemas.BaseSchema) -> None:
    """Bounded: a few dozen generated requests per operation, on loopback-free ASGI calls."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    # createDraftPdf takes createDraftDocx's body (fuzzed) and hands its DOCX to LibreOffice, a
    # few seconds a call: tests/api/test_drafting.py checks its PDFs by page count instead.
    operations = [o for o in operations if o.definition.raw.get("operationId") != "createDraftPdf"]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            # The search language has rules no JSON schema states (quotes must close, no control
            # characters), so a schema-valid query may rightly get a 400 problem.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()


def test_undocumented_methods_are_405_with_allow(
    api_schema: schemathesis.schemas.BaseSchema,
) -> None:
    """RFC 9110: every 405 names what is allowed; HEAD is allowed wherever GET is."""
    from fastapi.testclient import TestClient

    client = TestClient(api_schema.app)
    paths = api_schema.raw_schema["paths"]
    assert len(paths) >= 12
    for template, operations in paths.items():
        path = re.sub(r"\{[^}]+\}", "x", template)
        documented = {
            m.upper() for m in operations if m in ("get", "post", "put", "patch", "delete")
        }
        allowed = documented | ({"HEAD"} if "GET" in documented else set())
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - documented:
            response = client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert set(response.headers["allow"].split(", ")) == allowed, (method, path)


@pytest.fixture
def running(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A real `kb serve` over the fixture content, on SQLite or PostgreSQL."""
    content = copy_content(tmp_path / "protocols")
    assert main(["build", "--protocols", str(content), "--database-url", database_url]) == 0
    env = {
        "KB_PORT": str(free_port()),
        "KB_DATABASE_URL": database_url,
        "KB_PROTOCOLS_DIR": str(content),
    }
    with server([KB, "serve"], env) as base:
        yield base


def test_the_running_server_honours_its_own_schema(running: str) -> None:
    """The same checks over real HTTP (uvicorn, the middlewares, the database over its pool): no
    5xx, no undocumented status, every answer matching its schema. Bounded: 8 generated requests
    per operation, to 127.0.0.1 only."""
    schema = schemathesis.openapi.from_url(f"{running}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance], timeout=30)

        check()
