"""HTML pages. Each view parses its input, calls the same `kb` or `search_index` function as its
`/api/v1` twin, and renders a template; bad input renders an error page with a 4xx status."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError as PydanticValidationError

from api import localized
from api.deps import DB
from api.i18n import LANGUAGES, N_, answer_label, gettext, page_language
from api.routes.drafting import draft_download
from api.templating import render
from kb import store
from kb.ask import draft_ask
from kb.ask_text import LANGUAGES as ASK_LANGUAGES
from kb.ask_text import ask_text
from kb.codebook import TEXT, Codebook, CodebookKey, value_text
from kb.collection import MAX_PINNED, collect, collection_csv, collection_markdown
from kb.compare import MAX_COMPARED, compare_protocols
from kb.diff import diff_versions
from kb.documents import file_name
from kb.draft import OMIT, STRONGEST, Adopter, DraftOptions, draft_policy
from kb.errors import InvalidParameter, KBError, QuerySyntaxError
from kb.gaps import find_gaps
from kb.overview import overview
from kb.records import DATE_KEYS
from kb.registry_check import KEY as CHECK_KEY
from kb.registry_check import check_287g, practice_here
from kb.resolve import LAYER_LABELS, resolve
from kb.score import RUBRIC, protection_score
from kb.status import in_force_first, status_lines

router = APIRouter(include_in_schema=False)

TIMELINE_ORDER = {key: i for i, key in enumerate(DATE_KEYS)}
STATUS_NOTES = {
    "introduced": N_("introduced, not passed"),
    "passed": N_("passed, not yet signed"),
    "vetoed": N_("vetoed: never took effect"),
    "enacted": N_("enacted, not amended since"),
    "in_force": N_("in force"),
    "amended": N_("amended by a later law"),
    "superseded": N_("superseded by a later protocol"),
    "repealed": N_("repealed"),
    "struck_down": N_("struck down by a court"),
    "preempted": N_("preempted by a higher law"),
    "expired": N_("expired: a temporary law that lapsed"),
}


def listed(request: Request, name: str) -> list[str]:
    """A list parameter given either comma-separated or repeated (as checkbox forms send it)."""
    values = [v for raw in request.query_params.getlist(name) for v in raw.split(",")]
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "on", "yes")


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    db: DB,
    level: Annotated[str | None, Query(max_length=100)] = None,
    state: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[str, Query(max_length=20)] = "jurisdiction",
) -> HTMLResponse:
    matrix = overview(
        db, level=level or None, state=state or None, status=status or None, sort=sort
    )
    statuses = status_lines(db)
    matrix.rows = in_force_first(matrix.rows, statuses, lambda row: row.protocol.id)
    return render(
        request,
        "home.html",
        {
            "matrix": matrix,
            "filters": {"level": level or "", "state": state or "", "status": status or ""},
            "sort": sort,
            "info": store.build_info(db),
            "status_notes": STATUS_NOTES,
            "statuses": statuses,
        },
    )


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    db: DB,
    q: Annotated[str, Query(max_length=10_000)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    sort: Annotated[str, Query(pattern="^(relevance|date)$")] = "relevance",
) -> HTMLResponse:
    info = store.build_info(db)
    lang = page_language(request)
    context: dict[str, Any] = {
        "q": q,
        "sort": sort,
        "result": None,
        "error": None,
        "suggestions": store.remembered(
            db, ("search suggestions", lang), lambda: _suggestions(db, lang)
        ),
        "names": store.remembered(db, "facet names", lambda: _names(db)),
        "statuses": status_lines(db),
    }
    status_code = 200
    if q.strip():
        request.app.state.index_refresh.ensure(info.version)
        try:
            context["result"] = request.app.state.search.search(q, page=page, sort=sort)
        except QuerySyntaxError as error:
            context["error"] = error.message
            status_code = 400
    return render(request, "search.html", context, status_code)


def _suggestions(db: DB, lang: str) -> list[tuple[str, str]]:
    """What the query box suggests while typing, in `lang`: topics, codebook questions,
    jurisdictions."""
    book = store.codebook(db)
    suggestions = [(f"topic:{t.id}", gettext(lang, t.name)) for t in store.list_topics(db)]
    # Only places with a protocol: the gazetteer's other 3,000 counties would find nothing.
    having = {p.jurisdiction_id for p in store.list_protocols(db)}
    suggestions += [
        (f"jurisdiction:{j.id}", j.name) for j in store.list_jurisdictions(db) if j.id in having
    ]
    for spec in book.keys.values():
        if spec.type == TEXT:
            continue
        for value in spec.values or []:
            if spec.is_unaddressed(value):
                continue
            text = value_text(value)
            label = answer_label(lang, spec.label(value), value)
            suggestions.append((f"{spec.key}:{text}", f"{label} ({gettext(lang, spec.question)})"))
    return suggestions


def _names(db: DB) -> dict[str, dict[str, str]]:
    """Display names for facet values that are ids."""
    return {
        "jurisdiction": {j.id: j.name for j in store.list_jurisdictions(db)},
        "topic": {t.id: t.name for t in store.list_topics(db)},
    }


@router.get("/where", response_class=HTMLResponse, response_model=None)
def where_search(
    request: Request, db: DB, place: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse | RedirectResponse:
    """The find-your-county form: one match goes straight to its page, several are listed."""
    matches = store.find_places(db, place)
    if len(matches) == 1:
        return RedirectResponse(f"/where/{matches[0].id}", status_code=303)
    return render(request, "where_search.html", {"place": place, "matches": matches})


@router.get("/where/places.json", include_in_schema=False)
def where_places(db: DB) -> JSONResponse:
    """Every place's id and name, for the type-ahead of the find-your-county box."""
    return JSONResponse([[j.id, j.name] for j in store.list_jurisdictions(db)])


