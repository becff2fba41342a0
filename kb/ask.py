"""The one-page ask: what the adopting body is asked to do, point by point, each from the chosen
model language with its citations, and why, from the background records (docs/drafting.md)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel
from sqlmodel import Session

from kb import models, store
from kb.ask_text import ask_text
from kb.draft import Adopter, Draft, DraftSection, fill, jurisdiction_words
from kb.preemption import Forbidden

MAX_POINTS = 6
"""Points on the page at most: the sixth names the rest of the draft when there are more."""
MIN_POINTS = 3
"""Points the page keeps however long they run (with the one naming the rest of the draft)."""
MAX_CITES = 2
"""Provisions cited by name under one point; the rest are counted (all are in the draft)."""
MAX_REASONS = 3
"""Reasons in "Why": court rulings first, then the other records the chosen sections rest on."""
PAGE_BUDGET = 3400
"""Characters of text one printed page holds at the ask's type size (kb.ask_render): over it,
reasons are dropped from the last (one always stays), then each point keeps one citation, then
points are dropped from the last (MIN_POINTS stay), the last point naming the rest of the draft.
Counted in the ask's own language, so a longer translation gives them up sooner."""

Translate = Callable[[str], str]
"""Content written in English (a model level's title and summary, a section heading, a finding, a
codebook answer label, a penalty word) in the ask's language. kb holds no catalogue: the web tier
passes the catalogue's (api.localized.content); without one, content stays English."""


def _same(text: str) -> str:
    return text


def content_text(text: str) -> str:
    """Content as the catalogue's msgid: its words, single-spaced (api/i18n_extract.py)."""
    return " ".join(text.split())


class AskPoint(BaseModel):
    number: int
    key: str
    section: int
    """Its section in the full draft."""
    title: str
    text: str
    citations: list[str]
    """Each cited provision by the name people use and its pinpoint cite."""
    more_citations: int = 0


class AskReason(BaseModel):
    text: str
    source: str
    """The background record it rests on: title and citation."""
    url: str | None = None


class Ask(BaseModel):
    lang: str
    """The language of the ask's own phrases (kb.ask_text)."""
    content_lang: str = "en"
    """The language of its points, reasons and state-law sentences: `lang` when they were
    translated, else "en" (pages mark them `lang="en"` then)."""
    title: str
    to: str
    intro: str
    points: list[AskPoint]
    further: str | None = None
    """The last numbered point when the draft has more sections than the page holds: the
    others, named."""
    reasons: list[AskReason]
    state_law: list[str] = []
    """What a law binding the adopter forbids, one sentence per law (the draft's `state_law`)."""
    state_law_names: list[str] = []
    """The law each of those sentences starts with, by its short name (English, as written)."""
    state_law_intro: str | None = None
    source_note: str | None = None
    """Said once where the ask is not in English: names of laws, citations and the full draft
    stay English."""
    closing: str


def draft_ask(
    db: Session, draft: Draft, lang: str = "en", translate: Translate | None = None
) -> Ask:
    """The one-page ask of a draft: its operative sections (codebook order) as points, each the
    model level's title and summary with the provisions it is drawn from. Its phrases are in
    `lang`; its content too when `translate` is given (else English)."""
    words = ask_text(lang)
    tr = translate or _same
    content_lang = lang if translate is not None else "en"
    adopter = draft.adopter
    # A state is "the State of Oregon" in English; Spanish names it as it is ("Oregon").
    place = jurisdiction_words(adopter) if words is ask_text("en") else adopter.name
    body = (words["body_state"] if adopter.level == "state" else words["body_local"]).format(
        place=place
    )
    instrument_a = words[
        "instrument_a_act" if draft.instrument == "act" else "instrument_a_ordinance"
    ]
    by_id = {m.id: m for m in store.model_provisions(db)}
    operative = [s for s in draft.sections if s.model_id is not None]
    state_law = _state_law(db, draft, words, tr)
    reasons = _reasons(db, [by_id[s.model_id or ""] for s in operative], adopter, tr)
    cited = _provision_names(db, [p for s in operative for p in by_id[s.model_id or ""].drawn_from])

    def ask_with(shown: list[DraftSection]) -> Ask:
        return _fit_page(
            Ask(
                lang=lang,
                content_lang=content_lang,
                title=words["title"].format(place=place),
                to=words["to"].format(body=body),
                intro=words["intro"].format(instrument_a=instrument_a),
                points=_points(shown, by_id, cited, adopter, tr),
                further=_further(operative[len(shown) :], words, tr),
                reasons=[r.model_copy() for r in reasons],
                state_law=[sentence for _, sentence in state_law],
                state_law_names=[name for name, _ in state_law],
                state_law_intro=words["state_law_intro"] if state_law else None,
                source_note=words["source_note"] or None,
                closing=words["closing"],
            )
        )

    count = len(operative) if len(operative) <= MAX_POINTS else MAX_POINTS - 1
    ask = ask_with(operative[:count])
    # Still over the page (a longer language, state law on top, long names): fewer points, the
    # last one naming the rest of the draft.
    while _length(ask) > PAGE_BUDGET and count > MIN_POINTS:
        count -= 1
        ask = ask_with(operative[:count])
    return ask


def _points(
    shown: list[DraftSection],
    by_id: dict[str, models.ModelProvisionBase],
    cited: dict[str, str],
    adopter: Adopter,
    tr: Translate,
) -> list[AskPoint]:
    points: list[AskPoint] = []
    for section in shown:
        model = by_id[section.model_id or ""]
        names = list(dict.fromkeys(cited[p] for p in model.drawn_from if p in cited))
        points.append(
            AskPoint(
                number=len(points) + 1,
                key=model.key,
                section=section.number,
                title=tr(content_text(model.title)),
                text=fill(tr(content_text(model.summary)), adopter),
                citations=names[:MAX_CITES],
                more_citations=max(0, len(names) - MAX_CITES),
            )
        )
    return points


