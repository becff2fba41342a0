"""The county map's data: every county shape joined to the gazetteer by FIPS, the many-places
resolver equal to `resolve` place by place, and the 287(g) layer read from the registry."""

from __future__ import annotations

import datetime as dt
import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from kb.county_map import county_map, parse_on, places, shapes
from kb.errors import InvalidParameter
from kb.gazetteer import read_gazetteer
from kb.resolve import resolve, resolve_places
from tests.conftest import PROTOCOLS, ROOT


def test_every_gazetteer_county_has_a_shape_and_every_shape_a_place(db) -> None:  # type: ignore[no-untyped-def]
    rows = read_gazetteer((PROTOCOLS / "gazetteer" / "jurisdictions.csv").read_text(), print)
    counties = {r.fips for r in rows if r.fips and len(r.fips) == 5}
    drawn = places(db)
    # D.C.'s county-equivalent is drawn too, as the district itself; one county is too small
    # for the scale and only the table shows it.
    assert set(drawn) == counties | {"11001"}
    assert set(shapes().counties) == set(drawn) - {"51678"}
    assert drawn["11001"].id == "us-dc"
    assert drawn["48201"].id == "us-tx-harris-county"
    assert all(d.startswith("M") and d.endswith("z") for d in shapes().counties.values())
    m = county_map(db, "score")
    assert [c.name for c in m.undrawn] == ["Lexington city, Virginia"]


@pytest.mark.parametrize("on", [None, dt.date(2015, 1, 1), dt.date(2025, 7, 18)])
def test_many_places_resolve_as_one_place_at_a_time(db, on: dt.date | None) -> None:  # type: ignore[no-untyped-def]
    ids = sorted({p.id for p in places(db).values()})
    many = resolve_places(db, ids, on)
    for jid in ids:
        one = resolve(db, jid, on)
        answers, score = many[jid]
        assert [a.model_dump() for a in answers] == [a.model_dump() for a in one.answers], jid
        assert score == one.score


def test_a_question_layer_takes_the_resolvers_answer(db) -> None:  # type: ignore[no-untyped-def]
    m = county_map(db, "question:detainer_response", dt.date(2025, 7, 18))
    by_id = {c.jurisdiction_id: c for c in m.counties}
    for jid in ("us-tx-harris-county", "us-ca-santa-clara-county", "us-il-cook-county"):
        answer = next(
            a
            for a in resolve(db, jid, dt.date(2025, 7, 18)).answers
            if a.key == "detainer_response"
        )
        assert by_id[jid].value == answer.label
        assert m.classes[by_id[jid].index].label == answer.label
    assert sum(c.count for c in m.classes) == len(m.counties) == len(shapes().counties) + 1
    assert [c.label for c in m.classes][-1] == "Not addressed"


def test_the_score_layer_bands_the_resolvers_score(db) -> None:  # type: ignore[no-untyped-def]
    m = county_map(db, "score")
    harris = next(c for c in m.counties if c.jurisdiction_id == "us-tx-harris-county")
    score = resolve(db, "us-tx-harris-county").score.score
    assert harris.value == f"{score} of 100"


def test_the_287g_layer_places_miami_dades_agreements(db) -> None:  # type: ignore[no-untyped-def]
    m = county_map(db, "287g", dt.date(2025, 7, 18))
    dade = next(c for c in m.counties if c.fips == "12086")
    assert "Task force" in dade.value and "Warrant service officer" in dade.value
    assert "Miami Dade Sheriff's Office (task force)" in dade.detail
    before = county_map(db, "287g", dt.date(2000, 1, 1))
    assert all(c.index == 0 for c in before.counties)
    assert m.statewide  # Florida's state agencies are listed, not drawn


def test_bad_layers_and_dates_are_named(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameter, match="unknown layer 'question:nope'"):
        county_map(db, "question:nope")
    with pytest.raises(InvalidParameter, match="unknown layer 'question:applies_to'"):
        county_map(db, "question:applies_to")  # a text question has no map
    with pytest.raises(InvalidParameter, match="not a date"):
        parse_on("2025-13-40")


def test_the_regenerate_script_decodes_topojson(tmp_path: Path) -> None:
    """The decoder turns a tiny topology into the paths worked out by hand, and the committed
    file names its source and carries its licence."""
    data = json.loads((ROOT / "kb" / "data" / "us-counties-albers.json").read_text())
    assert data["source"].startswith("us-atlas@3.0.1 counties-albers-10m.json")
    assert (ROOT / "kb" / "data" / "LICENSE-us-atlas").read_text().startswith("Copyright")
    namespace = runpy.run_path(str(ROOT / "tools" / "map" / "regenerate"), run_name="regenerate")
    topology = {
        "type": "Topology",
        "bbox": [0, 0, 10, 10],
        "transform": {"scale": [0.5, 0.5], "translate": [1, 2]},
        "arcs": [[[0, 0], [4, 0], [0, 4]], [[4, 4], [-4, 0], [0, -4]]],
        "objects": {
            "counties": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "id": "01001"}
            ]},
            "states": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "id": "01"}
            ]},
        },
    }  # fmt: skip
    made = namespace["shapes"](topology)
    # (1,2) -> (3,2) -> (3,4) -> (1,4) -> (1,2), relative steps in pixels.
    assert made["counties"] == {"01001": "M1 2l2 0 0 2-2 0 0-2z"}
    assert made["states"] == "M1 2l2 0 0 2M3 4l-2 0 0-2"
    assert (
        subprocess.run(
            [sys.executable, str(ROOT / "tools" / "map" / "regenerate"), "--help"],
            capture_output=True,
        ).returncode
        == 0
    )
