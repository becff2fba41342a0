"""The at-a-glance matrix: every protocol (filtered) against the main codebook questions."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session

from kb import store
from kb.codebook import TEXT
from kb.compare import ComparedProtocol
from kb.errors import KBError
from kb.score import protection_score

MAIN_KEYS = {
    "detainer_response": "Detainer holds",
    "reimbursement_required": "Reimbursement",
    "offense_threshold": "Criminal history",
    "max_hold_hours": "Longest hold",
    "juvenile_holds": "Juveniles",
    "ice_facility_access": "ICE in the jail",
    "release_info_sharing": "Release dates to ICE",
    "status_inquiry": "Status questions",
    "program_287g": "287(g)",
}
"""The questions an advocate asks first, with a column heading each; every other key is on the
protocol and compare pages."""


class OverviewCell(BaseModel):
    key: str
    value: str | int | bool | None
    label: str
    strongest: bool
    """True when no protocol in the whole knowledge base answers this key more protectively."""
    provision_id: str | None
    """The first provision supporting the answer (None when the protocol is silent)."""


class OverviewRow(BaseModel):
    protocol: ComparedProtocol
    level: str
    state: str | None
    cells: list[OverviewCell]
    score: int
    """The protection score (kb.score): 0 to 100, from the codebook's order."""


class OverviewColumn(BaseModel):
    key: str
    heading: str
    question: str


class Overview(BaseModel):
    columns: list[OverviewColumn]
    rows: list[OverviewRow]
    levels: list[str]
    states: list[str]
    statuses: list[str]
    """The values the filters can take, from the whole knowledge base."""


def overview(
    db: Session,
    *,
    level: str | None = None,
    state: str | None = None,
    status: str | None = None,
    keys: tuple[str, ...] = tuple(MAIN_KEYS),
    sort: str = "jurisdiction",
) -> Overview:
    """Rows are protocols (by jurisdiction, then year); "strongest" is judged against every
    protocol in the knowledge base, not only the rows the filters leave."""
    book = store.codebook(db)
    keys = tuple(k for k in keys if k in book and book[k].type != TEXT)
    jurisdictions = {j.id: j for j in store.list_jurisdictions(db)}
    protocols = store.get_protocols(db)
    levels = sorted({j.level for j in jurisdictions.values()})
    states = sorted({j.state for j in jurisdictions.values() if j.state})
    statuses = sorted({p.status for p in protocols})
    for name, value, allowed in (
        ("sort", sort, ["jurisdiction", "score"]),
        ("level", level, levels),
        ("state", state, states),
        ("status", status, statuses),
    ):
        if value is not None and value not in allowed:
            raise KBError(f"unknown {name} {value!r}; choose one of: {', '.join(allowed)}")

    best: dict[str, int] = {}
    for protocol in protocols:
        for answer in protocol.coding:
            if answer.key in keys:
                rank = book[answer.key].rank(answer.value)
                if rank is not None:
                    best[answer.key] = min(rank, best.get(answer.key, rank))

    rows = []
    for protocol in protocols:
        place = jurisdictions[protocol.jurisdiction_id]
        if (level and place.level != level) or (state and place.state != state):
            continue
        if status and protocol.status != status:
            continue
        answers = {a.key: a for a in protocol.coding}
        cells = []
        for key in keys:
            coded = answers.get(key)
            rank = book[key].rank(coded.value) if coded else None
            cells.append(
                OverviewCell(
                    key=key,
                    value=coded.value if coded else None,
                    label=coded.label if coded else book[key].label(None),
                    strongest=rank is not None and rank == best.get(key),
                    provision_id=coded.provisions[0] if coded and coded.provisions else None,
                )
            )
        rows.append(
            OverviewRow(
                protocol=ComparedProtocol.of(protocol),
                level=place.level,
                state=place.state,
                cells=cells,
                score=protection_score(book, protocol).score,
            )
        )
    rows.sort(key=lambda r: (r.protocol.jurisdiction_name, r.protocol.year or 0, r.protocol.id))
    if sort == "score":
        rows.sort(key=lambda r: -r.score)  # stable: ties stay by jurisdiction and year
    return Overview(
        columns=[
            OverviewColumn(key=k, heading=MAIN_KEYS.get(k, k), question=book[k].question)
            for k in keys
        ],
        rows=rows,
        levels=levels,
        states=states,
        statuses=statuses,
    )
