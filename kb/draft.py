"""Drafting: a complete, numbered, cited model policy assembled from the project's model
language (docs/drafting.md). `draft_policy` decides what goes in; `kb.draft_render` writes it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from kb import models, store
from kb.codebook import TEXT, Codebook, value_from_text, value_text
from kb.errors import InvalidOptions, KBError, NotFound, summarised
from kb.preemption import Forbidden, forbidden_here
from kb.score import HOLD_CONDITIONS

STRONGEST, OMIT = "strongest", "omit"
MAX_NAME = 200
EFFECTIVE_BLANK = "________"
"""The one blank a draft leaves: the adopting body fills in the effective date."""

# The conditions on honoring a hold (kb.score.HOLD_CONDITIONS). Declining every hold makes them
# moot, so a draft that declines every hold leaves them out, except the two that restate
# "no holds" (docs/drafting.md).
SAME_AS_NO_HOLDS = {"offense_threshold": "no_holds", "max_hold_hours": "0"}

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Adopter(BaseModel):
    """The body that would adopt the draft."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME, examples=["Example County"])
    level: models.Level = Field(examples=["county"])
    jurisdiction_id: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        examples=["us-tx-harris-county"],
        description="The adopter's place in the gazetteer: clauses the laws above it forbid "
        "are left out, with the law and its penalties named (docs/drafting.md)",
    )

    @field_validator("name")
    @classmethod
    def plain_name(cls, name: str) -> str:
        name = " ".join(name.split())
        if not name or _CONTROL.search(name):
            raise ValueError("give the body's name as plain text")
        return name


class DraftOptions(BaseModel):
    """What to draft. Per codebook question: "strongest", "omit" or a level (its value, e.g.
    "judicial_warrant_only", "48", "true"). `start_from` and `pinned` set the starting choices;
    `choices` always win. Questions nobody chose take `default`."""

    model_config = ConfigDict(extra="forbid")  # a misspelt option is an error, not ignored

    adopter: Adopter
    choices: dict[str, str] = Field(
        default_factory=dict, examples=[{"detainer_response": "strongest"}]
    )
    start_from: str | None = Field(default=None, examples=["us-il-cook-county/ordinance-11-o-73"])
    strengthen: bool = False
    """With `start_from`: every question where the protocol is weaker than the strongest model
    (or silent) takes the strongest model instead."""
    pinned: list[str] = Field(default_factory=list, max_length=100)
    """Provision ids: each question they support takes the most protective value they support."""
    protocols: list[str] = Field(default_factory=list, max_length=6)
    """Protocol ids (a comparison): each question takes the most protective answer among them."""
    default: Literal["strongest", "omit"] | None = None
    """For questions not otherwise chosen; "strongest" unless `start_from` or `pinned` is given."""
    document: Literal["ordinance", "ask"] = "ordinance"
    """Which document: the full ordinance (or act), or the one-page ask addressed to the adopting
    body (kb.ask). Both are drafted from the same choices."""


class Choice(BaseModel):
    key: str
    model_id: str
    value: str | None
    why: str
    """Where the choice came from, in words (shown on the drafting page and in the notes)."""


class ChoiceNote(BaseModel):
    """What the draft did with one question, in plain words (codebook labels, never keys)."""

    key: str
    question: str
    outcome: Literal["drafted", "left_out", "not_chosen"]
    text: str


class DraftSection(BaseModel):
    number: int
    heading: str
    paragraphs: list[str]
    """Each a paragraph; endnote marks are written `[n]` at the end of the paragraph."""
    key: str | None = None
    model_id: str | None = None
    notes: list[int] = []


class Endnote(BaseModel):
    number: int
    text: str
    url: str | None = None
    """The official or published source of what the note cites."""
    provision_id: str | None = None
    """The provision cited, when the note cites one."""
    page: str | None = None
    """Its page on this site, as a path (/protocols/<protocol>#<anchor>)."""


