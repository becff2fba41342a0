"""Each protocol's status in plain words on a date ("in force today", "superseded by …"), by the
resolver's dating rule (kb.resolve), and the order pages list protocols in: in force first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, InstanceOf
from sqlmodel import Session

from kb import models, store
from kb.message import N_, Day, Message, Names, clauses, message
from kb.resolve import ENDS, NEVER_GOVERNS, STARTS, resolve

T = TypeVar("T")

IN_FORCE, NOT_YET, ENDED, NEVER = 0, 1, 2, 3
"""Standing, in the order pages list protocols: in force, not yet in force, ended, not (or not
recorded as) law."""

NEVER_WORDS = {
    "introduced": N_("introduced; not recorded as passed"),
    "passed": N_("passed; not recorded as signed or in force"),
    "vetoed": N_("vetoed: never took effect"),
}
"""Only a veto is final; for the others the record says no more than what is known."""
NEVER_DATED = {
    "introduced": N_("introduced on %(date)s; not recorded as passed"),
    "passed": N_("passed on %(date)s; not recorded as signed or in force"),
    "vetoed": N_("vetoed: never took effect (%(date)s)"),
}
"""The same words with the day it happened."""
ENDED_WORDS = {
    "superseded": N_("superseded on %(date)s: no longer in force"),
    "repealed": N_("repealed on %(date)s: no longer in force"),
    "struck_down": N_("struck down by a court on %(date)s: no longer in force"),
    "preempted": N_("preempted on %(date)s: no longer in force"),
    "expired": N_("expired (a temporary act that lapsed) on %(date)s: no longer in force"),
}
ENDED_BY_WORDS = {
    "superseded": N_("superseded by %(by)s on %(date)s: no longer in force"),
    "preempted": N_("preempted by %(by)s on %(date)s: no longer in force"),
}
"""The ends that name the law that brought them: its successors, or the laws that preempted it."""
UNDATED = N_("%(status)s; the date it took effect is not recorded")
NOT_YET_WORDS = N_("not yet in force (takes effect %(date)s)")
IN_FORCE_TODAY = N_("in force today (since %(date)s)")
IN_FORCE_ON = N_("in force on %(on)s (since %(date)s)")
AMENDED = N_("in force as amended")
AMENDED_ON = N_("in force as amended on %(date)s")
AMENDED_BY_ON = N_("in force as amended by %(by)s on %(date)s")
ENJOINED = N_("enjoined by %(case)s since %(date)s")
ENJOINED_IN_PART = N_("enjoined in part by %(case)s since %(date)s")


class StatusLine(BaseModel):
    """How one protocol stands on one date, for people."""

    protocol_id: str
    short_name: str
    title: str
    message: InstanceOf[Message]
    """"in force today (since 2018-01-01)", "superseded by … on 2019-10-01", "vetoed: …", as a
    message: pages write it in their language (api.i18n.say)."""
    standing: int
    """IN_FORCE, NOT_YET, ENDED or NEVER: pages list in-force protocols first."""
    enjoined: bool = False

    @property
    def text(self) -> str:
        """The status in English."""
        return str(self.message)

    @property
    def in_force(self) -> bool:
        return self.standing == IN_FORCE


def _day(text: str) -> dt.date:
    return models.PartialDate.of(text).date


def _started(dates: dict[str, str]) -> dt.date | None:
    key = next((k for k in STARTS if k in dates), None)
    return _day(dates[key]) if key else None


def _name(protocol: models.ProtocolSummary | None, fallback: str) -> str:
    return protocol.short_name if protocol is not None else fallback


def status_line(
    protocol: models.ProtocolPublic,
    on: dt.date,
    names: dict[str, models.ProtocolSummary],
    preempted_by: list[str] | None = None,
) -> StatusLine:
    """`protocol`'s standing on `on` in words. A law counts from its start date until its end
    date, as the resolver counts it (docs/layers.md); `names` gives its successors' short names,
    `preempted_by` the ids of the laws that preempted it."""
    dates = protocol.dates
    start_key = next((k for k in STARTS if k in dates), None)
    ended = sorted((_day(dates[k]), k) for k in ENDS if k in dates)
    successors = [_name(names.get(s), s) for s in protocol.successors]
    enjoined = _injunctions(protocol, on)
    standing: int
    text: Message
    if protocol.status in NEVER_GOVERNS:
        date = dates.get(protocol.status)
        text = (
            message(NEVER_DATED[protocol.status], date=Day(date))
            if date
            else message(NEVER_WORDS[protocol.status])
        )
        standing = NEVER
    elif ended and on >= ended[0][0]:
        key = ended[0][1]
        by: list[str] = []
        if key == "superseded":
            by = successors
        elif key == "preempted" and preempted_by:
            by = [_name(names.get(i), i) for i in preempted_by]
        when = Day(dates[key])
        text = (
            message(ENDED_BY_WORDS[key], by=Names(tuple(by)), date=when)
            if by
            else message(ENDED_WORDS[key], date=when)
        )
        standing = ENDED
    elif start_key is None:
        text = message(UNDATED, status=message(protocol.status.replace("_", " ")))
        standing = NOT_YET
    elif on < _day(dates[start_key]):
        text = message(NOT_YET_WORDS, date=Day(dates[start_key]))
        standing = NOT_YET
    else:
        since = Day(dates[start_key])
        if protocol.status == "amended" or "amended" in dates:
            when_amended = dates.get("amended")
            # A successor is named as the amending law only when it took effect that day.
            amending = [
                _name(names.get(s), s)
                for s in protocol.successors
                if when_amended and s in names and _started(names[s].dates) == _day(when_amended)
            ]
            if amending and when_amended:
                text = message(AMENDED_BY_ON, by=Names(tuple(amending)), date=Day(when_amended))
            elif when_amended:
                text = message(AMENDED_ON, date=Day(when_amended))
            else:
                text = message(AMENDED)
        elif on == dt.date.today():
            text = message(IN_FORCE_TODAY, date=since)
        else:
            text = message(IN_FORCE_ON, on=Day(on.isoformat()), date=since)
        standing = IN_FORCE
    if enjoined:
        text = clauses([text, *enjoined])
    return StatusLine(
        protocol_id=protocol.id,
        short_name=protocol.short_name,
        title=protocol.title,
        message=text,
        standing=standing,
        enjoined=bool(enjoined),
    )


def _injunctions(protocol: models.ProtocolPublic, on: dt.date) -> list[Message]:
    """'enjoined (in part) by <case> since <date>' for each injunction running on `on`."""
    running = []
    for case in protocol.litigation:
        if case.enjoined_from is None or on < _day(case.enjoined_from):
            continue
        if case.enjoined_until is not None and on >= _day(case.enjoined_until):
            continue
        words = ENJOINED_IN_PART if case.keys else ENJOINED
        running.append(message(words, case=case.case, date=Day(case.enjoined_from)))
    return running


def status_lines(db: Session, on: dt.date | None = None) -> dict[str, StatusLine]:
    """Every protocol's status line on `on` (default today), by protocol id; once per build
    and day."""
    day = on or dt.date.today()

    def read() -> dict[str, StatusLine]:
        names = {p.id: p for p in store.list_protocols(db)}
        return {
            p.id: status_line(p, day, names, _preempting(db, p, names))
            for p in store.get_protocols(db)
        }

    return store.per_build(db, f"status lines {day.isoformat()}", read)


def in_force_first(
    items: list[T], lines: dict[str, StatusLine], key: Callable[[T], str]
) -> list[T]:
    """`items` with those in force first and those that never became law last, otherwise in the
    order given."""
    return sorted(items, key=lambda item: lines[key(item)].standing)


def _preempting(
    db: Session, protocol: models.ProtocolPublic, names: dict[str, models.ProtocolSummary]
) -> list[str]:
    """The laws of a higher layer that bind the protocol's place and took effect on the day it
    was preempted (the resolver's laws there on that day); none when no such law is recorded."""
    if "preempted" not in protocol.dates:
        return []
    day = _day(protocol.dates["preempted"])
    laws = resolve(db, protocol.jurisdiction_id, day).laws
    return [
        law.protocol_id
        for law in laws
        if law.governs
        and law.jurisdiction_id != protocol.jurisdiction_id
        and law.protocol_id in names
        and _started(names[law.protocol_id].dates) == day
    ]
