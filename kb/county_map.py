"""The county map's data: every county's shape (from us-atlas, kb/data/) and its value on a layer —
the governing answer to a codebook question, the protection score of what governs, or the 287(g)
models in force — with the classes its legend names. Pages render it; nothing here draws."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from itertools import combinations

from sqlmodel import Session

from kb import models, store
from kb.codebook import INTEGER, TEXT, CodebookKey, Value, value_text
from kb.errors import InvalidParameter
from kb.message import N_, Day, Label, Message, Param, message
from kb.registry import AgreementFilter, list_agreements, list_captures
from kb.registry_models import SUPPORT_MODELS
from kb.registry_sheet import county_key
from kb.resolve import resolve_places

GEOMETRY = "us-counties-albers.json"
DEFAULT_LAYER = "question:detainer_response"
QUESTION = "question:"
SCORE = "score"
PRACTICE = "287g"
SCORE_BANDS = ((0, 0), (1, 24), (25, 49), (50, 74), (75, 100))
"""Score bands, lowest first; the legend lists them most protective first."""
MODEL_LABELS = {
    "jail_enforcement": N_("Jail enforcement"),
    "task_force": N_("Task force"),
    "warrant_service_officer": N_("Warrant service officer"),
}
MEMO = 32
"""Maps kept per process (least recently used dropped first): each is under 1 MB."""


@dataclass(frozen=True)
class Shapes:
    """The map's canvas and paths, already projected (Albers USA, 975 x 610)."""

    width: int
    height: int
    counties: dict[str, str]
    """FIPS code -> SVG path data."""
    states: str
    """Every state boundary, as one SVG path."""
    source: str


@lru_cache(maxsize=1)
def shapes() -> Shapes:
    data = json.loads((files("kb") / "data" / GEOMETRY).read_text(encoding="utf-8"))
    return Shapes(data["width"], data["height"], data["counties"], data["states"], data["source"])


@dataclass(frozen=True)
class MapClass:
    """One entry of the legend: its words and how many counties it holds."""

    index: int
    label: str
    count: int
    said: Param | None = None
    """`label` as a message (kb.message), for pages in any language."""


@dataclass(frozen=True)
class MapCounty:
    fips: str
    jurisdiction_id: str
    name: str
    state: str
    """USPS code."""
    value: str
    """The value in words, as the map's link and the table say it."""
    index: int
    """Its class in the legend."""
    detail: str = ""
    """What sets it: the governing law, or the agencies with agreements."""
    said: Param | None = None
    """`value` as a message (kb.message), for pages in any language."""


@dataclass(frozen=True)
class CountyMap:
    layer: str
    title: str
    as_of: dt.date
    classes: list[MapClass]
    counties: list[MapCounty]
    """In the order a reader tabs through them: by name, which begins with the county."""
    notes: list[Message]
    """Notes under the map, as messages (`str()` of each is its English)."""
    ordered: bool
    """Whether the classes run from most to least protective (a codebook order)."""
    statewide: list[str] = field(default_factory=list)
    """287(g): agreements of state agencies, which no county shape stands for."""
    unplaced: int = 0
    """287(g): agreements of local agencies that could not be placed on a county."""

    @property
    def undrawn(self) -> list[MapCounty]:
        """Places too small for the map's scale (Lexington city, Virginia): the table has them."""
        paths = shapes().counties
        return [c for c in self.counties if c.fips not in paths]


def layers(db: Session) -> list[tuple[str, str]]:
    """Every layer the map draws: (parameter value, its name in words)."""
    book = store.codebook(db)
    found = [(QUESTION + s.key, s.question) for s in book if s.type != TEXT]
    return [
        *found,
        (SCORE, N_("Protection score of the rules that govern")),
        (PRACTICE, N_("287(g) agreements in force (ICE's lists)")),
    ]