@router.get("/where/{jurisdiction_id}", response_class=HTMLResponse)
def where(
    request: Request,
    db: DB,
    jurisdiction_id: str,
    as_of: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    day = None
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise InvalidParameter(
                f"{as_of!r} is not a date; write it as YYYY-MM-DD", field="as_of"
            ) from None
    resolution = resolve(db, jurisdiction_id, day)
    return render(
        request,
        "where.html",
        {
            "r": resolution,
            "as_of": as_of,
            "layers": LAYER_LABELS,
            "practice": practice_here(db, jurisdiction_id, day),
            "statuses": status_lines(db),
            "compare_ids": _compare_with_strongest(db, resolution),
        },
    )


COMPARED_FROM_A_PLACE = 4


def _compare_with_strongest(db: DB, resolution: Any) -> list[str]:
    """The laws that govern the place, then the highest-scoring protocols in force today
    elsewhere, up to four: the comparison an advocate starts from."""
    here = [law.protocol_id for law in resolution.laws if law.governs]
    lines = status_lines(db)
    strongest = [
        row.protocol.id
        for row in overview(db, sort="score").rows
        if lines[row.protocol.id].in_force and row.protocol.id not in here
    ]
    ids = here[: COMPARED_FROM_A_PLACE - 1]
    return ids + strongest[: COMPARED_FROM_A_PLACE - len(ids)]


def _alongside(db: DB, protocol_id: str, jurisdiction_id: str) -> list[Any]:
    """The other laws in force today in the protocol's place, from every layer."""
    return [
        law
        for law in resolve(db, jurisdiction_id).laws
        if law.governs and law.protocol_id != protocol_id
    ]


def _rulings(protocol: Any, records: dict[str, Any]) -> list[Any]:
    """Background rulings the protocol's provisions rest on (`context=` of kind `ruling`), less
    those its own `litigation:` entries already link to."""
    linked = {c for case in protocol.litigation for c in case.context}
    cited = dict.fromkeys(c for v in protocol.provisions for c in v.context)
    return [
        records[c]
        for c in cited
        if c in records and records[c].kind == "ruling" and c not in linked
    ]


def source_label(source: Any) -> str:
    """A source as people name it: publisher and title, not the record's key."""
    return f"{source.publisher}: {source.title}" if source.publisher else source.title


@router.get("/protocols/{protocol_id:path}", response_class=HTMLResponse)
def protocol(request: Request, db: DB, protocol_id: str) -> HTMLResponse:
    (found,) = store.get_protocols(db, [protocol_id])
    book = store.codebook(db)
    related = {p.id: p for p in store.list_protocols(db, ids=found.predecessors + found.successors)}
    timeline = sorted(found.dates.items(), key=lambda kv: (kv[1], TIMELINE_ORDER.get(kv[0], 99)))
    topics = {t.id: t.name for t in store.list_topics(db)}
    records = {c.id: c for c in store.list_context(db)}
    context = {c.id: c.title for c in records.values()}
    return render(
        request,
        "protocol.html",
        {
            "statuses": status_lines(db),
            "rulings": _rulings(found, records),
            "source_labels": {s.key: source_label(s) for s in found.sources},
            "p": found,
            "book": book,
            "related": related,
            "timeline": timeline,
            "topics": topics,
            "context_titles": context,
            "jurisdiction": store.get_jurisdiction(db, found.jurisdiction_id),
            "status_notes": STATUS_NOTES,
            "score": protection_score(book, found),
            "rubric": RUBRIC,
            "alongside": _alongside(db, found.id, found.jurisdiction_id),
            "layers": LAYER_LABELS,
            "practice": _practice(db, found),
        },
    )


def _practice(db: DB, found: Any) -> tuple[Any, list[Any]] | None:
    """For a protocol that bars or requires 287(g): the latest capture and the notes where it is
    the rule that governs (kb.registry_check)."""
    answer = next((a for a in found.coding if a.key == CHECK_KEY), None)
    if answer is None or answer.value not in ("prohibited", "participates"):
        return None
    capture, notes = check_287g(db)
    if capture is None:
        return None
    return capture, [n for n in notes if n.protocol_id == found.id]


def _picker(db: DB) -> list[tuple[str, list[Any]]]:
    """Every protocol, grouped by jurisdiction, for the compare and diff pickers."""
    groups: dict[str, list[Any]] = {}
    for p in store.list_protocols(db):
        groups.setdefault(p.jurisdiction_name, []).append(p)
    return list(groups.items())


def _compare_context(request: Request, db: DB) -> tuple[dict[str, Any], int]:
    ids = listed(request, "protocols")
    keys = listed(request, "keys") or None
    topics = listed(request, "topics") or None
    differences_only = _flag(request, "differences_only")
    context: dict[str, Any] = {
        "ids": ids,
        "keys": keys or [],
        "topics": topics or [],
        "differences_only": differences_only,
        "comparison": None,
        "error": None,
        "max_compared": MAX_COMPARED,
        "book": store.codebook(db),
        "topic_names": {t.id: t.name for t in store.list_topics(db)},
        "as_of": store.build_info(db).built_at.date(),
        "statuses": status_lines(db),
    }
    if not ids:
        return context, 200
    try:
        comparison = compare_protocols(
            db, ids, keys=keys, topics=topics, differences_only=differences_only
        )
    except KBError as error:
        if error.http_status == 404:
            raise
        context["error"] = error.message
        return context, 400
    groups: dict[str, list[Any]] = {}
    for row in comparison.rows:  # codebook order, grouped under each row's topic
        groups.setdefault(row.topic, []).append(row)
    context |= {"comparison": comparison, "groups": list(groups.items())}
    return context, 200


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, db: DB) -> HTMLResponse:
    context, status_code = _compare_context(request, db)
    params = {
        "protocols": ",".join(context["ids"]),
        "keys": ",".join(context["keys"]),
        "topics": ",".join(context["topics"]),
        "differences_only": "true" if context["differences_only"] else "",
    }
    # Absolute only from configuration (KB_PUBLIC_URL), never from the Host header.
    public_url = request.app.state.settings.public_url
    context |= {
        "picker": _picker(db),
        "questions": _questions(context["book"]),
        "params": params,
        "public_url": public_url,
    }
    return render(request, "compare.html", context, status_code)


