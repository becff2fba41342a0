"""Each protocol's status in plain words on a date ("in force today", "superseded by …"), by the
resolver's dating rule (kb.resolve), and the order pages list protocols in: in force first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel
from sqlmodel import Session

from kb import models, store
from kb.resolve import ENDS, NEVER_GOVERNS, STARTS, resolve

T = TypeVar("T")

IN_FORCE, NOT_YET, ENDED, NEVER = 0, 1, 2, 3
"""Standing, in the order pages list protocols: in force, not yet in force, ended, not (or not
recorded as) law."""

NEVER_WORDS = {
    "introduced": "introduced; not recorded as passed",
    "passed": "passed; not recorded as signed or in force",
    "vetoed": "vetoed: never took effect",
}
"""Only a veto is final; for the others the record says no more than what is known."""
ENDED_WORDS = {
    "superseded": "superseded",
    "repealed": "repealed",
    "struck_down": "struck down by a court",
    "preempted": "preempted",
    "expired": "expired (a temporary act that lapsed)",
}


class StatusLine(BaseModel):
    """How one protocol stands on one date, for people."""

    protocol_id: str
    short_name: str
    title: str
    text: str
    """"in force today (since 2018-01-01)", "superseded by … on 2019-10-01", "vetoed: …"."""
    standing: int
    """T = TypeVar("T")

IN_FORCE, NOT_YET, ENDED or NEVER: pages list in-force protocols first."""
    enjoined: bool = False

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
    by = f" by {' and '.join(successors)}" if successors else ""
    enjoined = _injunctions(protocol, on)
    standing: int
    if protocol.status in NEVER_GOVERNS:
        date = dates.get(protocol.status)
        words = NEVER_WORDS.get(protocol.status, protocol.status.replace("_", " "))
        if date and protocol.status == "vetoed":
            words += f" ({date})"
        elif date:
            first, _, rest = words.partition(";")
            words = f"{first} on {date};{rest}"
        text = words
        standing = NEVER
    elif ended and on >= ended[0][0]:
        key = ended[0][1]
        words = ENDED_WORDS.get(key, key.replace("_", " ")) + (by if key == "superseded" else "")
        if key == "preempted" and preempted_by:
            words += " by " + " and ".join(_name(names.get(i), i) for i in preempted_by)
        text = f"{words} on {dates[key]}: no longer in force"
        standing = ENDED
    elif start_key is None:
        text = f"{protocol.status.replace('_', ' ')}; the date it took effect is not recorded"
        standing = NOT_YET
    elif on < _day(dates[start_key]):
        text = f"not yet in force (takes effect {dates[start_key]})"
        standing = NOT_YET
    else:
        since = dates[start_key]
        if protocol.status == "amended" or "amended" in dates:
            when = dates.get("amended")
            # A successor is named as the amending law only when it took effect that day.
            amending = [
                _name(names.get(s), s)
                for s in protocol.successors
                if when and s in names and _started(names[s].dates) == _day(when)
            ]
            text = "in force as amended" + (f" by {' and '.join(amending)}" if amending else "")
            text += f" on {when}" if when else ""
        else:
            text = f"{'in force today' if on == dt.date.today() else f'in force on {on}'} (since {since})"
        standing = IN_FORCE
    if enjoined:
        text += "; " + "; ".join(enjoined)
    return StatusLine(
        protocol_id=protocol.id,
        short_name=protocol.short_name,
        title=protocol.title,
        text=text,
        standing=standing,
        enjoined=bool(enjoined),
    )


def _injunctions(protocol: models.ProtocolPublic, on: dt.date) -> list[str]:
    """'enjoined (in part) by <case> since <date>' for each injunction running on `on`."""
    running = []
    for case in protocol.litigation:
        if case.enjoined_from is None or on < _day(case.enjoined_from):
            continue
        if case.enjoined_until is not None and on >= _day(case.enjoined_until):
            continue
        part = " in part" if case.keys else ""
        running.append(f"enjoined{part} by {case.case} since {case.enjoined_from}")
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