class Draft(BaseModel):
    title: str
    adopter: Adopter
    instrument: str
    choices: list[Choice]
    resolved: list[str]
    """Options left out by the documented rules (contradictions, state law), in plain words."""
    explained: list[ChoiceNote] = []
    """Per question with model language, in codebook order: what the draft did with it and why."""
    sections: list[DraftSection]
    definitions: list[tuple[str, str]]
    endnotes: list[Endnote]
    drafting_notes: list[tuple[str, str]]
    """(section heading, note): legal context for the officials who will read the draft."""
    left_out_by_law: list[Forbidden] = []
    """Clauses left out because a law binding the adopter forbids them (adopter.jurisdiction_id)."""
    state_law: list[str] = []
    """The same, one sentence per law, shown first in every document (ordinance and ask)."""


def draft_policy(db: Session, options: DraftOptions) -> Draft:
    book = store.codebook(db)
    levels: dict[str, list[models.ModelProvisionBase]] = {}
    for model in store.model_provisions(db):
        levels.setdefault(model.key, []).append(model)
    if not levels:
        raise KBError("this knowledge base has no model language (protocols/models/)")
    chosen, wanted_before, resolved = _choose(db, book, levels, options)
    forbidden: list[Forbidden] = []
    if options.adopter.jurisdiction_id is not None:
        # The documented rule: a clause a higher layer forbids is left out, and said so.
        wanted = {key: choice.value for key, choice in chosen.items()}
        forbidden = forbidden_here(db, book, options.adopter.jurisdiction_id, wanted)
        for clause in forbidden:
            del chosen[clause.key]
            resolved[clause.key] = clause.text
        if any(c.key == "detainer_response" for c in forbidden):
            # The conditions were left out as moot beside "declines all holds", which state law
            # has now ruled out too: say so rather than claim the draft declines every hold.
            for key, text in resolved.items():
                resolved[key] = text.replace(
                    "the draft declines all holds, so",
                    "declining all holds was chosen (state law rules it out here), so",
                )
    draft = _assemble(db, book, options.adopter, chosen, list(resolved.values()))
    omitted = {k for k, v in options.choices.items() if v == OMIT}
    draft.explained = _explain(
        book, levels, chosen, wanted_before, resolved, draft.sections, omitted
    )
    draft.left_out_by_law = forbidden
    draft.state_law = _state_law(db, forbidden, levels)
    draft.drafting_notes += [(f"Left out: {c.question.rstrip('?')}", c.text) for c in forbidden]
    return draft


def _state_law(
    db: Session,
    forbidden: list[Forbidden],
    levels: dict[str, list[models.ModelProvisionBase]],
) -> list[str]:
    """Per law, one short sentence: what it requires or caps, on which subjects, and the kinds of
    penalty it sets. The full wording, with provision cites and amounts, is in the notes."""
    by_law: dict[str, list[Forbidden]] = {}
    for clause in forbidden:
        by_law.setdefault(clause.protocol_ids[0], []).append(clause)
    names = {p.id: p.short_name for p in store.get_protocols(db, list(by_law))}
    sentences = []
    for law, clauses in by_law.items():
        parts = [
            ("requires" if c.room == "must" else "allows no more than")
            + f" “{c.allowed_label}” on {levels[c.key][0].heading.lower()}"
            for c in clauses
        ]
        kinds = list(dict.fromkeys(p.kind.replace("_", " ") for c in clauses for p in c.penalties))
        sentence = f"{names[law]} " + "; ".join(parts) + "."
        if kinds:
            sentence += f" Penalties it sets: {', '.join(kinds)}."
        sentences.append(sentence)
    return sentences


def _named(text: str, limit: int = 60) -> str:
    """A name from the request, quoted and cut short: a message never echoes a huge input."""
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _fail(errors: list[tuple[str, str]]) -> None:
    if errors:
        detail, shown = summarised(errors)
        raise InvalidOptions(detail, errors=shown)


