"""The county map (`/map`), its table (`/map/table`) and its embeddable widget (`/embed/map`): each
parses the layer and date, calls `kb.county_map`, and renders; a bad layer or date is a 400 page."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from api import i18n
from api.deps import DB
from api.i18n import N_
from api.templating import env, render
from kb import store
from kb.county_map import DEFAULT_LAYER, CountyMap, county_map, layers, parse_on, shapes
from kb.errors import InvalidParameter

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Swatch:
    """How one legend class is drawn: a fill colour and a pattern over it, so that no reader
    needs to tell colours apart (the legend's words say the same)."""

    fill: str
    pattern: str
    """none, diagonal, dots, cross, horizontal, vertical, backslash, grid."""
    ink: str
    """The pattern's colour: dark on light fills, light on dark ones."""


# Most protective first, a diverging blue-to-red scale that readers with the common forms of
# colour blindness can still order (ColorBrewer RdYlBu); "not addressed" / "none" is grey.
ORDERED = ("#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c", "#8c510a", "#542788")
CATEGORIES = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7")
"""Okabe and Ito's palette, for the 287(g) models, which have no order."""
NEUTRAL = "#ececec"
PATTERNS = ("none", "diagonal", "dots", "cross", "horizontal", "vertical", "backslash", "grid")
DARK = {"#2c7bb6", "#d7191c", "#8c510a", "#542788", "#009e73", "#0072b2", "#d55e00"}


def swatches(m: CountyMap) -> list[Swatch]:
    """One per legend class. Ordered layers keep their last class (not addressed, or a score
    of 0) neutral; the 287(g) layer keeps its first (no agreement) neutral."""
    n = len(m.classes)
    found: list[Swatch] = []
    for c in m.classes:
        if (m.ordered and c.index == n - 1) or (not m.ordered and c.index == 0):
            found.append(Swatch(NEUTRAL, "none", "#555"))
            continue
        if m.ordered:
            shades = n - 1
            fill = (
                ORDERED[round(c.index * 4 / max(shades - 1, 1))]
                if shades <= 5
                else ORDERED[c.index % len(ORDERED)]
            )
            pattern = PATTERNS[c.index % len(PATTERNS)]
        else:
            fill = CATEGORIES[(c.index - 1) % len(CATEGORIES)]
            pattern = PATTERNS[(c.index - 1) % len(PATTERNS)]
        found.append(Swatch(fill, pattern, "#fff" if fill in DARK else "#1a1a1a"))
    return found


SVG_MEMO = 16
"""Rendered maps kept per process (least recently used dropped first): about 1 MB each."""
_svgs: OrderedDict[tuple[int, str, str | None, str], tuple[CountyMap, Markup]] = OrderedDict()
_svgs_lock = threading.Lock()


def map_svg(
    m: CountyMap, prefix: str = "map", target: str | None = None, lang: str = i18n.DEFAULT
) -> Markup:
    """The map's SVG, rendered once per map object: kb keeps each map per build, layer and
    date, so a page costs one render per build. Its own small memo, not the fragment one,
    because a map is a megabyte where a table cell is a kilobyte. The entry holds the map, so
    its id cannot be reused by another while the entry exists."""
    key = (id(m), prefix, target, lang)
    with _svgs_lock:
        kept = _svgs.get(key)
        if kept is not None:
            _svgs.move_to_end(key)
            return kept[1]
    svg = Markup(_svg(m, prefix, target, lang))
    with _svgs_lock:
        _svgs[key] = (m, svg)
        while len(_svgs) > SVG_MEMO:
            _svgs.popitem(last=False)
    return svg


def _svg(m: CountyMap, prefix: str, target: str | None, lang: str) -> str:
    """Written in Python, not a template loop: 3,141 links in about 10 ms instead of 100.
    Everything from the data is escaped; the patterns come from the template's macro. The
    title and each county's value (a message, kb.message) are in `lang`."""
    drawn = shapes()
    opens = f' target="{escape(target)}"' if target else ""
    patterns = env.get_template("_county_map.html").module.patterns(swatches(m), prefix)  # type: ignore[attr-defined]
    title = i18n.gettext(lang, m.title)
    label = escape(i18n.gettext(lang, MAP_LABEL) % {"title": title})
    values: dict[str, str] = {}
    for c in m.counties:  # a few dozen values among 3,193 counties: each written once
        if c.value not in values:
            values[c.value] = i18n.say(lang, c.said)
    parts = [
        f'<svg class="county-map" viewBox="0 0 {drawn.width} {drawn.height}" role="group" '
        f'aria-label="{label}">\n{patterns}\n<g class="counties">\n'
    ]
    fill = escape(prefix)
    for c in m.counties:
        d = drawn.counties.get(c.fips)
        if not d:
            continue
        name = escape(f"{c.name}: {values[c.value]}")
        parts.append(
            f'<a href="/where/{escape(c.jurisdiction_id)}"{opens} aria-label="{name}">'
            f'<title>{name}</title><path d="{escape(d)}" fill="url(#{fill}-p{c.index})"/></a>\n'
        )
    parts.append(f'</g>\n<path class="state-lines" d="{escape(drawn.states)}"/>\n</svg>')
    return "".join(parts)


MAP_LABEL = N_("Map of US counties: %(title)s")


@pass_context
def _map_svg_here(
    context: Context, m: CountyMap, prefix: str = "map", target: str | None = None
) -> Markup:
    """map_svg in the page's language."""
    return map_svg(m, prefix, target, context.get("lang", i18n.DEFAULT))


env.globals.update(map_svg=_map_svg_here)


def _context(request: Request, db: DB) -> tuple[dict[str, Any], int]:
    layer = request.query_params.get("layer") or DEFAULT_LAYER
    on = request.query_params.get("on", "")
    context: dict[str, Any] = {
        "layer": layer,
        "on": on,
        "layers": layers(db),
        "map": None,
        "swatches": [],
        "shapes": shapes(),
        "error": None,
        "as_of": store.build_info(db).built_at.date(),
        "public_url": request.app.state.settings.public_url,
    }
    try:
        m = county_map(db, layer, parse_on(on))
    except InvalidParameter as error:
        context["error"] = error.public
        return context, 400
    context |= {"map": m, "swatches": swatches(m)}
    return context, 200


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, db: DB) -> HTMLResponse:
    context, status_code = _context(request, db)
    return render(request, "map.html", context, status_code)


@router.get("/map/table", response_class=HTMLResponse)
def map_table(request: Request, db: DB) -> HTMLResponse:
    context, status_code = _context(request, db)
    return render(request, "map_table.html", context, status_code)


@router.get("/embed/map", response_class=HTMLResponse)
def embed_map(request: Request, db: DB) -> HTMLResponse:
    context, status_code = _context(request, db)
    query_string = request.url.query  # relative, so it never repeats the Host header
    context["full_url"] = "/map" + (f"?{query_string}" if query_string else "")
    return render(request, "embed_map.html", context, status_code)
