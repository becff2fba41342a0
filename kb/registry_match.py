"""Tying each 287(g) agency to the gazetteer: its county (by FIPS), its city or state, with a confidence."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kb.errors import KBError
from kb.fields import Report
from kb.gazetteer import GAZETTEER, read_gazetteer
from kb.records import JurisdictionRecord
from kb.registry_models import MatchConfidence as Confidence
from kb.yamltext import YamlSyntaxError, load_yaml

CONFIDENCES: tuple[Confidence, ...] = ("exact", "rule", "override", "unmatched")
OVERRIDES = Path("287g-overrides.csv")
OVERRIDE_COLUMNS = ["state", "agency", "jurisdiction_id", "reason"]

_TYPE_WORDS = (
    "city and borough", "census area", "municipality", "borough", "parish", "county", "city",
)  # fmt: skip
_AGENCY_WORDS = re.compile(
    r"\b(?:county\s+)?(?:sheriff'?s?\s+(?:office|department|dept\.?)|sheriff|"
    r"jail|detention\s+(?:center|facility)|correctional\s+(?:center|facility)|"
    r"department\s+of\s+corrections?|corrections?(?:\s+department)?|adult\s+detention\s+center|"
    r"district\s+attorney'?s?\s+office|constable.*|marshal'?s?\s+office)\b.*$",
    re.I,
)


class OverrideError(KBError):
    """A line of protocols/287g-overrides.csv that cannot be used; nothing is imported."""

    exit_code = 1


@dataclass(frozen=True)
class Match:
    """Where an agency sits: `jurisdiction_id` is the most precise place the gazetteer holds (its
    city when listed, else its county; its state for a state agency)."""

    jurisdiction_id: str | None
    county_fips: str | None
    confidence: Confidence
    note: str


@dataclass(frozen=True)
class Agency:
    state: str
    agency: str
    agency_type: str | None
    county: str | None


def place_key(name: str) -> str:
    """A county's name as rows and the gazetteer both spell it: no accents, case, full stops,
    apostrophes or type word ("County", "Parish"…), "Saint" as "st"."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = re.sub(r"[.'\u2019]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    for word in _TYPE_WORDS:
        if text.endswith(" " + word):
            text = text[: -len(word) - 1]
            break
    text = re.sub(r"^saint\b", "st", text)
    text = re.sub(r"^ste\b", "ste", text)
    return text.replace(" ", "")


class Gazetteer:
    """The places an agency can be tied to, read from the content folder (protocols/)."""

    def __init__(
        self, gazetteer: Iterable[JurisdictionRecord], listed: Iterable[JurisdictionRecord] = ()
    ) -> None:
        self.by_id: dict[str, JurisdictionRecord] = {}
        self.counties: dict[tuple[str, str], list[JurisdictionRecord]] = {}
        self.states: dict[str, JurisdictionRecord] = {}
        self.cities: dict[tuple[str, str], JurisdictionRecord] = {}
        for r in gazetteer:  # the gazetteer's bare names ("Harris County"), not the listed ones
            self.by_id[r.id] = r
            if r.level in ("state", "district"):
                self.states.setdefault(r.state, r)
            if r.level != "state":
                bare = r.name.split(",")[0]  # "Harris County, Texas"
                self.counties.setdefault((r.state, place_key(bare)), []).append(r)
        for r in listed:  # jurisdictions.yaml: the cities it adds (New York City)
            if r.id in self.by_id:
                continue
            self.by_id[r.id] = r
            if r.level == "city":
                name = re.split(r"[,(]", r.name)[0]
                self.cities[(r.state, place_key(name))] = r

    def county(self, state: str, name: str) -> JurisdictionRecord | None:
        found = self.counties.get((state, place_key(name)), [])
        if len(found) > 1:  # Virginia: Richmond County and Richmond city; "County" decides
            wanted = " city," if name.casefold().endswith(" city") else " county,"
            found = [r for r in found if wanted in r.name.casefold()] or found[:1]
        return found[0] if found else None


def read_places(protocols_dir: Path) -> Gazetteer:
    """The gazetteer's states and counties, and the cities jurisdictions.yaml adds."""
    problems: list[str] = []

    def report(path: Path) -> Report:
        def add(line: int, message: str) -> None:
            problems.append(f"{path}:{line}: {message}")

        return add

    path = protocols_dir / GAZETTEER
    records = read_gazetteer(path.read_text("utf-8"), report(path)) if path.exists() else []
    by_id = {r.id: r for r in records}
    extra: list[JurisdictionRecord] = []
    listed = protocols_dir / "jurisdictions.yaml"
    if listed.exists():
        try:
            data = load_yaml(listed.read_text("utf-8")).data
        except YamlSyntaxError:
            data = None  # `kb validate` reports it; matching then uses the gazetteer alone
        items = data.get("jurisdictions", []) if isinstance(data, dict) else []
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            if item["id"] not in by_id:
                extra.append(
                    JurisdictionRecord(
                        item["id"], str(item.get("name", "")), str(item.get("level", "")),
                        str(item.get("state", "")), item.get("parent"), None, 0,
                    )
                )  # fmt: skip
    if problems:
        raise OverrideError("the gazetteer cannot be read: " + "; ".join(problems[:3]))
    return Gazetteer(records, extra)


def read_overrides(protocols_dir: Path, places: Gazetteer) -> dict[tuple[str, str], Match]:
    """protocols/287g-overrides.csv: `state,agency,jurisdiction_id,reason`, lines starting with
    # are comments; an empty jurisdiction_id records that the agency is left unmatched on purpose.
    Any bad line is an error naming path:line."""
    path = protocols_dir / OVERRIDES
    if not path.exists():
        return {}
    lines = [
        (n, line)
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines or next(csv.reader([lines[0][1]])) != OVERRIDE_COLUMNS:
        where = lines[0][0] if lines else 1
        raise OverrideError(f"{path}:{where}: the first line must be {','.join(OVERRIDE_COLUMNS)}")
    found: dict[tuple[str, str], Match] = {}
    for n, line in lines[1:]:
        row = next(csv.reader([line]))
        if len(row) != len(OVERRIDE_COLUMNS):
            raise OverrideError(f"{path}:{n}: expected 4 columns, found {len(row)}")
        state, agency, jid, reason = (cell.strip() for cell in row)
        if state.upper() not in places.states:
            raise OverrideError(f"{path}:{n}: unknown state {state!r}")
        if not agency or not reason:
            raise OverrideError(f"{path}:{n}: the agency and the reason are required")
        place = places.by_id.get(jid) if jid else None
        if jid and place is None:
            raise OverrideError(f"{path}:{n}: {jid!r} is not in the gazetteer")
        fips = place.fips if place is not None and place.fips and len(place.fips) == 5 else None
        if place is not None and fips is None and place.parent in places.by_id:
            parent = places.by_id[place.parent]
            fips = parent.fips if parent.fips and len(parent.fips) == 5 else None
        found[(state.upper(), agency_key(agency))] = Match(
            jid or None, fips, "override" if jid else "unmatched", reason
        )
    return found


def agency_key(agency: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", agency.casefold().replace("'", "")).strip()


def county_from_agency(agency: str) -> str | None:
    """'Collier County Sheriff's Office' → 'Collier'; None when the name names no county."""
    stripped = _AGENCY_WORDS.sub("", agency).strip(" ,-")
    if stripped == agency.strip() or not stripped:
        return None
    return stripped


def _fips(record: JurisdictionRecord) -> str | None:
    return record.fips if record.fips and len(record.fips) == 5 else None


def match_agency(
    agency: Agency, places: Gazetteer, overrides: dict[tuple[str, str], Match]
) -> Match:
    """The rules, in order (docs/registry.md, "Matching"): an override; a state agency to its
    state; ICE's COUNTY cell to a county of the row's state (exact); for a sheriff, jail or
    county agency without it, the county its name names (rule); a city that jurisdictions.yaml
    lists, by the police department's name (rule)."""
    override = overrides.get((agency.state, agency_key(agency.agency)))
    if override is not None:
        return override
    state = places.states.get(agency.state)
    named = places.county(agency.state, agency.county) if agency.county else None
    if agency.agency_type == "state_agency":
        if state is None:
            return Match(None, None, "unmatched", f"state {agency.state} is not in the gazetteer")
        return Match(
            state.id, _fips(named) if named else None, "exact", "a state agency: its state"
        )
    if named is not None:
        city = _city(agency, places) if agency.agency_type == "municipality" else None
        if city is not None and city.parent == named.id:
            return Match(
                city.id, _fips(named), "rule", "ICE's county; the city by the agency's name"
            )
        return Match(named.id, _fips(named), "exact", "ICE's COUNTY cell")
    if agency.agency_type != "municipality":
        from_name = county_from_agency(agency.agency)
        found = places.county(agency.state, from_name) if from_name else None
        if found is not None:
            why = "the county the agency's name names"
            if agency.county:
                why += f" (ICE's COUNTY cell, {agency.county!r}, names none)"
            return Match(found.id, _fips(found), "rule", why)
    city = _city(agency, places)
    if city is not None:
        parent = places.by_id.get(city.parent or "")
        fips = _fips(city) or (_fips(parent) if parent else None)
        return Match(city.id, fips, "rule", "the city the agency's name names")
    if agency.county:
        return Match(None, None, "unmatched", f"no county {agency.county!r} in {agency.state}")
    return Match(None, None, "unmatched", "ICE gives no county and the name names none")


def _city(agency: Agency, places: Gazetteer) -> JurisdictionRecord | None:
    name = re.sub(r"\s+police(\s+department|\s+dept\.?)?.*$", "", agency.agency, flags=re.I)
    if name == agency.agency:
        return None
    return places.cities.get((agency.state, place_key(name)))