def _questions(book: Codebook) -> list[tuple[str, list[CodebookKey]]]:
    """The codebook questions grouped by topic, in codebook order, for the question picker."""
    groups: dict[str, list[CodebookKey]] = {}
    for spec in book.keys.values():
        groups.setdefault(spec.topic, []).append(spec)
    return list(groups.items())


EMBED_LANGUAGES = LANGUAGES
"""The widget's languages: `lang` picks one (English when absent). Not Accept-Language: the
page that embeds it chooses, to match its own article."""


@router.get("/embed/compare", response_class=HTMLResponse)
def embed_compare(request: Request, db: DB) -> HTMLResponse:
    context, status_code = _compare_context(request, db)
    lang = request.query_params.get("lang") or "en"
    context["lang"] = lang if lang in EMBED_LANGUAGES else "en"
    if lang not in EMBED_LANGUAGES:
        shown = lang if len(lang) <= 20 else lang[:20] + "…"
        context["error"] = f"unknown language {shown!r}: choose one of {', '.join(EMBED_LANGUAGES)}"
        context["comparison"] = None
        status_code = 400
    elif not context["ids"]:
        context["error"] = gettext(
            context["lang"], N_("name the protocols to compare: /embed/compare?protocols=a,b")
        )
        status_code = 400
    query_string = request.url.query  # relative, so it never repeats the Host header
    context["full_url"] = "/compare" + (f"?{query_string}" if query_string else "")
    return render(request, "embed_compare.html", context, status_code)


