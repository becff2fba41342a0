"""A new consumer's first hour: generate a Python client from the served OpenAPI document with
openapi-python-client (a maintained generator, in the `test` extra) and use it end to end against
a real `kb serve`, on SQLite and PostgreSQL: lists and pages, filters, search, compare, diff,
drafts, bulk data, and every documented error status."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
import pytest

from kbcli.commands import main
from tests.conftest import PROTOCOLS
from tests.servers import KB, free_port, server

GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")
COOK = "us-il-cook-county/ordinance-11-o-73"
DC = "us-dc/law-19-194"
# Word files and PDFs are binary; the generator knows binary only as application/octet-stream,
# and this is the setting it documents for such media types (the document keeps the true one).
CONFIG = """\
content_type_overrides:
  application/vnd.openxmlformats-officedocument.wordprocessingml.document: application/octet-stream
  application/pdf: application/octet-stream
post_hooks: []
"""


def generate(base: str, folder: Path) -> ModuleType:
    """The client package generated from the server's own document, imported."""
    spec = folder / "openapi.json"
    spec.write_bytes(httpx2.get(f"{base}/api/v1/openapi.json", timeout=30).content)
    (folder / "config.yaml").write_text(CONFIG)
    name = f"kb_client_{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        [
            *(GENERATOR, "generate", "--path", str(spec), "--output-path", str(folder / name)),
            *("--meta", "none", "--config", str(folder / "config.yaml")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed
    assert "warning" not in printed.lower(), printed
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, ModuleType]]:
    assert main(["build", "--protocols", str(PROTOCOLS), "--database-url", database_url]) == 0
    env = {
        "KB_PORT": str(free_port()),
        "KB_DATABASE_URL": database_url,
        "KB_PROTOCOLS_DIR": str(PROTOCOLS),
    }
    with server([KB, "serve"], env) as base:
        yield base, generate(base, tmp_path)