def _choose(
    db: Session,
    book: Codebook,
    levels: dict[str, list[models.ModelProvisionBase]],
    options: DraftOptions,
) -> tuple[dict[str, Choice], dict[str, Choice], dict[str, str]]:
    """The choices made, the same before contradictions were resolved, and per question left
    out by that rule why, in plain words."""
    errors = []
    for key, wanted in options.choices.items():
        where = "/choices/" + key.replace("~", "~0").replace("/", "~1")  # a JSON Pointer
        if key not in book or book[key].type == TEXT:
            errors.append(
                (where, f"unknown question {_named(key)}; questions are the codebook's keys")
            )
        elif wanted not in (STRONGEST, OMIT) and not any(
            m.value == wanted for m in levels.get(key, [])
        ):
            have = ", ".join(str(m.value) for m in levels.get(key, [])) or "none"
            errors.append(
                (
                    where,
                    f"{key}: no model provision at level {_named(wanted)}; levels: strongest, omit, {have}",
                )
            )
    _fail(errors)

    by_value = {(m.key, m.value): m for group in levels.values() for m in group}
    chosen: dict[str, Choice] = {}
    explicit = set()

    def take(key: str, model: models.ModelProvisionBase, why: str) -> None:
        chosen[key] = Choice(key=key, model_id=model.id, value=model.value, why=why)

    if options.start_from:
        (protocol,) = store.get_protocols(db, [options.start_from])
        answers = {a.key: value_text(a.value) for a in protocol.coding}
        for key, group in levels.items():
            here = by_value.get((key, answers.get(key)))
            strongest = group[0]
            spec = book[key]
            current = spec.rank(protocol_value(protocol, key))
            weaker = current is None or current > strongest.rank
            if options.strengthen and weaker:
                take(
                    key,
                    strongest,
                    f"strengthened from {protocol.title} ({spec.label(protocol_value(protocol, key))})",
                )
            elif here is not None:
                take(key, here, f"as in {protocol.title}")
    if options.pinned or options.protocols:
        # A compared protocol counts as every provision behind its coded answers, pinned.
        compared = store.get_protocols(db, options.protocols) if options.protocols else []
        supporting = [v for p in compared for a in p.coding for v in a.provisions]
        _choose_from_pins(db, book, by_value, options.pinned + supporting, take)
    derived = options.start_from or options.pinned or options.protocols
    default: str = options.default or (OMIT if derived else STRONGEST)
    for key, group in levels.items():
        if key in options.choices:
            wanted = options.choices[key]
            explicit.add(key)
            chosen.pop(key, None)
            if wanted == STRONGEST:
                take(key, group[0], "the most protective model")
            elif wanted != OMIT:
                take(key, by_value[(key, wanted)], "chosen level")
        elif key not in chosen and default == STRONGEST:
            take(key, group[0], "the most protective model (default)")
    before = dict(chosen)
    resolved = _resolve_conflicts(book, chosen, explicit)
    return chosen, before, resolved


def protocol_value(protocol: models.ProtocolPublic, key: str) -> str | int | bool | None:
    return next((a.value for a in protocol.coding if a.key == key), None)


def _choose_from_pins(
    db: Session,
    book: Codebook,
    by_value: dict[tuple[str, str | None], models.ModelProvisionBase],
    pinned: list[str],
    take: Callable[[str, models.ModelProvisionBase, str], None],
) -> None:
    wanted = set(pinned)
    holding = store.protocols_holding(db, pinned)
    unknown = [p for p in pinned if p not in holding]
    if unknown:
        raise NotFound(
            f"no provision with id {unknown[0]!r}", field=f"/pinned/{pinned.index(unknown[0])}"
        )
    protocols = list({p.id: p for p in holding.values()}.values())
    best: dict[str, tuple[int, models.ModelProvisionBase, str]] = {}
    for protocol in protocols:
        for answer in protocol.coding:
            if not wanted & set(answer.provisions):
                continue
            model = by_value.get((answer.key, value_text(answer.value)))
            rank = book[answer.key].rank(answer.value)
            if model is None or rank is None:
                continue
            if answer.key not in best or rank < best[answer.key][0]:
                best[answer.key] = (
                    rank,
                    model,
                    f"as in {protocol.jurisdiction_name}: {protocol.title}",
                )
    for key, (_, model, why) in best.items():
        take(key, model, why)


