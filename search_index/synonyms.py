"""Words that mean the same thing in these protocols, so a search finds the provision whichever
the drafters used. Kept short and specific: each entry was added because a real question missed
a provision that plainly answered it (tests/search/relevance.yaml)."""

from __future__ import annotations

# word as people type it -> other ways the protocols say it (words or short phrases)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "juvenile": ("minor", "youth", "under 18"),
    "juveniles": ("minors", "youth", "under 18"),
    "minor": ("juvenile", "youth", "under 18"),
    "minors": ("juveniles", "youth", "under 18"),
    "judicial": ("judge", "judge's"),
    "judge": ("judicial",),
    "notification": ("notice", "notify", "tell"),
    "notice": ("notification", "notify", "tell"),
    "notify": ("notice", "notification", "tell"),
    "reimbursement": ("reimburse", "pay", "paid", "costs"),
    "reimburse": ("reimbursement", "pay", "paid"),
    "inquiry": ("ask", "asking", "question"),
    "inquiries": ("ask", "asking", "questions"),
    "detainee": ("inmate", "prisoner", "person in custody"),
    "detainees": ("inmates", "prisoners", "people in custody"),
    "hold": ("detain",),
    "holds": ("detain",),
    "jail": ("detention facility", "correctional facility"),
    "undocumented": ("noncitizen", "immigrant"),
}