@router.get("/diff", response_class=HTMLResponse)
def diff(request: Request, db: DB) -> HTMLResponse:
    old = request.query_params.get("from", "").strip()
    new = request.query_params.get("to", "").strip()
    links = store.protocol_links(db)
    titles = {p.id: p for p in store.list_protocols(db)}
    context: dict[str, Any] = {
        "old": old,
        "new": new,
        "diff": None,
        "error": None,
        "picker": _picker(db),
        "pairs": [(titles[a], titles[b]) for a, b in links],
        "statuses": status_lines(db),
    }
    status_code = 200
    if old or new:
        if not (old and new):
            context["error"] = gettext(
                page_language(request), N_("choose both versions: the earlier and the later one")
            )
            status_code = 400
        else:
            context["diff"] = diff_versions(db, old, new)
    return render(request, "diff.html", context, status_code)


@router.get("/pins", response_class=HTMLResponse)
def pins(request: Request, db: DB) -> HTMLResponse:
    ids = listed(request, "ids")
    context: dict[str, Any] = {
        "ids": ids,
        "collection": None,
        "error": None,
        "statuses": status_lines(db),
    }
    status_code = 200
    try:
        context["collection"] = collect(db, ids)
    except KBError as error:
        context["error"] = error.message
        status_code = 400
    context["max_pinned"] = MAX_PINNED
    return render(request, "pins.html", context, status_code)


@router.get("/pins/export")
def pins_export(
    request: Request,
    db: DB,
    format: Annotated[str, Query(pattern="^(md|csv)$")] = "md",
) -> Response:
    collection = collect(db, listed(request, "ids"))
    if format == "csv":
        body, media, name = collection_csv(collection), "text/csv; charset=utf-8", "pinned.csv"
    else:
        body, media, name = (
            collection_markdown(collection),
            "text/markdown; charset=utf-8",
            "pinned.md",
        )
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/background", response_class=HTMLResponse)
def background(request: Request, db: DB) -> HTMLResponse:
    records = store.list_context(db)
    return render(
        request,
        "background.html",
        {"records": records, "sources": store.sources_of(db, [r.id for r in records])},
    )


@router.get("/codebook", response_class=HTMLResponse)
def codebook(request: Request, db: DB) -> HTMLResponse:
    book = store.codebook(db)
    return render(
        request,
        "codebook.html",
        {
            "book": book,
            "keys": list(book.keys.values()),
            "topic_names": {t.id: t.name for t in store.list_topics(db)},
        },
    )


# --- Drafting ------------------------------------------------------------------------------

LEVELS = ("county", "city", "state", "district")
DOWNLOADS = ("pdf", "docx", "html", "md")
"""The drafting page's download links, in the order shown."""


