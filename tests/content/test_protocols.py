"""The real content in protocols/: valid, complete, cited and linked both ways."""

from __future__ import annotations

import re

import pytest

from kb.loader import load_dataset
from kb.records import Dataset
from tests.conftest import PROTOCOLS


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    loaded, problems = load_dataset(PROTOCOLS)
    assert [str(p) for p in problems] == []
    return loaded


def test_cook_county_ordinance_is_present(dataset: Dataset) -> None:
    ids = {p.id for p in dataset.protocols}
    assert "us-il-cook-county/ordinance-11-o-73" in ids


def test_every_protocol_answers_every_codebook_key(dataset: Dataset) -> None:
    keys = set(dataset.codebook.keys)
    for protocol in dataset.protocols:
        assert set(protocol.coding) == keys, protocol.id


def test_every_coded_answer_cites_existing_provisions(dataset: Dataset) -> None:
    for protocol in dataset.protocols:
        anchors = {v.anchor for v in protocol.provisions}
        for key, answer in protocol.coding.items():
            spec = dataset.codebook[key]
            assert set(answer.provisions) <= anchors, (protocol.id, key)
            if not spec.is_unaddressed(answer.value):
                assert answer.provisions, (protocol.id, key)


def test_every_protocol_has_a_source_a_verified_date_and_a_summary_per_provision(
    dataset: Dataset,
) -> None:
    for protocol in dataset.protocols:
        assert protocol.sources, protocol.id
        assert protocol.verified_on, protocol.id
        assert protocol.provisions, protocol.id
        for provision in protocol.provisions:
            assert provision.summary.strip(), provision.anchor
            sources = set(protocol.provision_sources(provision))
            assert sources and sources <= {s.id for s in protocol.sources}


def test_predecessor_and_successor_links_are_symmetric(dataset: Dataset) -> None:
    by_id = {p.id: p for p in dataset.protocols}
    for protocol in dataset.protocols:
        for successor in protocol.successors:
            assert protocol.id in by_id[successor].predecessors
        for predecessor in protocol.predecessors:
            assert protocol.id in by_id[predecessor].successors


def test_status_words_are_backed_by_dates(dataset: Dataset) -> None:
    for protocol in dataset.protocols:
        if protocol.status in ("vetoed", "superseded", "repealed", "struck_down"):
            assert protocol.status in protocol.dates, protocol.id


def test_every_summary_is_two_to_six_sentences(dataset: Dataset) -> None:
    for protocol in dataset.protocols:
        for provision in protocol.provisions:
            text = re.sub(r"\s+", " ", provision.summary)
            sentences = len(re.findall(r"[.!?](?:\s|$)", text))
            assert 2 <= sentences <= 6, f"{protocol.path}:{provision.line}: {sentences} sentence(s)"


def test_target_coverage(dataset: Dataset) -> None:
    assert len(dataset.protocols) >= 16
    assert len({p.jurisdiction for p in dataset.protocols}) >= 12


# How the Department of Justice's list of 5 Aug. 2025 names each place of this KB it lists
# (protocols/context/doj-sanctuary-jurisdiction-list-2025.md). Places of the KB it does not name
# are left out: Orleans Parish (its record is the Sheriff's; the list names the City of New
# Orleans), Santa Clara, King, Travis and Miami-Dade counties, Austin, and the states of
# Massachusetts, Maryland, New Jersey and the rest.
DOJ_LIST_2025 = {
    "us-ca": "California",
    "us-co": "Colorado",
    "us-ct": "Connecticut",
    "us-dc": "District of Columbia",
    "us-il": "Illinois",
    "us-ny": "New York",
    "us-or": "Oregon",
    "us-wa": "Washington",
    "us-il-cook-county": "Cook County, IL",
    "us-ca-los-angeles": "Los Angeles, CA",
    "us-ca-san-francisco": "San Francisco, CA",
    "us-co-denver-county": "Denver, CO",
    "us-il-chicago": "Chicago, IL",
    "us-ny-new-york-city": "New York City, NY",
    "us-pa-philadelphia": "Philadelphia, PA",
    "us-wa-seattle": "Seattle, WA",
}


def test_every_place_the_doj_list_names_carries_the_listing(dataset: Dataset) -> None:
    listed: dict[str, set[str]] = {}
    for protocol in dataset.protocols:
        for listing in protocol.listings:
            if listing.list_id == "doj-sanctuary-jurisdiction-list-2025":
                listed.setdefault(protocol.jurisdiction, set()).add(listing.name)
    for jurisdiction, name in DOJ_LIST_2025.items():
        assert name in listed.get(jurisdiction, set()), jurisdiction
    assert set(listed) == set(DOJ_LIST_2025), set(listed) ^ set(DOJ_LIST_2025)