def api(package: ModuleType, module: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{module}")


def test_a_generated_client_lists_filters_searches_compares_drafts_and_downloads(
    served: tuple[str, ModuleType],
) -> None:
    base, package = served
    models = importlib.import_module(f"{package.__name__}.models")
    client = package.Client(base_url=base, raise_on_unexpected_status=True)

    # Lists and pages: walk every page of jurisdictions (every state and county) with
    # limit/offset, and the first pages again in small steps.
    listing = api(package, "v1.list_jurisdictions")
    whole: list[Any] = []
    while True:
        page = listing.sync(client=client, limit=200, offset=len(whole))
        assert isinstance(page, models.PageJurisdictionPublic)
        whole += page.data
        if page.pagination.next_ is None:
            break
        assert page.pagination.next_.startswith("/api/v1/jurisdictions?")
    assert len(whole) == page.pagination.total >= 3100
    seen: list[str] = []
    for offset in range(0, 40, 5):
        seen += [j.id for j in listing.sync(client=client, limit=5, offset=offset).data]
    assert seen == [j.id for j in whole[:40]]
    assert any(j.level == models.JurisdictionPublicLevel.DISTRICT for j in whole)

    # Filters, typed from the codebook: protocols that decline every detainer.
    protocols = api(package, "v1.list_protocols").sync(
        client=client,
        detainer_response=models.ListProtocolsDetainerResponse.DECLINES_ALL,
        limit=200,
    )
    assert protocols.data
    get_protocol = api(package, "v1.get_protocol")
    for summary in protocols.data:
        full = get_protocol.sync(client=client, protocol_id=summary.id).data
        answer = next(a for a in full.coding if a.key == "detainer_response")
        assert answer.value == "declines_all"
    cook = get_protocol.sync(client=client, protocol_id=COOK).data
    assert cook.dates.adopted.precision == models.PartialDatePrecision.DAY
    assert cook.provisions[0].citation and cook.coding[0].provision_ids is not None

    # Search, paged the same way.
    found = api(package, "v1.search_records").sync(client=client, q="juvenile holds", limit=3)
    assert isinstance(found, models.SearchPage) and len(found.data) == 3
    assert found.pagination.total > 3 and found.facets.topic_id
    second = api(package, "v1.search_records").sync(
        client=client, q="juvenile holds", limit=3, offset=3
    )
    assert {h.id for h in second.data}.isdisjoint({h.id for h in found.data})

    # Compare (JSON and CSV) and diff.
    compared = api(package, "v1.compare_protocols").sync(client=client, protocols=f"{COOK},{DC}")
    assert [p.id for p in compared.data.protocols] == [COOK, DC]
    table = api(package, "v1.compare_protocols_csv").sync(client=client, protocols=f"{COOK},{DC}")
    assert isinstance(table, str) and "detainer_response" in table
    changes = api(package, "v1.diff_versions").sync(
        client=client, from_="us-ca/ab-1081-2012", to="us-ca/ab-4-2013"
    )
    assert changes.data.linked is True

    # A draft for the District of Columbia, as JSON and as Word.
    options = models.DraftOptions(
        adopter=models.Adopter(name="District of Columbia", level=models.AdopterLevel.DISTRICT)
    )
    draft = api(package, "drafting.create_draft").sync(client=client, body=options)
    assert draft.data.sections and draft.data.adopter.level == models.AdopterLevel.DISTRICT
    word = api(package, "drafting.create_draft_docx").sync(client=client, body=options)
    assert word.payload.read()[:2] == b"PK"

    # Bulk data.
    dump = api(package, "v1.get_bulk_export").sync(client=client)
    assert dump["format"] == "protocol-kb/export@2"
    assert (
        len(dump["protocols"])
        == api(package, "v1.list_protocols").sync(client=client, limit=1).pagination.total
    )
    answers = api(package, "v1.get_bulk_coded_answers").sync(client=client)
    assert answers.lstrip("\ufeff").startswith("protocol_id,")


def test_a_generated_client_gets_every_documented_error_as_a_problem(
    served: tuple[str, ModuleType], tmp_path: Path
) -> None:
    base, package = served
    models = importlib.import_module(f"{package.__name__}.models")
    client = package.Client(base_url=base, raise_on_unexpected_status=True)

    def kind(problem: Any) -> str:
        assert isinstance(problem, models.Problem), problem
        return str(problem.type_.rsplit(":", 1)[1])

    unreadable = api(package, "v1.search_records").sync(client=client, q='"unclosed')
    assert (unreadable.status, kind(unreadable)) == (400, "unreadable-query")
    missing = api(package, "v1.get_protocol").sync(client=client, protocol_id="us-zz/none")
    assert (missing.status, kind(missing)) == (404, "not-found")
    wrong = api(package, "v1.list_protocols").sync(client=client, jurisdiction_id="us-zz")
    assert (wrong.status, kind(wrong)) == (422, "invalid-parameter")
    assert [e.parameter for e in wrong.errors] == ["jurisdiction_id"]
    too_many = api(package, "drafting.create_draft").sync(
        client=client,
        body=models.DraftOptions(
            adopter=models.Adopter(name="X", level=models.AdopterLevel.CITY),
            protocols=[f"p{i}" for i in range(7)],
        ),
    )
    assert (too_many.status, kind(too_many)) == (422, "too-many-protocols")
    assert too_many.errors[0].pointer == "/protocols"
    options = models.DraftOptions(
        adopter=models.Adopter(name="X", level=models.AdopterLevel.CITY),
        choices=models.DraftOptionsChoices.from_dict({"colour": "strongest"}),
    )
    refused = api(package, "drafting.create_draft").sync(client=client, body=options)
    assert (refused.status, kind(refused)) == (422, "invalid-options")
    assert refused.errors[0].pointer == "/choices/colour"

    # 503: a server whose database holds no build yet.
    env = {"KB_PORT": str(free_port()), "KB_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    with server([KB, "serve", "--no-build"], env, ready="/api/v1/openapi.json") as empty:
        bare = package.Client(base_url=empty, raise_on_unexpected_status=True)
        unbuilt = api(package, "v1.list_topics").sync(client=bare)
        assert (unbuilt.status, kind(unbuilt)) == (503, "no-build")
