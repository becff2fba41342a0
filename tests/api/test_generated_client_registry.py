"""The 287(g) registry through a client generated from the served OpenAPI document, on SQLite
and PostgreSQL: typed filters, paging, one agreement's history, the CSV and the captures."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from kbcli.commands import main
from tests.api.test_generated_client import api, generate
from tests.conftest import ICE_287G_SAMPLES, PROTOCOLS
from tests.servers import KB, free_port, server


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, ModuleType]]:
    assert main(["build", "--protocols", str(PROTOCOLS), "--database-url", database_url]) == 0
    files = [str(f) for f in sorted(ICE_287G_SAMPLES.glob("*.xlsx"))]
    assert main(["import-287g", "--database-url", database_url, *files]) == 0
    env = {
        "KB_PORT": str(free_port()),
        "KB_DATABASE_URL": database_url,
        "KB_PROTOCOLS_DIR": str(PROTOCOLS),
    }
    with server([KB, "serve"], env) as base:
        yield base, generate(base, tmp_path)


def test_a_generated_client_reads_the_287g_registry(served: tuple[str, ModuleType]) -> None:
    base, package = served
    models = importlib.import_module(f"{package.__name__}.models")
    client = package.Client(base_url=base, raise_on_unexpected_status=True)

    listing = api(package, "v1.list_registry_agreements")
    miami = listing.sync(
        client=client,
        state="FL",
        county="Miami-Dade County",
        status=models.ListRegistryAgreementsStatusType0.ACTIVE,
        active_on=dt.date(2025, 7, 1),
    )
    assert {(a.model, a.signed) for a in miami.data} == {
        (models.AgreementPublicModel.TASK_FORCE, dt.date(2025, 2, 26)),
        (models.AgreementPublicModel.WARRANT_SERVICE_OFFICER, dt.date(2025, 2, 26)),
    }
    ended = listing.sync(
        client=client,
        status=models.ListRegistryAgreementsStatusType0.ENDED,
        list_=models.ListRegistryAgreementsListType0.PARTICIPATING,
        limit=200,
    )
    assert ended.data and all(a.ended_by == dt.date(2025, 7, 18) for a in ended.data)

    one = api(package, "v1.get_registry_agreement").sync(
        client=client, agreement_id=miami.data[0].id
    )
    assert one.data.periods[0].first_seen == dt.date(2025, 5, 16)

    table = api(package, "v1.list_registry_agreements_csv").sync(
        client=client, state="FL", county="miami-dade"
    )
    assert table.lstrip("\ufeff").startswith("id,") and table.count("\n") == 3

    captures = api(package, "v1.list_registry_captures").sync(client=client)
    assert captures.pagination.total == 4
    assert captures.data[0].retrieved_at.tzinfo is not None