def _label(book: Codebook, choice: Choice) -> str:
    spec = book[choice.key]
    return spec.label(value_from_text(spec, choice.value))


def _resolve_conflicts(
    book: Codebook, chosen: dict[str, Choice], explicit: set[str]
) -> dict[str, str]:
    """The documented rule (docs/drafting.md). Declining every hold makes the conditions for a
    hold moot, and honoring holds in some cases contradicts "no holds" and a zero-hour limit.
    When both sides were chosen explicitly the draft is refused, naming both; otherwise the side
    that was not chosen explicitly is left out, and the draft says so: per question left out,
    why, in plain words."""
    detainer = chosen.get("detainer_response")
    if detainer is None:
        return {}
    if detainer.value == "declines_all":
        clashing = [
            k for k in HOLD_CONDITIONS if k in chosen and SAME_AS_NO_HOLDS.get(k) != chosen[k].value
        ]
        why = "(a condition for honoring a hold)"
    else:
        clashing = [
            k for k, never in SAME_AS_NO_HOLDS.items() if k in chosen and chosen[k].value == never
        ]
        why = "(never any hold)"
    chosen_clash = [k for k in clashing if k in explicit]
    if chosen_clash and "detainer_response" in explicit:
        errors = [
            (
                f"/choices/{k}",
                f"detainer_response {detainer.value!r} conflicts with {k} {chosen[k].value!r} "
                f"{why}; choose one",
            )
            for k in chosen_clash
        ]
        raise InvalidOptions(
            "; ".join(detail for _, detail in errors),
            errors=[("/choices/detainer_response", errors[0][1]), *errors],
        )
    holds = f"“{_label(book, detainer)}”"
    if chosen_clash:  # the explicit choice wins over the derived detainer answer
        del chosen["detainer_response"]
        picked = " and ".join(f"“{_label(book, chosen[k])}”" for k in chosen_clash)
        clash = (
            "a condition for honoring holds"
            if detainer.value == "declines_all"
            else "which rules out every hold"
        )
        return {
            "detainer_response": f"{_origin(detainer)}, {holds}, is left out: you chose "
            f"{picked}, {clash}."
        }
    resolved = {}
    if detainer.value == "declines_all":
        # Conditions that merely restate "no holds" stay only when chosen explicitly: shorter.
        clashing += [
            k for k in SAME_AS_NO_HOLDS if k in chosen and k not in explicit and k not in clashing
        ]
    for key in clashing:
        choice = chosen.pop(key)
        if detainer.value == "declines_all":
            needed = (
                "no limit is needed"
                if key in ("max_hold_hours", "conviction_lookback_years")
                else "no condition for a hold is needed"
            )
            resolved[key] = (
                f"{_origin(choice)}, “{_label(book, choice)}”, is left out: the draft "
                f"declines all holds, so {needed}."
            )
        else:
            resolved[key] = (
                f"{_origin(choice)}, “{_label(book, choice)}”, is left out: it contradicts "
                f"{holds}, which the draft keeps."
            )
    return resolved


def _origin(choice: Choice) -> str:
    """Where a choice came from, as the start of a sentence: "Your choice", "The default"."""
    why = choice.why
    if why == "chosen level" or why == "the most protective model":
        return "Your choice"
    if why.startswith("the most protective model"):
        return "The default (the most protective option)"
    if why.startswith("strengthened from "):
        return "The strengthened answer"
    if why.startswith("as in "):
        return f"The answer taken from {why[len('as in ') :]}"
    return "The answer"


