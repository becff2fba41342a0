"""kb.resolve: the layer rules on fixture laws (SQLite and PostgreSQL), the worked examples on
the real content, and every place in the gazetteer resolved on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from kb import store
from kb.build import build
from kb.codebook import TEXT
from kb.db import make_engine
from kb.errors import NotFound
from kb.loader import load_valid_dataset
from kb.resolve import Resolution, ResolvedAnswer, resolve
from kb.score import protection_score, score_values
from tests.conftest import PROTOCOLS, copy_content


def _coding(answers: dict[str, str]) -> str:
    """A full coding block: the given answers, every other key silent."""
    book = load_valid_dataset(PROTOCOLS).codebook
    lines = ["coding:"]
    for spec in book:
        silent = "not_addressed" if spec.type == "choice" else "null"
        lines.append(f"  {spec.key}: {answers.get(spec.key, '{value: ' + silent + '}')}")
    return "\n".join(lines)


STATE_ACT = """---
id: us-xx/act-2015-1
jurisdiction: us-xx
title: Examplia Cooperation Act
short_name: Cooperation Act (2015)
citation: Examplia Act 2015-1
kind: statute
status: repealed
binds: [all_local_agencies]
dates: {{signed: 2014-11-01, effective: 2015-01-01, repealed: 2030-01-01}}
sources:
  - {{id: text, url: "https://example.org/act", title: Act 2015-1, kind: official, accessed: 2026-11-20}}
penalties:
  - {{kind: fine, liable: A county that keeps a limiting policy, summary: A daily fine., provisions: [sec-2]}}
litigation:
  - {{case: Example v. Examplia, court: D. Xx., status: decided, decided: 2016-06-30, summary: Enjoined then upheld., keys: [detainer_response], enjoined_from: 2016-01-01, enjoined_until: 2016-06-30}}
  - {{case: Doubt v. Examplia, court: D. Xx., status: decided, decided: 2017-02-01, summary: Scope unclear., keys: [status_inquiry], enjoined_from: 2017-01-01, enjoined_until: 2017-02-01, confidence: unverified}}
  - {{case: Pending v. Examplia, court: D. Xx., status: pending, filed: 2018-01-01, summary: Still open., keys: [program_287g]}}
{coding}
verified: {{on: 2026-11-21, confidence: one_source}}
---

A fictional state law that binds every county.

## Detainers {{#sec-1 cite="Sec. 1" topics="detainers" context="detainer-regulation"}}

Jails must honor holds. Counties may not limit access or questions.

## Fines {{#sec-2 cite="Sec. 2" topics="enforcement-penalties"}}

A county that keeps a limiting policy pays. The fine runs daily.
"""

STATE_CODING = {
    "detainer_response": "{value: honors_all, effect: mandate, provisions: [sec-1]}",
    "ice_facility_access": "{value: restricted, effect: ceiling, provisions: [sec-1]}",
    "status_inquiry": "{value: permitted, effect: ceiling, provisions: [sec-1]}",
    "max_hold_hours": "{value: 48, effect: ceiling, provisions: [sec-1]}",
    "local_resources_for_enforcement": "{value: restricted, effect: floor, provisions: [sec-1]}",
    "program_287g": "{value: prohibited, effect: floor, provisions: [sec-1]}",
    "reporting_required": "{value: true, provisions: [sec-1]}",
}

CONSENT_DECREE = """---
id: us-xx-example-county/consent-decree-2019
jurisdiction: us-xx-example-county
title: Consent Judgment in Doe v. Example County Sheriff
short_name: Doe consent decree (2019)
citation: No. 19-cv-1 (D. Xx.)
kind: court_order
body: U.S. District Court for the District of Examplia
status: in_force
dates: {{issued: 2019-01-01, effective: 2019-01-01}}
sources:
  - {{id: text, url: "https://example.org/decree", title: Consent judgment, kind: official, accessed: 2026-11-20}}
{coding}
verified: {{on: 2026-11-21, confidence: one_source}}
---

A fictional consent judgment binding the county sheriff.

## Holds only on a judge's warrant {{#para-1 cite="Para. 1" topics="detainers"}}

