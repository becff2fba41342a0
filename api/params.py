"""Query parameters more than one route takes, declared once so that their validation (and the
OpenAPI document) cannot drift apart. Each route still says in its own words what the filter
selects, since a state's feed and a state's agreements are not the same thing."""

from __future__ import annotations

from typing import Any

from fastapi import Query

STATE_PATTERN = "^[A-Za-z]{2}$"
JURISDICTION_PATTERN = "^[a-z0-9-]+$"


def state_query(example: str) -> Any:
    """`state`: a two-letter USPS code in any case (the route upper-cases it)."""
    return Query(
        description="two-letter USPS code (any case)", pattern=STATE_PATTERN, examples=[example]
    )


def jurisdiction_query(description: str) -> Any:
    """`jurisdiction`: a gazetteer id (`us-fl-miami-dade-county`); `description` says what it
    selects on this route."""
    return Query(
        description=description,
        pattern=JURISDICTION_PATTERN,
        max_length=200,
        examples=["us-fl-miami-dade-county"],
    )