def _explain(
    book: Codebook,
    levels: dict[str, list[models.ModelProvisionBase]],
    chosen: dict[str, Choice],
    before: dict[str, Choice],
    resolved: dict[str, str],
    sections: list[DraftSection],
    omitted: set[str],
) -> list[ChoiceNote]:
    """Per question with model language: what the draft did with it and why, in plain words."""
    numbers = {s.key: s.number for s in sections if s.key}
    notes = []
    for key in book.keys:
        if key not in levels:
            continue
        question = book[key].question
        if key in chosen:
            choice = chosen[key]
            text = (
                f"In the draft, section {numbers[key]}: “{_label(book, choice)}”. {_origin(choice)}"
            )
            if choice.why.startswith("strengthened from "):
                text += f" ({choice.why})"
            notes.append(ChoiceNote(key=key, question=question, outcome="drafted", text=text + "."))
        elif key in resolved:
            notes.append(
                ChoiceNote(key=key, question=question, outcome="left_out", text=resolved[key])
            )
        else:
            text = "Not in the draft: nothing was chosen for this question."
            if key in omitted:
                text = "Not in the draft: you chose to leave it out."
            elif key in before:
                text = f"Not in the draft: “{_label(book, before[key])}” was left out."
            notes.append(ChoiceNote(key=key, question=question, outcome="not_chosen", text=text))
    return notes


# --- Assembling the document ---------------------------------------------------------------

AGENCY = {
    "county": "the Sheriff",
    "city": "the Police Department",
    "state": "a state or local law enforcement agency",
    # The District of Columbia is its own level: neither a state nor a county (jurisdictions.yaml).
    "district": "a law enforcement or corrections agency of the District",
}


def jurisdiction_words(adopter: Adopter) -> str:
    """The adopter as the text names it: "the State of Oregon", "Example County"."""
    return _jurisdiction(adopter)


def _jurisdiction(adopter: Adopter) -> str:
    if adopter.level == "state" and not adopter.name.lower().startswith(("state of", "the state")):
        return f"the State of {adopter.name}"
    return adopter.name


