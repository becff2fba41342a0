"""What changed between two versions of a law: provisions aligned, summaries redlined word by word."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session

from kb import models, store
from kb.codebook import value_text
from kb.compare import ComparedProtocol, ProvisionRef

SIMILAR_ENOUGH = 0.5
"""Provisions with different anchors and cites are paired when their words are this similar."""

_WORD = re.compile(r"\S+\s*")


class WordChange(BaseModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class ProvisionChange(BaseModel):
    status: Literal["added", "removed", "changed", "unchanged"]
    old: ProvisionRef | None = None
    new: ProvisionRef | None = None
    heading_changed: bool = False
    cite_changed: bool = Field(default=False, serialization_alias="citation_changed")
    redline: list[WordChange] = []
    """The summary, word by word: kept, inserted and deleted runs (empty unless changed)."""


class AnswerChange(BaseModel):
    key: str
    question: str
    old_value: str | int | bool | None
    old_label: str
    new_value: str | int | bool | None
    new_label: str
    old_note: str | None = None
    new_note: str | None = None


class VersionDiff(BaseModel):
    old: ComparedProtocol
    new: ComparedProtocol
    linked: bool
    """True when `new` follows `old` through successor links."""
    provisions: list[ProvisionChange]
    answers: list[AnswerChange]
    """Only the codebook answers whose value or note changed."""
    counts: dict[str, int]


def diff_versions(db: Session, from_id: str, to_id: str) -> VersionDiff:
    old, new = store.get_protocols(db, [from_id, to_id])
    pairs = _align(old.provisions, new.provisions)
    changes = _in_reading_order(old.provisions, new.provisions, pairs)
    book = store.codebook(db)
    old_answers = {a.key: a for a in old.coding}
    answers = []
    for a in new.coding:
        before = old_answers.get(a.key)
        if before is None or (value_text(before.value), before.note) != (
            value_text(a.value),
            a.note,
        ):
            answers.append(
                AnswerChange(
                    key=a.key,
                    question=book[a.key].question,
                    old_value=before.value if before else None,
                    old_label=before.label if before else book[a.key].label(None),
                    new_value=a.value,
                    new_label=a.label,
                    old_note=before.note if before else None,
                    new_note=a.note,
                )
            )
    counts = {status: 0 for status in ("added", "removed", "changed", "unchanged")}
    for change in changes:
        counts[change.status] += 1
    return VersionDiff(
        old=ComparedProtocol.of(old),
        new=ComparedProtocol.of(new),
        linked=_follows(db, from_id, to_id),
        provisions=changes,
        answers=answers,
        counts=counts,
    )


def _follows(db: Session, from_id: str, to_id: str) -> bool:
    successors: dict[str, list[str]] = {}
    for predecessor, successor in store.protocol_links(db):
        successors.setdefault(predecessor, []).append(successor)
    seen, frontier = {from_id}, [from_id]
    while frontier:
        for nxt in successors.get(frontier.pop(), []):
            if nxt == to_id:
                return True
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return False


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _similarity(a: models.ProvisionPublic, b: models.ProvisionPublic) -> float:
    left, right = _words(f"{a.heading} {a.summary}"), _words(f"{b.heading} {b.summary}")
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()


def _align(old: list[models.ProvisionPublic], new: list[models.ProvisionPublic]) -> dict[int, int]:
    """new index -> old index: same anchor first, then same cite, then the most similar words."""
    pairs: dict[int, int] = {}
    for key in (lambda v: v.anchor, lambda v: v.cite.strip()):
        same: Callable[[models.ProvisionPublic], str] = key
        taken = set(pairs.values())
        for j, b in enumerate(new):
            if j in pairs:
                continue
            i = next((i for i, a in enumerate(old) if i not in taken and same(a) == same(b)), None)
            if i is not None:
                pairs[j] = i
                taken.add(i)
    candidates = sorted(
        (
            (_similarity(a, b), j, i)
            for j, b in enumerate(new)
            if j not in pairs
            for i, a in enumerate(old)
            if i not in pairs.values()
        ),
        reverse=True,
    )
    for score, j, i in candidates:
        if score >= SIMILAR_ENOUGH and j not in pairs and i not in pairs.values():
            pairs[j] = i
    return pairs


def _ref(v: models.ProvisionPublic) -> ProvisionRef:
    return ProvisionRef(id=v.id, cite=v.cite, heading=v.heading, summary=v.summary)


def _redline(old: str, new: str) -> list[WordChange]:
    left, right = _words(old), _words(new)
    out: list[WordChange] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, left, right, autojunk=False
    ).get_opcodes():
        if op == "equal":
            out.append(WordChange(op="equal", text="".join(left[i1:i2])))
            continue
        if i2 > i1:
            out.append(WordChange(op="delete", text="".join(left[i1:i2])))
        if j2 > j1:
            out.append(WordChange(op="insert", text="".join(right[j1:j2])))
    return out


def _in_reading_order(
    old: list[models.ProvisionPublic], new: list[models.ProvisionPublic], pairs: dict[int, int]
) -> list[ProvisionChange]:
    """The new version's order, each removed provision placed where it stood in the old one."""
    removed = [i for i in range(len(old)) if i not in pairs.values()]
    changes: list[ProvisionChange] = []

    def flush_removed(before: int) -> None:
        while removed and removed[0] < before:
            changes.append(ProvisionChange(status="removed", old=_ref(old[removed.pop(0)])))

    for j, b in enumerate(new):
        i = pairs.get(j)
        if i is None:
            changes.append(ProvisionChange(status="added", new=_ref(b)))
            continue
        flush_removed(i)
        a = old[i]
        same = (a.heading, a.cite, a.summary) == (b.heading, b.cite, b.summary)
        changes.append(
            ProvisionChange(
                status="unchanged" if same else "changed",
                old=_ref(a),
                new=_ref(b),
                heading_changed=a.heading != b.heading,
                cite_changed=a.cite != b.cite,
                redline=[] if a.summary == b.summary else _redline(a.summary, b.summary),
            )
        )
    flush_removed(len(old))
    return changes