The sheriff holds people for ICE only on a judicial warrant. The judgment binds the sheriff.
"""


def layered_content(root: Path) -> Path:
    content = copy_content(root)
    (content / "us-xx" / "act-2015-1.md").parent.mkdir()
    (content / "us-xx" / "act-2015-1.md").write_text(STATE_ACT.format(coding=_coding(STATE_CODING)))
    (content / "us-xx-example-county" / "consent-decree-2019.md").write_text(
        CONSENT_DECREE.format(
            coding=_coding(
                {
                    "detainer_response": "{value: judicial_warrant_only, effect: mandate, provisions: [para-1]}"
                }
            )
        )
    )
    with (content / "jurisdictions.yaml").open("a") as f:
        f.write(
            '  - {id: us-xx-example-city, name: "Example City, Examplia", level: city, state: XX, parent: us-xx-example-county}\n'
        )
    return content


@pytest.fixture
def layered_db(database_url: str, tmp_path: Path) -> Iterator[Session]:
    build(layered_content(tmp_path / "protocols"), database_url)
    engine = make_engine(database_url)
    with store.session(engine) as db:
        yield db
    engine.dispose()


def answer(resolution: Resolution, key: str) -> ResolvedAnswer:
    return next(a for a in resolution.answers if a.key == key)


def governing(a: ResolvedAnswer) -> str | None:
    return next((r.protocol_id for r in a.rules if r.role == "governs"), None)


COUNTY = "us-xx-example-county"
ORDINANCE = "us-xx-example-county/ordinance-2012-9"
ACT = "us-xx/act-2015-1"


def test_a_mandate_fixes_the_answer_over_a_more_protective_county(layered_db: Session) -> None:
    a = answer(resolve(layered_db, COUNTY, dt.date(2018, 3, 1)), "detainer_response")
    assert (a.value, a.room, a.layer, governing(a)) == ("honors_all", "must", "state", ACT)
    assert [(r.protocol_id, r.role) for r in a.rules[1:]] == [(ORDINANCE, "overridden")]
    assert a.conflict is not None and "Cooperation Act (2015)" in a.conflict
    assert a.rules[0].citations == ["Sec. 1"]
    assert a.context == ["detainer-regulation"]


def test_before_a_law_takes_effect_and_after_its_repeal_it_does_not_govern(
    layered_db: Session,
) -> None:
    resolution = resolve(layered_db, COUNTY, dt.date(2014, 12, 31))
    a = answer(resolution, "detainer_response")
    assert (a.value, a.room, governing(a), a.conflict) == (
        "declines_all", "may_go_further", ORDINANCE, None
    )  # fmt: skip
    law = next(x for x in resolution.laws if x.protocol_id == ACT)
    assert not law.governs and "not yet in force" in law.reason
    repealed = resolve(layered_db, COUNTY, dt.date(2030, 1, 1))
    law = next(x for x in repealed.laws if x.protocol_id == ACT)
    assert not law.governs and "repealed 2030-01-01" in law.reason
    assert answer(repealed, "status_inquiry").rules == []
    law = next(
        x for x in resolve(layered_db, COUNTY, dt.date(2015, 1, 1)).laws if x.protocol_id == ACT
    )
    assert law.governs and law.penalties[0].kind == "fine"


def test_a_ceiling_caps_a_more_protective_local_rule(layered_db: Session) -> None:
    resolution = resolve(layered_db, COUNTY, dt.date(2018, 3, 1))
    access = answer(resolution, "ice_facility_access")
    assert (access.value, access.room, governing(access)) == (
        "restricted",
        "may_not_go_further",
        ACT,
    )
    assert (access.rules[1].protocol_id, access.rules[1].value) == (ORDINANCE, "warrant_required")
    hours = answer(resolution, "max_hold_hours")  # integers: fewer hours is more protective
    assert (hours.value, hours.room, governing(hours)) == (48, "may_not_go_further", ACT)
    asked = answer(resolution, "status_inquiry")  # the county is silent: the ceiling is the answer
    assert (asked.value, asked.room, governing(asked)) == ("permitted", "may_not_go_further", ACT)


def test_a_floor_yields_to_a_more_protective_local_rule(layered_db: Session) -> None:
    resolution = resolve(layered_db, COUNTY, dt.date(2018, 3, 1))
    money = answer(resolution, "local_resources_for_enforcement")
    assert (money.value, money.room, governing(money)) == (
        "prohibited",
        "may_go_further",
        ORDINANCE,
    )
    assert [(r.protocol_id, r.role, r.effect) for r in money.rules[1:]] == [
        (ACT, "bounds", "floor")
    ]
    assert money.conflict is None
    program = answer(resolution, "program_287g")  # no local rule: the floor is the answer
    assert (program.value, governing(program), program.layer) == ("prohibited", ACT, "state")


def test_an_answer_without_an_effect_binds_no_one_below(layered_db: Session) -> None:
    a = answer(resolve(layered_db, COUNTY, dt.date(2018, 3, 1)), "reporting_required")
    assert (a.value, a.rules) == (None, [])


def test_a_confirmed_injunction_lifts_the_law_and_an_unconfirmed_one_only_flags_it(
    layered_db: Session,
) -> None:
    held = answer(resolve(layered_db, COUNTY, dt.date(2016, 3, 1)), "detainer_response")
    assert (held.value, governing(held), held.contested) == ("declines_all", ORDINANCE, True)
    assert [c.enjoined for c in held.cases] == [True]
    after = answer(resolve(layered_db, COUNTY, dt.date(2016, 6, 30)), "detainer_response")
    assert (after.value, after.contested) == ("honors_all", False)
    doubtful = answer(resolve(layered_db, COUNTY, dt.date(2017, 1, 15)), "status_inquiry")
    assert (doubtful.value, governing(doubtful), doubtful.contested) == ("permitted", ACT, True)
    pending = resolve(layered_db, COUNTY, dt.date(2018, 3, 1))
    assert answer(pending, "program_287g").contested
    assert not answer(resolve(layered_db, COUNTY, dt.date(2017, 12, 31)), "program_287g").contested


def test_a_court_order_binds_its_jurisdiction_even_against_the_state(layered_db: Session) -> None:
    a = answer(resolve(layered_db, COUNTY, dt.date(2019, 6, 1)), "detainer_response")
    assert (a.value, a.room, a.layer) == ("judicial_warrant_only", "must", "court_order")
    assert ("us-xx/act-2015-1", "overridden") in [(r.protocol_id, r.role) for r in a.rules]
    assert a.conflict is not None


def test_a_place_without_protocols_gets_the_state_layer_only(layered_db: Session) -> None:
    resolution = resolve(layered_db, "us-xx-example-city", dt.date(2018, 3, 1))
    assert [j.id for j in resolution.chain] == ["us-xx-example-city", COUNTY, "us-xx"]
    a = answer(resolution, "detainer_response")
    assert (a.value, a.room, governing(a)) == ("honors_all", "must", ACT)
    # The county's own ordinance binds its own agencies, not the city's.
    assert ORDINANCE not in {law.protocol_id for law in resolution.laws}
    assert answer(resolution, "local_resources_for_enforcement").value == "restricted"


def test_an_unknown_place_is_not_found(layered_db: Session) -> None:
    with pytest.raises(NotFound):
        resolve(layered_db, "us-zz-nowhere")


# --- The worked examples, on the real content --------------------------------------------------


def test_harris_county_must_honor_detainers_under_texas_sb_4(db: Session) -> None:
    a = answer(resolve(db, "us-tx-harris-county"), "detainer_response")
    assert (a.value, a.room, governing(a)) == ("honors_all", "must", "us-tx/sb-4-2017")
    assert "2.251" in a.rules[0].citations[0] and "2A.060" in a.rules[0].citations[0]
    assert any("El Cenizo" in c.case for c in a.cases)
    before = resolve(db, "us-tx-harris-county", dt.date(2016, 1, 1))
    assert governing(answer(before, "detainer_response")) is None
    sb4 = next(law for law in before.laws if law.protocol_id == "us-tx/sb-4-2017")
    assert not sb4.governs and "2017-09-01" in sb4.reason
    penalties = {p.kind for p in sb4.penalties}
    assert penalties == {"fine", "removal_from_office", "criminal"}


def test_every_texas_county_is_bound_by_sb_4(db: Session) -> None:
    for place in ("us-tx-loving-county", "us-tx-travis-county"):
        a = answer(resolve(db, place), "status_inquiry")
        assert (a.value, a.room, governing(a)) == (
            "permitted",
            "may_not_go_further",
            "us-tx/sb-4-2017",
        )


def test_cook_county_stands_on_the_illinois_floor_and_its_own_ordinance(db: Session) -> None:
    resolution = resolve(db, "us-il-cook-county")
    named = {r.protocol_id for a in resolution.answers for r in a.rules}
    assert {"us-il/trust-act-2017", "us-il-cook-county/ordinance-11-o-73"} <= named
    detainers = answer(resolution, "detainer_response")
    assert (detainers.value, detainers.layer) == ("declines_all", "state")
    access = answer(resolution, "ice_facility_access")
    assert (access.value, governing(access), access.room) == (
        "warrant_required", "us-il-cook-county/ordinance-11-o-73", "may_go_further"
    )  # fmt: skip
    assert any(r.effect == "floor" for r in access.rules)


def test_florida_overrides_miami_dades_2013_resolution_on_detainers(db: Session) -> None:
    # R-1008-13 is recorded as preempted by chapter 908 from 1 July 2019: today the state law
    # governs alone, and the resolution is listed as no longer law, with the reason.
    today = resolve(db, "us-fl-miami-dade-county")
    a = answer(today, "detainer_response")
    assert (a.value, a.room, governing(a)) == ("honors_all", "must", "us-fl/sb-168-2019")
    assert "us-fl-miami-dade-county/resolution-r-1008-13" not in {r.protocol_id for r in a.rules}
    law = next(x for x in today.laws if x.protocol_id.endswith("resolution-r-1008-13"))
    assert not law.governs and "2019-07-01" in law.reason
    before = answer(
        resolve(db, "us-fl-miami-dade-county", dt.date(2015, 1, 1)), "detainer_response"
    )
    assert (before.value, governing(before)) == (
        "conditional", "us-fl-miami-dade-county/resolution-r-1008-13"
    )  # fmt: skip


def test_dc_versions_of_section_24_211_07_govern_in_turn(db: Session) -> None:
    # The 2012 rules gave way on 23 Oct 2019 (D.C. Act 23-131), not in 2021; the 2025 budget
    # support emergency amendment governed only until it expired on 22 Feb 2026. It added only
    # subsection (g) (cooperation required by federal law), so the hold rule stayed D.C. Law
    # 23-282's throughout, while the question (g) answers passed to the emergency act and back.
    def governs(key: str, on: dt.date) -> str | None:
        return governing(answer(resolve(db, "us-dc", on), key))

    assert governs("max_hold_hours", dt.date(2019, 10, 22)) == "us-dc/law-19-194"
    assert (
        governs("max_hold_hours", dt.date(2019, 10, 23)) == "us-dc/sanctuary-values-emergency-2019"
    )
    assert governs("max_hold_hours", dt.date(2021, 4, 27)) == "us-dc/law-23-282"
    assert governs("max_hold_hours", dt.date(2025, 10, 1)) == "us-dc/law-23-282"
    resources = "local_resources_for_enforcement"
    assert governs(resources, dt.date(2025, 9, 2)) == "us-dc/law-23-282"
    assert governs(resources, dt.date(2025, 10, 1)) == "us-dc/budget-support-emergency-2025"
    assert governs(resources, dt.date(2026, 2, 22)) == "us-dc/law-23-282"
    expired = next(
        x
        for x in resolve(db, "us-dc", dt.date(2026, 3, 1)).laws
        if x.protocol_id == "us-dc/budget-support-emergency-2025"
    )
    assert not expired.governs and "2026-02-22" in expired.reason


@pytest.mark.parametrize("place", ["us-ca-santa-clara-county", "us-ca-san-francisco"])
def test_sb_54_is_the_floor_in_california(db: Session, place: str) -> None:
    a = answer(resolve(db, place), "detainer_response")
    sb54 = next(r for r in a.rules if r.protocol_id == "us-ca/sb-54-2017")
    assert (sb54.effect, a.value, a.room) == ("floor", "declines_all", "may_go_further")
    before = answer(resolve(db, place, dt.date(2017, 12, 31)), "detainer_response")
    assert "us-ca/sb-54-2017" not in {r.protocol_id for r in before.rules}


# --- Every place, on both databases -------------------------------------------------------------


def test_every_place_in_the_gazetteer_resolves(database_url: str) -> None:
    build(PROTOCOLS, database_url)
    engine = make_engine(database_url)
    try:
        with store.session(engine) as db:
            places = store.list_jurisdictions(db)
            keys = [s.key for s in store.codebook(db) if s.type != TEXT]
            for place in places:
                resolution = resolve(db, place.id, dt.date(2026, 12, 1))
                assert [a.key for a in resolution.answers] == keys
                assert resolution.chain[0].id == place.id
    finally:
        engine.dispose()
    assert sum(1 for p in places if p.level == "county") >= 3100


def test_a_places_score_is_computed_on_what_governs_there(db: Session) -> None:
    """Cook County's score counts the Illinois floor as well as its own ordinance: higher than
    the ordinance alone, and exactly the tally of the answers that govern."""
    book = store.codebook(db)
    cook = resolve(db, "us-il-cook-county", dt.date(2026, 1, 1))
    governing = {a.key: a.value for a in cook.answers}
    assert cook.score == score_values(book, governing)
    (ordinance,) = store.get_protocols(db, ["us-il-cook-county/ordinance-11-o-73"])
    assert cook.score.score > protection_score(book, ordinance).score
    harris = resolve(db, "us-tx-harris-county", dt.date(2026, 1, 1))
    detainers = next(k for k in harris.score.keys if k.key == "detainer_response")
    assert detainers.value == "honors_all" and detainers.points == 0
