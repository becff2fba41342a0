"""kb.status: each protocol's standing in plain words, on the real content, by the resolver's
dating rule; in-force protocols listed first."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlmodel import Session

from kb import store
from kb.build import build
from kb.db import make_engine
from kb.status import ENDED, IN_FORCE, NEVER, NOT_YET, in_force_first, status_lines


def test_a_vetoed_bill_never_took_effect(db: Session) -> None:
    line = status_lines(db)["us-ca/ab-1081-2012"]
    assert line.text == "vetoed: never took effect (2012-09-30)"
    assert line.standing == NEVER and not line.in_force
    assert line.short_name == "TRUST Act (AB 1081, 2012, vetoed)"


def test_a_passed_bill_is_not_said_to_be_law_nor_never_signed(
    content: Path, tmp_path: Path
) -> None:
    # No real record is only `passed` any more (Los Angeles's 2024 ordinance is now recorded in
    # force), so the rule is checked on a fixture ordinance stripped back to its Council vote.
    path = content / "us-xx-example-county" / "ordinance-2012-9.md"
    text = path.read_text(encoding="utf-8")
    text = text.replace("status: in_force", "status: passed").replace(
        "  effective: 2012-04-01\n", ""
    )
    path.write_text(text, encoding="utf-8")
    shutil.rmtree(content / "models")  # the drafting models may cite only law that took effect
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    build(content, url)
    engine = make_engine(url)
    with store.session(engine) as session:
        line = status_lines(session)["us-xx-example-county/ordinance-2012-9"]
    engine.dispose()
    assert line.text == "passed on 2012-03-15; not recorded as signed or in force"
    assert line.standing == NEVER


def test_los_angeles_2024_ordinance_is_in_force_from_its_reported_effective_date(
    db: Session,
) -> None:
    lines = status_lines(db, dt.date(2025, 6, 1))
    line = lines["us-ca-los-angeles/sanctuary-city-ordinance-2024"]
    assert line.text == "in force on 2025-06-01 (since 2024-12-09)" and line.in_force
    assert not status_lines(db, dt.date(2024, 12, 8))[line.protocol_id].in_force


def test_a_preempted_policy_names_the_state_law_that_took_effect_that_day(db: Session) -> None:
    lines = status_lines(db, dt.date(2026, 12, 2))
    assert lines["us-fl-miami-dade-county/resolution-r-1008-13"].text == (
        "preempted by Florida anti-sanctuary law (SB 168, 2019) on 2019-07-01: no longer in force"
    )
    # No higher law recorded as taking effect that day: the date alone, nothing invented.
    assert lines["us-tx-travis-county/sheriff-detainer-policy-2017"].text == (
        "preempted on 2017-09-25: no longer in force"
    )


def test_a_superseded_law_names_what_replaced_it(db: Session) -> None:
    line = status_lines(db, dt.date(2026, 12, 2))["us-dc/law-19-194"]
    # The official Code history shows the 2012 rules displaced by D.C. Act 23-131 in 2019.
    assert line.text == (
        "superseded by Sanctuary Values emergency acts (D.C. Act 23-131, 2019-2021) on "
        "2019-10-23: no longer in force"
    )
    assert line.standing == ENDED
    # Before that date the same law was in force.
    earlier = status_lines(db, dt.date(2015, 1, 1))["us-dc/law-19-194"]
    assert earlier.text == "in force on 2015-01-01 (since 2012-12-11)"
    assert earlier.in_force


def test_an_expired_emergency_act_says_so(db: Session) -> None:
    line = status_lines(db, dt.date(2026, 12, 2))["us-dc/budget-support-emergency-2025"]
    assert line.text.startswith("expired (a temporary act that lapsed)")
    assert "2026-02-22" in line.text and line.standing == ENDED and not line.in_force
    during = status_lines(db, dt.date(2025, 10, 1))["us-dc/budget-support-emergency-2025"]
    assert during.in_force


def test_in_force_today_and_as_amended(db: Session) -> None:
    today = status_lines(db)
    assert today["us-ca/sb-54-2017"].text == "in force today (since 2018-01-01)"
    # The amending law is named only when it took effect on the day of the amendment.
    assert today["us-il/trust-act-2017"].text == (
        "in force as amended by Illinois Way Forward Act (SB 667, 2021) on 2021-08-02"
    )
    assert today["us-ca/ab-4-2013"].text == "in force as amended on 2017-10-05"
    assert all("enacted" not in line.text for line in today.values())


def test_an_injunction_running_on_the_day_is_said(db: Session) -> None:
    lines = status_lines(db, dt.date(2017, 8, 31))
    sb4 = lines["us-tx/sb-4-2017"]
    assert sb4.standing == NOT_YET and sb4.enjoined
    assert sb4.text == (
        "not yet in force (takes effect 2017-09-01); enjoined by City of El Cenizo v. Texas "
        "(preliminary injunction) since 2017-08-30"
    )
    # The Fifth Circuit's stay ended it on 2017-09-25 (enjoined_until).
    after = status_lines(db, dt.date(2017, 10, 1))["us-tx/sb-4-2017"]
    assert after.standing == IN_FORCE and not after.enjoined


def test_in_force_first_keeps_the_order_within_each_standing(db: Session) -> None:
    lines = status_lines(db)
    ids = [p.id for p in store.list_protocols(db)]
    ordered = in_force_first(ids, lines, lambda i: i)
    standings = [lines[i].standing for i in ordered]
    assert standings == sorted(standings)
    assert standings[0] == IN_FORCE and standings[-1] == NEVER
    in_force = [i for i in ids if lines[i].in_force]
    assert ordered[: len(in_force)] == in_force
