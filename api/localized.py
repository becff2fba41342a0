"""The API's answers in a language: copies of kb's records with their questions, answer labels
and topic names translated. Keys, ids and values are never touched; kb's own (per-build,
shared) objects are never changed."""

from __future__ import annotations

from api.i18n import DEFAULT, answer_label, gettext
from kb import models
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
