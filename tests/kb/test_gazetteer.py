"""The gazetteer: every state, D.C. and county in the store, with unchanged published ids."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kb import store
from kb.build import build
from kb.db import make_engine
from kb.loader import load_dataset, load_valid_dataset
from tests.conftest import PROTOCOLS, copy_content

# The ids published before the gazetteer, with the FIPS code each must now carry.
PUBLISHED = {
    "us-ca": "06", "us-ct": "09", "us-ma": "25", "us-dc": "11",
    "us-il-cook-county": "17031", "us-ca-santa-clara-county": "06085",
    "us-ca-san-francisco": "06075", "us-wa-king-county": "53033",
    "us-ny-new-york-city": None, "us-la-orleans-parish": "22071",
    "us-pa-philadelphia": "42101", "us-fl-miami-dade-county": "12086",
}  # fmt: skip


def test_every_county_once_with_its_state() -> None:
    dataset = load_valid_dataset(PROTOCOLS)
    by_id = {j.id: j for j in dataset.jurisdictions}
    assert len(by_id) == len(dataset.jurisdictions), "ids are unique"
    levels = Counter(j.level for j in dataset.jurisdictions if j.fips and len(j.fips) == 5)
    assert sum(levels.values()) >= 3100
    fips = [j.fips for j in dataset.jurisdictions if j.fips]
    assert len(fips) == len(set(fips)), "one place per FIPS code"
    assert sum(1 for j in dataset.jurisdictions if j.level == "state") == 50
    for j in dataset.jurisdictions:
        assert j.parent is None or j.parent in by_id, j.id
        if j.fips and len(j.fips) == 5:
            assert by_id[j.parent or ""].fips == j.fips[:2], j.id


def test_published_ids_unchanged() -> None:
    by_id = {j.id: j for j in load_valid_dataset(PROTOCOLS).jurisdictions}
    for jid, fips in PUBLISHED.items():
        assert by_id[jid].fips == fips, jid
    assert by_id["us-tx-harris-county"].name == "Harris County, Texas"
    assert by_id["us-va-richmond-city"].name == "Richmond city, Virginia"
    assert by_id["us-va-richmond-county"].fips == "51159"
    assert by_id["us-md-baltimore-city"].fips == "24510"
    assert by_id["us-ak-anchorage-municipality"].parent == "us-ak"
    assert by_id["us-ny-new-york-city"].parent == "us-ny"


def test_bad_gazetteer_rows_name_their_line(content: Path) -> None:
    (content / "gazetteer").mkdir()
    (content / "gazetteer" / "jurisdictions.csv").write_text(
        "fips,id,name,level,state,parent\n"
        "17,us-il,Illinois,state,IL,\n"
        "17031,US Cook,Cook County,county,IL,us-il\n"
        "17043,us-il-dupage-county,DuPage County,shire,IL,us-il\n"
        "17089,us-il-kane-county,Kane County,county,IL,us-zz\n"
    )
    _, problems = load_dataset(content)
    shown = [f"{p.line}: {p.message}" for p in problems if "gazetteer" in str(p.path)]
    assert any(s.startswith("3: ") and "'US Cook' is not an id" in s for s in shown), shown
    assert any(s.startswith("4: ") and "level 'shire'" in s for s in shown), shown
    assert any(s.startswith("5: ") and "'us-zz'" in s for s in shown), shown


def test_the_store_holds_the_gazetteer(database_url: str, tmp_path: Path) -> None:
    build(PROTOCOLS, database_url)
    engine = make_engine(database_url)
    try:
        with store.session(engine) as db:
            places = store.list_jurisdictions(db)
            harris = store.get_jurisdiction(db, "us-tx-harris-county")
    finally:
        engine.dispose()
    assert sum(1 for j in places if j.level == "county") >= 3100
    assert (harris.fips, harris.parent_id, harris.state) == ("48201", "us-tx", "TX")


def test_content_without_a_gazetteer_still_loads(tmp_path: Path) -> None:
    root = copy_content(tmp_path / "protocols")
    dataset = load_valid_dataset(root)
    assert not any(j.fips for j in dataset.jurisdictions)


def test_the_generator_derives_full_names_and_ids_by_its_rules() -> None:
    import importlib.util

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("gazetteer_tool", ROOT / "tools" / "gazetteer.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    def county(fips: str, name: str) -> dict[str, object]:
        return {"id": fips, "properties": {"name": name}}

    atlas = {
        "objects": {
            "states": {
                "geometries": [
                    county(s, n)
                    for s, n in [
                        ("02", "Alaska"),
                        ("11", "District of Columbia"),
                        ("22", "Louisiana"),
                        ("35", "New Mexico"),
                        ("51", "Virginia"),
                        ("72", "Puerto Rico"),
                    ]
                ]
            },
            "counties": {
                "geometries": [
                    county("02020", "Anchorage"),
                    county("11001", "District of Columbia"),
                    county("22071", "Orleans"),
                    county("35013", "Doña Ana"),
                    county("51760", "Richmond"),
                    county("51159", "Richmond"),
                    county("72001", "Adjuntas"),
                ]
            },
        }
    }
    rows = {r["fips"]: r for r in tool.rows(atlas)}
    assert rows["22071"]["id"] == "us-la-orleans-parish"
    assert rows["02020"]["name"] == "Anchorage Municipality, Alaska"
    assert rows["35013"]["id"] == "us-nm-dona-ana-county"
    assert (rows["51760"]["id"], rows["51159"]["id"]) == (
        "us-va-richmond-city",
        "us-va-richmond-county",
    )
    assert rows["11"]["level"] == "district" and "11001" not in rows  # D.C. is the district itself
    assert "72001" not in rows and "72" not in rows  # territories are left out
