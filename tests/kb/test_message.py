"""kb.message: the sentences kb writes are message ids and parameters, English as before when
written out, and each id is one the Spanish catalogue translates (docs/i18n.md)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from sqlmodel import Session

from api import i18n
from kb import store
from kb.compare import compare_protocols
from kb.county_map import county_map
from kb.gaps import find_gaps
from kb.message import CLAUSES, Day, Label, Message, Names, Number, message
from kb.registry_check import check_287g
from kb.resolve import resolve
from kb.score import protection_score
from kb.status import status_lines

CONDITIONAL = [
    "us-ca-santa-clara-county/board-policy-3-54",
    "us-il-cook-county/ordinance-11-o-73",
    "us-dc/law-19-194",
    "us-ca/ab-4-2013",
]
"""Protocols that hold only when conditions are met: the comparison says why it marks one."""


def _said(db: Session) -> list[Message]:
    """The messages kb writes on the real content: statuses (today and on two past dates), the
    resolver's reasons and conflicts in every place a protocol governs, score reasons, 287(g)
    notes, clauses a state law closes off, a comparison's reasons, and the county maps."""
    found: list[Message] = []
    for day in (None, dt.date(2015, 1, 1), dt.date(2019, 6, 1)):
        found += [line.message for line in status_lines(db, day).values()]
    places = sorted({p.jurisdiction_id for p in store.list_protocols(db)})
    for place in places:
        for on in (None, dt.date(2016, 1, 1)):
            resolution = resolve(db, place, on)
            found += [m for law in resolution.laws if (m := law.reason_message)]
            found += [m for a in resolution.answers if (m := a.conflict_message)]
            found += [m for k in resolution.score.keys if (m := k.reason_message)]
    book = store.codebook(db)
    for protocol in store.get_protocols(db):
        found += [m for k in protection_score(book, protocol).keys if (m := k.reason_message)]
    found += [note.text_message for note in check_287g(db)[1] if note.text_message]
    for place in ("us-fl-orange-county", "us-tx-harris-county", "us-ga-cobb-county"):
        gaps = find_gaps(db, place).closed_off
        found += [m for g in gaps if g.closed_by and (m := g.closed_by.text_message)]
    compared = compare_protocols(db, CONDITIONAL)
    found += [m for r in compared.rows for c in r.cells if (m := c.strongest_reason_message)]
    for layer in ("score", "287g", "question:max_hold_hours", "question:detainer_response"):
        shown = county_map(db, layer, dt.date(2025, 8, 1))
        found += shown.notes
        found += [c.said for c in shown.classes if isinstance(c.said, Message)]
        found += [c.said for c in shown.counties[:50] if isinstance(c.said, Message)]
    return found


def _ids(said: Message | object) -> Iterator[str]:
    if isinstance(said, Message):
        yield said.msgid
        for value in said.params.values():
            yield from _ids(value)


def test_english_is_the_message_written_out() -> None:
    said = message(
        "%(what)s by %(by)s on %(date)s (%(points)s points, %(label)s, %(n)s)",
        what=message("superseded"),
        by=Names(("AB 4", "SB 54")),
        date=Day("2013-10-05"),
        points=Number(0.5),
        label=Label("48 hours", 48),
        n=3,
    )
    assert str(said) == "superseded by AB 4 and SB 54 on 2013-10-05 (0.5 points, 48 hours, 3)"
    assert i18n.say("en", said) == str(said)
    assert str(message("no placeholders, 100%")) == "no placeholders, 100%"


def test_spanish_translates_the_id_and_writes_each_parameter_in_its_words() -> None:
    said = message(
        "superseded by %(by)s on %(date)s: no longer in force",
        by=Names(("AB 4", "SB 54")),
        date=Day("2013-10-05"),
    )
    assert i18n.say("es", said) == (
        "sustituido por AB 4 y SB 54 el 5 de octubre de 2013: ya no está vigente"
    )
    score = message("%(label)s: a limit, but not zero (0.5 points)", label=Label("48 hours", 48))
    assert i18n.say("es", score) == "48 horas: un límite, pero no cero (0,5 puntos)"
    joined = message(CLAUSES, first=message("in force as amended"), then=message("expired"))
    assert i18n.say("es", joined) == "vigente con enmiendas; vencido"
    labels = Names((Label("Reimbursement required", True), Label("48 hours", 48)))
    assert str(labels) == "Reimbursement required and 48 hours"
    assert i18n.say("es", labels) == "Exige reembolso y 48 horas"
    assert i18n.say("es", "Plain text stays") == "Plain text stays"
    assert i18n.say("es", None) == ""


def test_every_message_kb_writes_is_translated(db: Session) -> None:
    """A sentence added to kb without `make i18n` and its Spanish fails here, not on a page."""
    said = _said(db)
    assert len(said) > 500
    ids = {msgid for m in said for msgid in _ids(m)}
    assert {"in force today (since %(date)s)", "in force from %(date)s"} <= ids
    assert {"ICE's list of %(date)s (%(file)s)", "%(score)s of 100"} <= ids
    # Only placeholders and punctuation ("%(first)s; %(then)s"): the same in Spanish.
    words = {i for i in ids if re.search(r"[A-Za-z]", re.sub(r"%\(\w+\)s", "", i))}
    assert CLAUSES not in words
    assert sorted(i for i in words if i18n.gettext("es", i) == i) == []


def test_the_english_fields_still_say_what_the_messages_say(db: Session) -> None:
    """The JSON API publishes `reason` and `conflict` in English: the messages' own English."""
    resolution = resolve(db, "us-ca-santa-clara-county")
    conflicts = [a for a in resolution.answers if a.conflict]
    assert conflicts
    for a in conflicts:
        assert a.conflict == str(a.conflict_message)
    assert all(law.reason == str(law.reason_message) for law in resolution.laws)
    for protocol in store.get_protocols(db)[:10]:
        for key in protection_score(store.codebook(db), protocol).keys:
            assert key.reason == str(key.reason_message)
    dumped = resolution.model_dump(mode="json")
    assert "conflict_message" not in dumped["answers"][0]
    assert "reason_message" not in dumped["laws"][0]
