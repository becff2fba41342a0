"""Every fixed phrase of the one-page ask, per language: translate here, nowhere else.

The points themselves come from the model language (protocols/models/) and the reasons from the
findings (protocols/models/findings.yaml); only the words around them live here. Those points and
reasons are put into another language by the catalogue (api/locale, docs/i18n.md), which the web
tier hands kb.ask as a `translate` function. `{place}`, `{body}`, `{n}` and the like are filled in
by kb.ask. A new language is one more entry in ASK_TEXT with every key of "en"
(tests/kb/test_draft_ask.py checks that)."""

from __future__ import annotations

ASK_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "What we ask of {place}",
        "to": "To {body}",
        "intro": (
            "We ask you to adopt {instrument_a} that limits local participation in federal "
            "civil immigration enforcement. Each point below is drawn from a law that took "
            "effect elsewhere; the full draft, with every section, citation and source, is "
            "attached."
        ),
        "asks": "What we ask",
        "drawn_from": "Drawn from",
        "and_more": "and {n} more",
        "further": (
            "Adopt the rest of the attached draft too: {headings} (sections {first} to {last})."
        ),
        "further_one": "Adopt the rest of the attached draft too: {headings} (section {first}).",
        "why": "Why",
        "source": "Source",
        "state_law": "State law",
        "state_law_intro": "State law limits what may be adopted here; the draft leaves out:",
        "state_law_requires": "requires “{label}” on {subject}",
        "state_law_caps": "allows no more than “{label}” on {subject}",
        "state_law_penalties": "Penalties it sets: {kinds}.",
        "source_note": "",
        "closing": (
            "This summary and the attached draft are a starting point for your counsel, not "
            "legal advice."
        ),
        "instrument_a_ordinance": "an ordinance",
        "instrument_a_act": "an act",
        "body_state": "the Legislature of {place}",
        "body_local": "the governing body of {place}",
        "no_points": "The options chosen leave no section to ask for.",
    },
    # Neutral Spanish, `usted`, the glossary of docs/i18n.md. The points, reasons and the
    # subjects and labels of the state-law sentences come from the catalogue; the names of laws,
    # their citations and the full draft stay English, which `source_note` says once.
    "es": {
        "title": "Lo que pedimos a {place}",
        "to": "{body}",
        "intro": (
            "Le pedimos que adopte {instrument_a} que limite la participación local en la "
            "aplicación de las leyes federales de inmigración en materia civil. Cada punto de "
            "abajo viene de una ley que entró en vigor en otro lugar; el borrador completo, con "
            "cada sección, cita y fuente, va adjunto."
        ),
        "asks": "Lo que pedimos",
        "drawn_from": "Tomado de",
        "and_more": "y {n} más",
        "further": (
            "Adopte también el resto del borrador adjunto: {headings} (secciones {first} a {last})."
        ),
        "further_one": "Adopte también el resto del borrador adjunto: {headings} (sección {first}).",
        "why": "Por qué",
        "source": "Fuente",
        "state_law": "Ley estatal",
        "state_law_intro": "La ley estatal limita lo que se puede adoptar aquí; el borrador omite:",
        "state_law_requires": "exige «{label}» en cuanto a {subject}",
        "state_law_caps": "no permite más que «{label}» en cuanto a {subject}",
        "state_law_penalties": "Sanciones que establece: {kinds}.",
        "source_note": (
            "Los nombres de las leyes, sus citas y el borrador completo quedan en inglés, el "
            "idioma de sus fuentes."
        ),
        "closing": (
            "Este resumen y el borrador adjunto son un punto de partida para sus abogados, no "
            "asesoría legal."
        ),
        "instrument_a_ordinance": "una ordenanza",
        "instrument_a_act": "una ley",
        # With the preposition: "a" + "el" is written "al".
        "body_state": "A la Legislatura de {place}",
        "body_local": "Al órgano de gobierno de {place}",
        "no_points": "Las opciones elegidas no dejan ninguna sección que pedir.",
    },
}

LANGUAGES = tuple(ASK_TEXT)


def ask_text(lang: str) -> dict[str, str]:
    """The phrases of one language (English for any language not written yet)."""
    return ASK_TEXT.get(lang, ASK_TEXT["en"])
