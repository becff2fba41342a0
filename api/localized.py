"""The API's answers in a language: copies of kb's records with their questions, answer labels
and topic names translated. Keys, ids and values are never touched; kb's own (per-build,
shared) objects are never changed."""

from __future__ import annotations

import re
from collections.abc import Callable

from api.i18n import DEFAULT, answer_label, gettext, say
from kb import models
from kb.ask import DraftAnswer
from kb.compare import Comparison
from kb.resolve import Resolution
from kb.score import Score


def codebook_key(lang: str, key: models.CodebookKeyPublic) -> models.CodebookKeyPublic:
    if lang == DEFAULT:
        return key
    return key.model_copy(
        update={
            "question": gettext(lang, key.question),
            "labels": {value: gettext(lang, label) for value, label in key.labels.items()},
            "unit": gettext(lang, key.unit) if key.unit else key.unit,
        }
    )


def comparison(lang: str, found: Comparison) -> Comparison:
    if lang == DEFAULT:
        return found
    rows = [
        row.model_copy(
            update={
                "question": gettext(lang, row.question),
                "cells": [
                    cell.model_copy(update={"label": answer_label(lang, cell.label, cell.value)})
                    for cell in row.cells
                ],
            }
        )
        for row in found.rows
    ]
    topics = [t.model_copy(update={"name": gettext(lang, t.name)}) for t in found.topics]
    return found.model_copy(update={"rows": rows, "topics": topics})


def _score(lang: str, score: Score) -> Score:
    keys = [
        k.model_copy(
            update={
                "question": gettext(lang, k.question),
                "label": answer_label(lang, k.label, k.value),
            }
        )
        for k in score.keys
    ]
    return score.model_copy(update={"keys": keys, "rubric": gettext(lang, score.rubric)})


def resolution(lang: str, found: Resolution) -> Resolution:
    """Questions, labels and room labels translated; the reasons and conflicts kb writes in
    sentences stay English (docs/i18n.md)."""
    if lang == DEFAULT:
        return found
    answers = [
        a.model_copy(
            update={
                "question": gettext(lang, a.question),
                "label": answer_label(lang, a.label, a.value),
                "room_label": gettext(lang, a.room_label),
                "rules": [
                    r.model_copy(update={"label": answer_label(lang, r.label, r.value)})
                    for r in a.rules
                ],
            }
        )
        for a in found.answers
    ]
    return found.model_copy(update={"answers": answers, "score": _score(lang, found.score)})


_COUNT = re.compile(r"^(\d+) \S")


def content(lang: str) -> Callable[[str], str] | None:
    """kb.ask's `translate` for `lang`: content written in English (model titles and summaries,
    section headings, findings, answer labels, penalty words) from the catalogue; None for
    English. A label of a count ("48 hours") takes the number's plural form."""
    if lang == DEFAULT:
        return None

    def translate(text: str) -> str:
        count = _COUNT.match(text)
        if count:
            return answer_label(lang, text, int(count.group(1)))
        return gettext(lang, text)

    return translate


def draft(lang: str, answer: DraftAnswer) -> DraftAnswer:
    """A draft's notes with the questions and answer labels they name translated, and why state
    law leaves a clause out (the ask is written in `lang` by kb.ask already); the ordinance's
    sections and kb's other sentences stay English."""
    translate = content(lang)
    if translate is None:
        return answer
    explained = [n.model_copy(update={"question": translate(n.question)}) for n in answer.explained]
    left_out = [
        c.model_copy(
            update={
                "question": translate(c.question),
                "wanted_label": translate(c.wanted_label),
                "allowed_label": translate(c.allowed_label),
                "text": say(lang, c.text_message) if c.text_message is not None else c.text,
            }
        )
        for c in answer.left_out_by_law
    ]
    return answer.model_copy(update={"explained": explained, "left_out_by_law": left_out})
