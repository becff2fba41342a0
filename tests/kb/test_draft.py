"""Drafting, gap analysis and the protection score on the real content (and the fixture content
on both databases): complete documents, every note pointing at a real provision and source."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
from pathlib import Path

import docx
import pytest
from sqlmodel import Session

from kb import store
from kb.build import build
from kb.db import make_engine
from kb.draft import EFFECTIVE_BLANK, Adopter, Draft, DraftOptions, draft_policy
from kb.draft_render import draft_docx, draft_html, draft_markdown
from kb.errors import InvalidOptions, NotFound
from kb.gaps import find_gaps, gaps_csv, gaps_markdown
from kb.model_language import NOT_IN_EFFECT
from kb.score import protection_score
from tests.conftest import office as need_office

COOK = "us-il-cook-county/ordinance-11-o-73"
AB4 = "us-ca/ab-4-2013"
SB54 = "us-ca/sb-54-2017"
COUNTY = Adopter(name="Example County", level="county")


def check_complete(db: Session, draft: Draft) -> None:
    """What every draft must be: no placeholder left, sections numbered 1..n, each endnote mark
    pointing at a note, each note at an existing provision of law that took effect, or a source."""
    text = "\n".join(p for s in draft.sections for p in s.paragraphs)
    assert "[[" not in text and "]]" not in text
    assert re.findall(r"_{3,}", text) == [EFFECTIVE_BLANK]  # the one documented blank
    assert EFFECTIVE_BLANK in draft.sections[-1].paragraphs[0]
    assert [s.number for s in draft.sections] == list(range(1, len(draft.sections) + 1))
    assert [s.heading for s in draft.sections[-2:]] == ["Severability", "Effective date"]
    assert draft.sections[0].heading == "Findings and purpose"
    assert [n.number for n in draft.endnotes] == list(range(1, len(draft.endnotes) + 1))
    notes_text = text + " ".join(n for _, n in draft.drafting_notes)
    marks = {int(m) for m in re.findall(r"\[(\d+)\]", notes_text)}
    assert marks == {n.number for n in draft.endnotes}
    for note in draft.endnotes:
        assert note.url is None or note.url.startswith(("http://", "https://"))
        if note.provision_id:
            provision = store.get_provision(db, note.provision_id)
            (protocol,) = store.get_protocols(db, [provision.protocol_id])
            assert protocol.status not in NOT_IN_EFFECT
            assert provision.cite in note.text and protocol.citation in note.text
            assert note.page == f"/protocols/{protocol.id}#{provision.anchor}"
        else:
            assert note.url, f"note {note.number} cites nothing: {note.text}"
    # Only the terms the sections use are defined, and each is used.
    operative = " ".join(p for s in draft.sections[2:] for p in s.paragraphs).lower()
    for term, _ in draft.definitions:
        assert term.lower() in operative or term.lower().replace("-", " ") in operative, term


SAMPLE = {
    "detainer_response": [
        "strongest",
        "omit",
        "declines_all",
        "judicial_warrant_only",
        "conditional",
    ],
    "offense_threshold": ["strongest", "omit", "no_holds", "serious_or_violent_felony"],
    "max_hold_hours": ["omit", "0", "24", "48"],
    "juvenile_holds": ["strongest", "omit"],
}


def test_every_combination_of_levels_drafts_or_names_the_conflict(db: Session) -> None:
    drafted = refused = 0
    for combination in itertools.product(*SAMPLE.values()):
        choices = dict(zip(SAMPLE, combination, strict=True))
        options = DraftOptions(adopter=COUNTY, choices=choices, default="omit")
        detainer = {"strongest": "declines_all"}.get(
            choices["detainer_response"], choices["detainer_response"]
        )
        threshold = {"strongest": "no_holds"}.get(
            choices["offense_threshold"], choices["offense_threshold"]
        )
        hours = choices["max_hold_hours"]
        conflict = (
            detainer == "declines_all"
            and (threshold == "serious_or_violent_felony" or hours in ("24", "48"))
        ) or (
            detainer in ("judicial_warrant_only", "conditional")
            and (threshold == "no_holds" or hours == "0")
        )
        try:
            draft = draft_policy(db, options)
        except InvalidOptions as error:
            refused += 1
            assert conflict, choices
            # Refused only for a real contradiction, naming both options.
            assert "conflicts with" in error.message
            assert "detainer_response" in error.message
            continue
        drafted += 1
        assert not conflict, choices
        check_complete(db, draft)
        keys = {s.key for s in draft.sections if s.key}
        assert keys <= set(SAMPLE)
        for key, wanted in choices.items():
            if wanted == "omit":
                assert key not in keys
    assert drafted + refused == 160 and drafted >= 80


def test_the_strongest_draft_for_each_kind_of_body(db: Session) -> None:
    for level, agency in (
        ("county", "the Sheriff"),
        ("city", "the Police Department"),
        ("state", "law enforcement agency"),
    ):
        draft = draft_policy(db, DraftOptions(adopter=Adopter(name="Example", level=level)))
        check_complete(db, draft)
        body = " ".join(p for s in draft.sections for p in s.paragraphs)
        assert agency in body
        assert ("act" if level == "state" else "ordinance") in draft.sections[-1].paragraphs[0]
        declines = next(s for s in draft.sections if s.key == "detainer_response")
        assert declines.model_id == "detainer_response/declines_all"
        # Declining every hold makes the conditions for one moot: left out, and said so.
        assert not {s.key for s in draft.sections} & {
            "reimbursement_required",
            "pending_charges_qualify",
        }
        assert any("the draft declines all holds, so" in r for r in draft.resolved)


def test_conflicting_and_unknown_options_are_named(db: Session) -> None:
    with pytest.raises(
        InvalidOptions,
        match=r"detainer_response 'declines_all'.*conflicts with offense_threshold 'serious_or_violent_felony'",
    ):
        draft_policy(
            db,
            DraftOptions(
                adopter=COUNTY,
                choices={
                    "detainer_response": "declines_all",
                    "offense_threshold": "serious_or_violent_felony",
                },
            ),
        )
    with pytest.raises(InvalidOptions, match="unknown question 'colour'"):
        draft_policy(db, DraftOptions(adopter=COUNTY, choices={"colour": "strongest"}))
    with pytest.raises(
        InvalidOptions, match="detainer_response: no model provision at level 'honors_all'"
    ):
        draft_policy(db, DraftOptions(adopter=COUNTY, choices={"detainer_response": "honors_all"}))
    with pytest.raises(NotFound, match="no protocol with id 'us-zz/none'"):
        draft_policy(db, DraftOptions(adopter=COUNTY, start_from="us-zz/none"))
    with pytest.raises(ValueError, match="plain text"):
        Adopter(name="Bad\x00Name", level="county")


def test_an_explicit_choice_beats_a_derived_one(db: Session) -> None:
    # Strongest by default would decline every hold; choosing a 48-hour limit means holds happen.
    draft = draft_policy(db, DraftOptions(adopter=COUNTY, choices={"max_hold_hours": "48"}))
    keys = {s.key for s in draft.sections}
    assert "max_hold_hours" in keys and "detainer_response" not in keys
    assert draft.resolved[0] == (
        "The default (the most protective option), “Declines all holds”, is left out: you chose "
        "“48 hours”, a condition for honoring holds."
    )
    # Cook holds on conditions; both "no holds" choices made explicitly leave its answer out.
    never = {"offense_threshold": "no_holds", "max_hold_hours": "0"}
    draft = draft_policy(db, DraftOptions(adopter=COUNTY, start_from=COOK, choices=never))
    assert {"offense_threshold", "max_hold_hours"} <= {s.key for s in draft.sections}
    assert "detainer_response" not in {s.key for s in draft.sections}
    check_complete(db, draft)
    # Both sides chosen explicitly: refused, naming each contradiction.
    both = {"detainer_response": "conditional", **never}
    with pytest.raises(
        InvalidOptions,
        match=r"conflicts with offense_threshold 'no_holds'.*conflicts with max_hold_hours '0'",
    ):
        draft_policy(db, DraftOptions(adopter=COUNTY, choices=both))


def test_start_from_a_protocol_and_strengthen_it(db: Session) -> None:
    as_is = draft_policy(db, DraftOptions(adopter=COUNTY, start_from=COOK))
    assert [c.model_id for c in as_is.choices] == [
        "detainer_response/conditional",
        "reimbursement_required/true",
        "ice_facility_access/warrant_required",
        "release_info_sharing/prohibited",
        "local_resources_for_enforcement/restricted",
    ]
    check_complete(db, as_is)
    stronger = draft_policy(db, DraftOptions(adopter=COUNTY, start_from=COOK, strengthen=True))
    chosen = {c.key: c.model_id for c in stronger.choices}
    assert chosen["detainer_response"] == "detainer_response/declines_all"
    assert (
        chosen["ice_facility_access"] == "ice_facility_access/warrant_required"
    )  # already strongest
    assert chosen["local_resources_for_enforcement"] == "local_resources_for_enforcement/prohibited"
    check_complete(db, stronger)


def test_a_pinned_collection_drafts_what_its_provisions_support(db: Session) -> None:
    pinned = [f"{COOK}/sec-46-37-a", f"{COOK}/sec-46-37-b"]
    draft = draft_policy(db, DraftOptions(adopter=COUNTY, pinned=pinned))
    chosen = {c.key: c.model_id for c in draft.choices}
    assert chosen["detainer_response"] == "detainer_response/conditional"
    assert chosen["ice_facility_access"] == "ice_facility_access/warrant_required"
    assert "juvenile_holds" not in chosen  # nothing pinned supports it
    check_complete(db, draft)


def test_gaps_of_cook_county_and_ab_4(db: Session) -> None:
    cook = {g.key: g for g in find_gaps(db, COOK).gaps}
    # What an expert would list: Cook declines holds unless paid, bars ICE from the jail without a
    # criminal warrant and keeps release dates from ICE, but is silent on juveniles, status
    # questions, 287(g), notice and reporting, and only restricts local resources.
    assert set(cook) == {
        "detainer_response", "offense_threshold", "pending_charges_qualify",
        "conviction_lookback_years", "max_hold_hours", "juvenile_holds", "status_inquiry",
        "local_resources_for_enforcement", "program_287g", "victim_witness_protection",
        "detainee_notice", "reporting_required",
    }  # fmt: skip
    assert cook["detainer_response"].strongest_value == "declines_all"
    # Every law in force coded as declining all holds: California's and Illinois's, and the state
    # floors of Washington, Oregon, Colorado and the Massachusetts rule of Lunn (2017), and
    # Chicago's Welcoming City Ordinance as amended in 2021.
    assert {p.id for p in cook["detainer_response"].held_by} == {
        SB54, "us-il/trust-act-2017", "us-il/way-forward-act-2021",
        "us-il-chicago/welcoming-city-ordinance-2021",
        "us-wa/keep-washington-working-act-2019", "us-or/sanctuary-promise-act-2021",
        "us-co/hb19-1124", "us-co/sb25-276", "us-ma/lunn-v-commonwealth-2017",
    }  # fmt: skip
    assert (
        cook["detainer_response"].model
        and cook["detainer_response"].model.id == "detainer_response/declines_all"
    )
    assert cook["local_resources_for_enforcement"].current_label == "Restricted"

    ab4 = {g.key for g in find_gaps(db, AB4).gaps}
    # AB 4 allowed holds for a long list of offenses, up to 48 hours, with no reimbursement
    # condition and nothing on jail access, information, status questions or 287(g).
    assert {"detainer_response", "reimbursement_required", "offense_threshold",
            "pending_charges_qualify", "max_hold_hours", "ice_facility_access",
            "release_info_sharing", "status_inquiry", "program_287g"} <= ab4  # fmt: skip
    assert "applies_to" not in ab4

    md, csv_text = gaps_markdown(find_gaps(db, COOK)), gaps_csv(find_gaps(db, COOK))
    assert md.startswith("# Where Cook County, Illinois") and "Declines all holds" in md
    assert csv_text.startswith("\ufeffkey,question") and len(csv_text.strip().splitlines()) == 13

    # A jurisdiction's protocols in effect are combined: New York City's laws together.
    nyc = find_gaps(db, "us-ny-new-york-city")
    assert len(nyc.protocols) >= 2 and "pending_charges_qualify" not in {g.key for g in nyc.gaps}
    with pytest.raises(NotFound, match="no protocol or jurisdiction with id 'us-zz'"):
        find_gaps(db, "us-zz")


def test_protection_score_is_explained_key_by_key(db: Session) -> None:
    book = store.codebook(db)
    scores = {p.id: protection_score(book, p) for p in store.get_protocols(db)}
    assert scores[SB54].score > scores[COOK].score > scores[AB4].score
    cook = {k.key: k for k in scores[COOK].keys}
    assert (
        cook["juvenile_holds"].points == 0 and "does not address" in cook["juvenile_holds"].reason
    )
    assert (
        cook["ice_facility_access"].points == 1
        and "most protective" in cook["ice_facility_access"].reason
    )
    assert cook["detainer_response"].points == pytest.approx(1 / 3, abs=0.01)
    assert "applies_to" not in cook and scores[COOK].possible == 15
    assert scores[COOK].score == round(100 * scores[COOK].points / 15)


HOSTILE = 'Evil <script>alert(1)</script> "County" & [x](javascript:alert(1))'


def test_documents_escape_the_adopters_name(db: Session) -> None:
    draft = draft_policy(db, DraftOptions(adopter=Adopter(name=HOSTILE, level="county")))
    page = draft_html(draft, "https://kb.example.org")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript' not in page
    md = draft_markdown(draft)
    assert "<script>" not in md and "\\[x\\](javascript" in md
    document = docx.Document(io.BytesIO(draft_docx(draft)))
    assert HOSTILE in document.paragraphs[0].text  # text in Word, never markup


def test_docx_has_real_headings_and_the_notes(db: Session, tmp_path: Path) -> None:
    draft = draft_policy(db, DraftOptions(adopter=COUNTY))
    data = draft_docx(draft, "https://kb.example.org")
    document = docx.Document(io.BytesIO(data))
    headings = [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style.name.startswith(("Title", "Heading"))
    ]
    assert headings[0] == ("Title", draft.title)
    assert ("Heading 1", "Section 1. Findings and purpose") in headings
    assert ("Heading 1", f"Section {len(draft.sections)}. Effective date") in headings
    assert ("Heading 1", "Notes") in headings
    text = "\n".join(p.text for p in document.paragraphs)
    first_provision_note = next(n for n in draft.endnotes if n.provision_id)
    assert first_provision_note.text in text
    assert f"https://kb.example.org{first_provision_note.page}" in text

    office = need_office("pdftoppm")
    source = tmp_path / "draft.docx"
    source.write_bytes(data)
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        check=True, timeout=180, capture_output=True,
    )  # fmt: skip
    pdf = tmp_path / "draft.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True, timeout=60,
    )  # fmt: skip
    (page,) = tmp_path.glob("page*.png")
    assert page.read_bytes().startswith(b"\x89PNG")


def test_drafts_gaps_and_scores_on_both_databases(content: Path, database_url: str) -> None:
    build(content, database_url)
    engine = make_engine(database_url)
    first, second = "us-xx-example-county/ordinance-2010-3", "us-xx-example-county/ordinance-2012-9"
    with store.session(engine) as session:
        draft = draft_policy(
            session, DraftOptions(adopter=Adopter(name="Exampleton", level="city"))
        )
        check_complete(session, draft)
        assert [s.heading for s in draft.sections] == [
            "Findings and purpose", "Definitions", "Civil immigration detainers", "Severability", "Effective date",
        ]  # fmt: skip
        assert draft.definitions == [
            (
                "Civil immigration detainer",
                "A request from ICE that a local agency keep a person past release.",
            )
        ]
        assert (
            "“Civil immigration detainer” means a request from ICE"
            in draft.sections[1].paragraphs[1]
        )
        assert "(a) The Police Department shall not" in draft.sections[2].paragraphs[0]
        gaps = find_gaps(session, first)
        assert {g.key for g in gaps.gaps} >= {"detainer_response", "max_hold_hours"}
        assert gaps.gaps[0].held_by[0].id == second
        (protocol,) = store.get_protocols(session, [second])
        assert protection_score(store.codebook(session), protocol).score > 0
    engine.dispose()