def fill(text: str, adopter: Adopter) -> str:
    """Replace the placeholders of docs/model-language.md with words for this adopter."""
    jurisdiction = _jurisdiction(adopter)
    personnel = (
        "officers and employees of the state and of its political subdivisions"
        if adopter.level == "state"
        else f"officers and employees of {jurisdiction}"
    )
    agency = AGENCY[adopter.level]
    governing = (
        "the Legislature" if adopter.level == "state" else f"the governing body of {jurisdiction}"
    )
    words = {
        "jurisdiction": jurisdiction,
        "agency": agency,
        "Agency": agency[0].upper() + agency[1:],
        "personnel": personnel,
        "instrument": "act" if adopter.level == "state" else "ordinance",
        "governing body": governing,
        "Governing body": governing[0].upper() + governing[1:],
    }
    return re.sub(r"\[\[([A-Za-z ]+)\]\]", lambda m: words[m.group(1)], text)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _assemble(
    db: Session, book: Codebook, adopter: Adopter, chosen: dict[str, Choice], resolved: list[str]
) -> Draft:
    instrument = "act" if adopter.level == "state" else "ordinance"
    by_id = {m.id: m for m in store.model_provisions(db)}
    picked = [by_id[c.model_id] for key in book.keys if (c := chosen.get(key)) is not None]
    provisions = _provisions(db, [pid for m in picked for pid in m.drawn_from])
    contexts = {c.id: c for c in store.list_context(db)}
    context_sources = store.sources_of(db, list(contexts))
    terms = {t.id: t for t in store.model_terms(db)}

    notes: list[Endnote] = []
    cited: dict[str, int] = {}

    def cite_provision(pid: str) -> int:
        if pid not in cited:
            protocol, provision, page = provisions[pid]
            status = protocol.status.replace("_", " ")
            source = next((s for s in protocol.sources if s.key in provision.sources), None)
            notes.append(
                Endnote(
                    number=len(notes) + 1,
                    text=f"Drawn from {protocol.jurisdiction_name}, {protocol.title}, "
                    f"{protocol.citation} ({status}), {provision.cite}.",
                    url=source.url if source else None,
                    provision_id=pid,
                    page=page,
                )
            )
            cited[pid] = len(notes)
        return cited[pid]

    def cite_context(cid: str) -> int:
        key = f"context:{cid}"
        if key not in cited:
            record = contexts[cid]
            first = next(iter(context_sources.get(cid, [])), None)
            notes.append(
                Endnote(
                    number=len(notes) + 1,
                    text=f"{record.title}"
                    + (f", {record.citation}" if record.citation else "")
                    + ".",
                    url=first.url if first else None,
                )
            )
            cited[key] = len(notes)
        return cited[key]

    used_context = {c for m in picked for c in m.context}
    findings = [f for f in store.model_findings(db) if f.always or f.context_id in used_context]
    sections: list[DraftSection] = []
    finding_paragraphs = [
        f"({chr(ord('a') + i)}) {fill(f.text, adopter)} [{cite_context(f.context_id)}]"
        for i, f in enumerate(findings)
    ]
    finding_paragraphs.append(
        f"({chr(ord('a') + len(findings))}) The purpose of this {instrument} is to keep "
        f"{_jurisdiction(adopter)}'s resources, records and custody for local purposes, and to "
        "leave the enforcement of federal civil immigration law to the federal government."
    )
    sections.append(
        DraftSection(number=1, heading="Findings and purpose", paragraphs=finding_paragraphs)
    )

    used_terms = list(dict.fromkeys(t for m in picked for t in m.terms if t in terms))
    definitions = [(terms[t].term, fill(terms[t].definition, adopter)) for t in used_terms]
    if definitions:
        sections.append(
            DraftSection(
                number=len(sections) + 1,
                heading="Definitions",
                paragraphs=[f"In this {instrument}:"]
                + [f"“{term}” means {_lower_first(text)}" for term, text in definitions],
            )
        )
    drafting_notes = []
    for model in picked:
        marks = [cite_provision(pid) for pid in model.drawn_from]
        paragraphs = [fill(p, adopter) for p in _paragraphs(model.text)]
        paragraphs[-1] += " " + "".join(f"[{n}]" for n in marks)
        sections.append(
            DraftSection(
                number=len(sections) + 1,
                heading=model.heading,
                paragraphs=paragraphs,
                key=model.key,
                model_id=model.id,
                notes=marks,
            )
        )
        note = fill(model.note, adopter)
        for cid in model.context:
            note += f" [{cite_context(cid)}]"
        drafting_notes.append((f"Section {len(sections)}. {model.heading}", " ".join(note.split())))
    sections.append(
        DraftSection(
            number=len(sections) + 1,
            heading="Severability",
            paragraphs=[
                f"If any part of this {instrument}, or its application to any person or "
                "circumstance, is held invalid, the rest of this "
                f"{instrument} and its other applications remain in effect."
            ],
        )
    )
    sections.append(
        DraftSection(
            number=len(sections) + 1,
            heading="Effective date",
            paragraphs=[f"This {instrument} takes effect on {EFFECTIVE_BLANK}."],
        )
    )
    what = "An Act" if adopter.level == "state" else "An Ordinance"
    title = (
        f"{what} of {_jurisdiction(adopter)} Limiting Local Participation in Federal Civil "
        "Immigration Enforcement"
    )
    return Draft(
        title=title,
        adopter=adopter,
        instrument=instrument,
        choices=[chosen[k] for k in book.keys if k in chosen],
        resolved=resolved,
        sections=sections,
        definitions=definitions,
        endnotes=notes,
        drafting_notes=drafting_notes,
    )


def _lower_first(text: str) -> str:
    """ "A request …" → "a request …", but "ICE …" stays."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return text if len(first) > 1 and first.isupper() else text[:1].lower() + text[1:]


def _provisions(
    db: Session, ids: list[str]
) -> dict[str, tuple[models.ProtocolPublic, models.ProvisionPublic, str]]:
    """Each cited provision with its protocol and its page on this site."""
    protocol_ids = list(dict.fromkeys(i.rpartition("/")[0] for i in ids))
    found = {}
    for protocol in store.get_protocols(db, protocol_ids):
        # kb validate guarantees every drawn_from provision is in a law that took effect.
        for provision in protocol.provisions:
            if provision.id in ids:
                url = f"/protocols/{protocol.id}#{provision.anchor}"
                found[provision.id] = (protocol, provision, url)
    return found
