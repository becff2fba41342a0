"""Names people type for places and laws ("King County", "Cook", "D.C.", "TRUST Act", "SB 54"),
read from the store at build time and found in queries by longest match."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from kb import models

MAX_NAME_WORDS = 6
_DOTS = re.compile(r"(?<=\w)\.(?=\w|\s|$)")
_SPLIT = re.compile(r"[^a-z0-9]+")
_LETTERS_DIGITS = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_COUNTY_WORDS = re.compile(r"\s+(county|parish|borough|city and borough|census area)$")
_ACT = re.compile(r"(?:[A-Z][\w'\u2019-]*\s+(?:(?:and|of|for|from|in|not|on|the|our)\s+)*)+Act\b")
_BILL = re.compile(r"^(?:[A-Z][A-Za-z.]*\s*(?:Law\s+)?)?\d+(?:[-.]\w+)*$")

Entry = tuple[str, str, float]
"""(facet, value, weight): the records of a jurisdiction, a state or a protocol."""
NAME_WEIGHT = 1.0
LAW_WEIGHT = 2.5
"""A law's own name ("TRUST Act", "SB 54") says more about what is wanted than a place's."""
PARENT_WEIGHT = 0.5
"""A county's name also points, weighing half, at its state's own laws (they apply there)."""


SPANISH_STATE_NAMES = {
    "NY": ("Nueva York",),
    "NJ": ("Nueva Jersey",),
    "NM": ("Nuevo México",),
    "NC": ("Carolina del Norte",),
    "SC": ("Carolina del Sur",),
    "LA": ("Luisiana",),
    "MS": ("Misisipi", "Misisipí"),
    "PA": ("Pensilvania",),
    "DC": ("Distrito de Columbia",),
    "HI": ("Hawái",),
}
"""How Spanish speakers write the states whose names differ in Spanish (the others, Texas,
Florida, Oregón, match without accents)."""


@lru_cache(maxsize=65_536)
def normalize(text: str) -> str:
    """Lowercase, accents off, dots of abbreviations dropped (D.C. -> dc), letters and digits
    apart (SB54 -> sb 54), every other mark a space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _DOTS.sub("", text)
    text = _LETTERS_DIGITS.sub(" ", text)
    return " ".join(_SPLIT.split(text)).strip()


def name_table(
    jurisdictions: Iterable[models.JurisdictionPublic],
    protocols: Iterable[tuple[str, str, str]],
    with_records: set[str],
) -> dict[str, list[Entry]]:
    """Every name's entries. `protocols` are (id, short name, jurisdiction name); a bare county
    name ("Cook") only counts for counties that have records (`with_records`), since many
    county names are also plain words."""
    table: dict[str, list[Entry]] = {}

    def add(name: str, entry: Entry) -> None:
        key = normalize(name)
        if key and entry not in table.setdefault(key, []):
            table[key].append(entry)

    states = {}
    places = list(jurisdictions)
    for place in places:
        if place.level in ("state", "district"):
            states[place.state] = place.id
    for place in places:
        if place.level in ("state", "district"):
            add(place.name, ("state", place.state, NAME_WEIGHT))
            for spanish in SPANISH_STATE_NAMES.get(place.state, ()):
                add(spanish, ("state", place.state, NAME_WEIGHT))
            if place.state == "DC":
                for alias in ("D.C.", "Washington D.C.", "Washington, DC"):
                    add(alias, ("state", place.state, NAME_WEIGHT))
            continue
        own = ("jurisdiction", place.id, NAME_WEIGHT)
        parent = states.get(place.state)
        entries = [own] + ([("jurisdiction", parent, PARENT_WEIGHT)] if parent else [])
        local = place.name.split(",")[0]  # "King County, Washington" is also "King County"
        for entry in entries:
            add(place.name, entry)
            add(local, entry)
            bare = _COUNTY_WORDS.sub("", normalize(local))
            if place.id in with_records and bare != normalize(local):
                add(bare, entry)
    for protocol_id, short_name, jurisdiction_name in protocols:
        entry = ("protocol_id", protocol_id, LAW_WEIGHT)
        # The bill numbers are in the last parentheses: "Texas 287(g) mandate (SB 8, 2025)".
        lead, inside = short_name, ""
        if short_name.endswith(")"):
            lead, _, inside = short_name.rpartition("(")
        for act in _ACT.findall(lead):
            add(act, entry)
            if act.startswith(jurisdiction_name + " "):  # "Illinois TRUST Act" is also "TRUST Act"
                add(act[len(jurisdiction_name) :], entry)
        for piece in inside.rstrip(")").split(","):
            piece = piece.strip()
            if _BILL.match(piece) and not re.fullmatch(r"\d{4}", piece):
                add(piece, entry)
    return table


def find_names(words: list[str], table: dict[str, list[Entry]]) -> list[tuple[int, int]]:
    """(start, end) spans of `words` that are names, longest first, left to right."""
    keys = [normalize(w) for w in words]
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(words):
        for end in range(min(len(words), start + MAX_NAME_WORDS), start, -1):
            key = " ".join(k for k in keys[start:end] if k)
            if key and key in table:
                spans.append((start, end))
                start = end
                break
        else:
            start += 1
    return spans