def parse_on(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise InvalidParameter(
            f"{shown!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-07-18", field="on"
        ) from None


_memo: OrderedDict[tuple[object, ...], CountyMap] = OrderedDict()
_memo_lock = threading.Lock()


def county_map(db: Session, layer: str = DEFAULT_LAYER, on: dt.date | None = None) -> CountyMap:
    """Every county on `layer` on `on` (default today); InvalidParameter names a layer the map
    does not draw. Kept per build, registry state, layer and date."""
    known = dict(layers(db))
    if layer not in known:
        shown = layer if len(layer) <= 60 else layer[:60] + "…"
        raise InvalidParameter(
            f"unknown layer {shown!r}: choose score, 287g or question:<codebook key> "
            "such as question:detainer_response",
            field="layer",
        )
    day = on or dt.date.today()
    info = store.build_info(db)
    url = db.get_bind().engine.url.render_as_string(hide_password=True)
    key = (url, info.version, info.registry_at, layer, day)
    with _memo_lock:
        found = _memo.get(key)
        if found is not None:
            _memo.move_to_end(key)
            return found
    made = _practice(db, day) if layer == PRACTICE else _policy(db, layer, known[layer], day)
    with _memo_lock:
        _memo[key] = made
        while len(_memo) > MEMO:
            _memo.popitem(last=False)
    return made


def places(db: Session) -> dict[str, models.JurisdictionPublic]:
    """Every county and county-equivalent of the gazetteer by FIPS code, with D.C. (the district
    itself) as its one county-equivalent, 11001: the places the map and its table show. Kept per
    build: treat it as read-only."""

    def read() -> dict[str, models.JurisdictionPublic]:
        found: dict[str, models.JurisdictionPublic] = {}
        for place in store.list_jurisdictions(db):
            if place.fips and len(place.fips) == 5:
                found[place.fips] = place
            elif place.fips and place.level == "district":
                found[place.fips + "001"] = place
        return dict(sorted(found.items()))

    return store.per_build(db, "county map places", read)


@dataclass(frozen=True)
class _Lookup:
    """How an agreement finds its county: by the place it is matched to, or by ICE's county."""

    by_id: dict[str, str]
    by_name: dict[tuple[str, str | None], str]
    jurisdictions: dict[str, models.JurisdictionPublic]


def _lookup(db: Session) -> _Lookup:
    def read() -> _Lookup:
        where = places(db)
        return _Lookup(
            by_id={p.id: fips for fips, p in where.items()},
            by_name={
                (p.state, county_key(p.name.rsplit(", ", 1)[0])): fips
                for fips, p in where.items()
                if p.level != "district"
            },
            jurisdictions={j.id: j for j in store.list_jurisdictions(db)},
        )

    return store.per_build(db, "county map lookup", read)


def _ordered(counties: list[MapCounty]) -> list[MapCounty]:
    return sorted(counties, key=lambda c: (c.name.casefold(), c.fips))


def _classes(labels: list[Param], counties: list[MapCounty]) -> list[MapClass]:
    counts = Counter(c.index for c in counties)
    return [MapClass(i, str(label), counts[i], label) for i, label in enumerate(labels)]


def _question_values(spec: CodebookKey, present: set[Value]) -> list[Value]:
    """The legend's values, most protective first, "not addressed" last."""
    if spec.type == INTEGER:
        numbers = sorted(v for v in present if isinstance(v, int))
        return [*numbers, None]
    return list(spec.values)


def _policy(db: Session, layer: str, title: str, day: dt.date) -> CountyMap:
    where = places(db)
    resolved = resolve_places(db, sorted({p.id for p in where.values()}), day)
    counties: list[MapCounty] = []
    if layer == SCORE:
        labels: list[Param] = [
            message(NO_QUESTION) if low == high == 0 else message(BAND, low=low, high=high)
            for low, high in reversed(SCORE_BANDS)
        ]
        for fips, place in where.items():
            score = resolved[place.id][1].score
            band = next(i for i, (lo, hi) in enumerate(reversed(SCORE_BANDS)) if lo <= score <= hi)
            said = message(SCORE_OF, score=score)
            counties.append(
                MapCounty(fips, place.id, place.name, place.state, str(said), band, said=said)
            )
        return CountyMap(
            layer, title, day, _classes(labels, counties), _ordered(counties),
            [message(SCORE_NOTE)], ordered=True,
        )  # fmt: skip
    spec = store.codebook(db)[layer.removeprefix(QUESTION)]
    answers = {
        jid: next(a for a in found[0] if a.key == spec.key) for jid, found in resolved.items()
    }
    values = _question_values(spec, {a.value for a in answers.values()})
    index = {value_text(v): i for i, v in enumerate(values)}
    for fips, place in where.items():
        answer = answers[place.id]
        governing = answer.rules[0] if answer.rules and answer.rules[0].role == "governs" else None
        detail = f"{governing.title} ({governing.jurisdiction_name})" if governing else ""
        counties.append(
            MapCounty(
                fips,
                place.id,
                place.name,
                place.state,
                answer.label,
                index[value_text(answer.value)],
                detail,
                said=Label(answer.label, answer.value),
            )
        )
    legend: list[Param] = [Label(spec.label(v), v) for v in values]
    return CountyMap(
        layer, title, day, _classes(legend, counties), _ordered(counties),
        [message(QUESTION_NOTE)], ordered=True,
    )  # fmt: skip


SCORE_OF = N_("%(score)s of 100")
BAND = N_("%(low)s to %(high)s")
NO_QUESTION = N_("No question addressed (0)")
SCORE_NOTE = N_(
    "The score counts the rules that govern each place on that date (docs/scoring.md): "
    "it scores the written rules, not how they are applied."
)
QUESTION_NOTE = N_(
    "Each county shows the answer that governs it: its own rule, or the state law or court "
    "order above it (docs/layers.md)."
)
NO_AGREEMENT = N_("No agreement")
BOTH = N_("%(first)s + %(then)s")
CAPTURED = N_(
    "From ICE's list of participating agencies as captured on %(captured)s, the last capture "
    "on or before %(on)s; an agreement counts until the first capture that no longer shows it "
    "(docs/registry.md). An agreement is placed on the county its agency serves."
)
NOT_CAPTURED = N_(
    "No capture of ICE's list was made on or before %(on)s (the first is of %(first)s): "
    "agreements listed later are shown from their signing date; an agreement counts until the "
    "first capture that no longer shows it (docs/registry.md). An agreement is placed on the "
    "county its agency serves."
)
NO_DATE_YET = N_("no date yet")
UNPLACED = N_(
    "%(n)s agreement(s) of local agencies could not be placed on a county (ICE's sheet names no "
    "county, or one the gazetteer does not hold)."
)
"""The map's words: legend values, and the notes under it."""


def _models(present: tuple[str, ...]) -> Message:
    """The models of a county's agreements, "Jail enforcement + Task force"."""
    said = message(MODEL_LABELS[present[0]])
    for model in present[1:]:
        said = message(BOTH, first=said, then=message(MODEL_LABELS[model]))
    return said


def _model_sets() -> list[tuple[str, ...]]:
    """Every combination of the three models, the single ones first."""
    return [c for n in range(1, len(SUPPORT_MODELS) + 1) for c in combinations(SUPPORT_MODELS, n)]


def _practice(db: Session, day: dt.date) -> CountyMap:
    """The models of every agreement on ICE's participating list on `day`, per county. An
    agreement is placed by the place it is matched to (a county, or a city's county); failing
    that, by the county ICE's sheet names, within its state. State agencies are listed apart."""
    where = places(db)
    lookup = _lookup(db)
    by_id, by_name, jurisdictions = lookup.by_id, lookup.by_name, lookup.jurisdictions
    models_in: dict[str, set[str]] = {}
    agencies: dict[str, list[str]] = {}
    statewide: list[str] = []
    unplaced = 0
    for a in list_agreements(db, AgreementFilter(active_on=day)):
        # The registry's match (kb.registry_match) names the county by FIPS when it could.
        fips = a.county_fips if a.county_fips in where else None
        if fips is None and a.jurisdiction_id is not None:
            place = jurisdictions.get(a.jurisdiction_id)
            fips = by_id.get(a.jurisdiction_id)
            if fips is None and place is not None and place.parent_id is not None:
                fips = by_id.get(place.parent_id)
        if fips is None and a.agency_type == "state_agency":
            statewide.append(f"{a.agency} ({a.state}, {MODEL_LABELS[a.model].lower()})")
            continue
        if fips is None and a.county:
            fips = by_name.get((a.state, county_key(" ".join(a.county.split()))))
        if fips is None:
            unplaced += 1
            continue
        models_in.setdefault(fips, set()).add(a.model)
        agencies.setdefault(fips, []).append(f"{a.agency} ({MODEL_LABELS[a.model].lower()})")
    sets = _model_sets()
    labels: list[Param] = [message(NO_AGREEMENT), *(_models(s) for s in sets)]
    counties: list[MapCounty] = []
    for fips, place in where.items():
        present = tuple(m for m in SUPPORT_MODELS if m in models_in.get(fips, set()))
        index = sets.index(present) + 1 if present else 0
        listed = sorted(set(agencies.get(fips, [])))
        counties.append(
            MapCounty(
                fips,
                place.id,
                place.name,
                place.state,
                str(labels[index]),
                index,
                "; ".join(listed),
                said=labels[index],
            )
        )
    captures = [c for c in list_captures(db) if c.list == "participating"]
    before = [c for c in captures if c.list_date <= day]
    on = Day(day.isoformat())
    if before:
        note = message(CAPTURED, captured=Day(before[-1].list_date.isoformat()), on=on)
    elif captures:
        note = message(NOT_CAPTURED, on=on, first=Day(captures[0].list_date.isoformat()))
    else:
        note = message(NOT_CAPTURED, on=on, first=message(NO_DATE_YET))
    notes = [note]
    if unplaced:
        notes.append(message(UNPLACED, n=unplaced))
    return CountyMap(
        PRACTICE,
        N_("287(g) agreements in force (ICE's lists)"),
        day,
        _classes(labels, counties),
        _ordered(counties),
        notes,
        ordered=False,
        statewide=sorted(statewide),
        unplaced=unplaced,
    )