def _further(rest: list[DraftSection], words: dict[str, str], tr: Translate) -> str | None:
    """The last point when the page holds fewer points than the draft has sections: the rest."""
    if not rest:
        return None
    template = words["further"] if len(rest) > 1 else words["further_one"]
    return template.format(
        headings="; ".join(tr(content_text(s.heading)) for s in rest),
        first=rest[0].number,
        last=rest[-1].number,
    )


def _length(ask: Ask) -> int:
    # The title is set larger: its characters count double.
    texts = [ask.title, ask.title, ask.to, ask.intro, ask.further or "", ask.closing]
    texts += [ask.source_note or ""]
    texts += [ask.state_law_intro or "", *ask.state_law]
    texts += [p.title + p.text + " ".join(p.citations) for p in ask.points]
    texts += [r.text + r.source for r in ask.reasons]
    return sum(len(t) for t in texts)


def _fit_page(ask: Ask) -> Ask:
    """Keep the ask to one page (PAGE_BUDGET): fewer reasons first, then fewer citations."""
    while _length(ask) > PAGE_BUDGET and len(ask.reasons) > 1:
        ask.reasons.pop()
    if _length(ask) > PAGE_BUDGET:
        for point in ask.points:
            point.more_citations += len(point.citations[1:])
            del point.citations[1:]
    return ask


def _provision_names(db: Session, ids: list[str]) -> dict[str, str]:
    """Each provision as "Cook County Ordinance 11-O-73, Sec. 46-37(a)": the name people use
    (the protocol's short name) and the pinpoint cite."""
    protocol_ids = list(dict.fromkeys(i.rpartition("/")[0] for i in ids))
    names = {}
    for protocol in store.get_protocols(db, protocol_ids):
        for provision in protocol.provisions:
            if provision.id in ids:
                names[provision.id] = f"{protocol.short_name}, {provision.cite}"
    return names


def _state_law(
    db: Session, draft: Draft, words: dict[str, str], tr: Translate
) -> list[tuple[str, str]]:
    """The draft's `state_law` in the ask's language: per law, what it requires or caps, on which
    subjects, and the kinds of penalty it sets (in English, the same sentences as the draft's);
    each with the law's name it starts with."""
    by_law: dict[str, list[Forbidden]] = {}
    for clause in draft.left_out_by_law:
        by_law.setdefault(clause.protocol_ids[0], []).append(clause)
    if not by_law:
        return []
    names = {p.id: p.short_name for p in store.get_protocols(db, list(by_law))}
    headings = {m.key: m.heading for m in store.model_provisions(db)}
    sentences = []
    for law, clauses in by_law.items():
        parts = []
        for clause in clauses:
            subject = tr(content_text(headings[clause.key]))
            # English lower-cases the whole heading, as the draft does; a translation keeps the
            # capitals of names and acronyms ("ICE") and lower-cases only its first letter.
            subject = subject.lower() if subject == headings[clause.key] else _lower_first(subject)
            template = words["state_law_requires" if clause.room == "must" else "state_law_caps"]
            parts.append(template.format(label=tr(clause.allowed_label), subject=subject))
        kinds = list(dict.fromkeys(p.kind.replace("_", " ") for c in clauses for p in c.penalties))
        sentence = f"{names[law]} " + "; ".join(parts) + "."
        if kinds:
            sentence += " " + words["state_law_penalties"].format(
                kinds=", ".join(tr(k) for k in kinds)
            )
        sentences.append((names[law], sentence))
    return sentences


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first.isupper() and len(first) > 1:  # an acronym
        return text
    return text[:1].lower() + text[1:]


def _reasons(
    db: Session, picked: list[models.ModelProvisionBase], adopter: Adopter, tr: Translate
) -> list[AskReason]:
    """The findings the chosen sections rest on, court rulings first, then the others in the
    order the draft gives them; each with its record."""
    used = {c for m in picked for c in m.context}
    records = {c.id: c for c in store.list_context(db)}
    findings = [
        f for f in store.model_findings(db) if f.context_id in used and f.context_id in records
    ]
    if not findings:
        findings = [f for f in store.model_findings(db) if f.always and f.context_id in records]
    findings.sort(key=lambda f: records[f.context_id].kind != "ruling")
    sources = store.sources_of(db, [f.context_id for f in findings[:MAX_REASONS]])
    reasons = []
    for finding in findings[:MAX_REASONS]:
        record = records[finding.context_id]
        first = next(iter(sources.get(record.id, [])), None)
        reasons.append(
            AskReason(
                text=fill(tr(content_text(finding.text)), adopter),
                source=record.citation or record.title,
                url=first.url if first else None,
            )
        )
    return reasons


class DraftAnswer(Draft):
    """A draft's structure as the API gives it: with the one-page ask when it was asked for."""

    document: str = "ordinance"
    ask: Ask | None = None


def draft_answer(
    db: Session,
    draft: Draft,
    document: str,
    lang: str = "en",
    translate: Translate | None = None,
) -> DraftAnswer:
    """With the ask in `lang` (kb.draft_ask); the ordinance's own structure stays English."""
    ask = draft_ask(db, draft, lang, translate) if document == "ask" else None
    return DraftAnswer(**dict(draft), document=document, ask=ask)