def _draft_options(
    request: Request, db: DB
) -> tuple[DraftOptions | None, str | None, dict[str, Any]]:
    """The drafting form's state, all in the URL: name, level, start_from, strengthen, pinned,
    protocols, default and one `c.<key>` per question."""
    q = request.query_params
    form = {
        "name": q.get("name", "Example County")[:300],
        "level": q.get("level", "county"),
        "start_from": q.get("start_from", "").strip(),
        "strengthen": _flag(request, "strengthen"),
        "pinned": listed(request, "pinned"),
        "protocols": listed(request, "protocols"),
        "default": q.get("default", ""),
        "document": q.get("document", "ordinance"),
        "jurisdiction_id": q.get("jurisdiction_id", "").strip()[:100],
        "choices": {k[2:]: v for k, v in q.multi_items() if k.startswith("c.") and v},
    }
    try:
        options = DraftOptions(
            adopter=Adopter(
                name=form["name"],
                level=form["level"],
                jurisdiction_id=form["jurisdiction_id"] or None,
            ),
            choices=form["choices"],
            start_from=form["start_from"] or None,
            strengthen=form["strengthen"],
            pinned=form["pinned"],
            protocols=form["protocols"],
            default=form["default"] or None,
            document=form["document"],
        )
    except PydanticValidationError as error:
        message = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return None, message, form
    return options, None, form


def _draft_context(request: Request, db: DB) -> tuple[dict[str, Any], int]:
    options, error, form = _draft_options(request, db)
    draft = None
    status_code = 200
    if options is not None:
        try:
            draft = draft_policy(db, options)
        except KBError as failure:
            if failure.http_status == 404:
                raise
            error, status_code = failure.message, failure.http_status
    else:
        status_code = 422
    models: dict[str, list[Any]] = {}
    for model in store.model_provisions(db):
        models.setdefault(model.key, []).append(model)
    names = {p.id: p.jurisdiction_name for p in store.list_protocols(db)}
    adopted_by = {
        m.id: sorted({names.get(pid.rpartition("/")[0], "") for pid in m.drawn_from} - {""})
        for group in models.values()
        for m in group
    }
    book = store.codebook(db)
    chosen = {c.key: c.value for c in draft.choices} if draft else form["choices"]
    lang = page_language(request, strict=False)
    ask_lang = lang if lang in ASK_LANGUAGES else "en"
    ask = (
        draft_ask(db, draft, ask_lang, localized.content(ask_lang))
        if draft is not None and form["document"] == "ask"
        else None
    )
    downloads = (
        [(fmt, file_name(options.adopter, options.document, fmt)) for fmt in DOWNLOADS]
        if options is not None
        else []
    )
    return {
        "form": form,
        "draft": draft,
        "ask": ask,
        "words": ask_text(ask.lang) if ask else {},
        "explained": {n.key: n for n in draft.explained} if draft else {},
        "downloads": downloads,
        "error": error,
        "models": models,
        "book": book,
        "adopted_by": adopted_by,
        "chosen": chosen,
        "levels": LEVELS,
        "strongest": STRONGEST,
        "omit": OMIT,
        "query_string": request.url.query,
    }, status_code


@router.get("/draft", response_class=HTMLResponse)
def draft_page(request: Request, db: DB) -> HTMLResponse:
    context, status_code = _draft_context(request, db)
    return render(request, "draft.html", context, status_code)


@router.get("/draft/preview", response_class=HTMLResponse)
def draft_preview(request: Request, db: DB) -> HTMLResponse:
    """The preview panel alone, for the page's script to swap in while options change."""
    context, status_code = _draft_context(request, db)
    return render(request, "_draft_preview.html", context, status_code)


@router.get("/draft/download")
def draft_page_download(
    request: Request,
    db: DB,
    format: Annotated[str, Query(pattern="^(md|html|docx|pdf)$")] = "docx",
) -> Response:
    options, error, _ = _draft_options(request, db)
    if options is None:
        raise KBError(error or "check the drafting options")
    lang = page_language(request, strict=False)
    response = draft_download(request, db, options, format, lang if lang in ASK_LANGUAGES else "en")
    response.headers["Vary"] = "Accept-Language, Cookie"  # the page's language: the switch's too
    return response


@router.get("/gaps/{subject:path}", response_class=HTMLResponse)
def gaps_page(request: Request, db: DB, subject: str) -> HTMLResponse:
    report = find_gaps(db, subject)
    jurisdiction = store.get_jurisdiction(db, report.jurisdiction_id)
    book = store.codebook(db)
    protocols = {p.id: p for p in store.get_protocols(db, [p.id for p in report.protocols])}
    scores = [protection_score(book, protocols[p.id]) for p in report.protocols]
    return render(
        request,
        "gaps.html",
        {
            "report": report,
            "subject": subject,
            "jurisdiction": jurisdiction,
            "scores": scores,
            "statuses": status_lines(db),
        },
    )
