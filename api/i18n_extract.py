"""Babel extractors for the content the site translates at render time: the codebook's
questions, answer labels and units, the topics' names and definitions, and what the one-page ask
takes from the model language: headings, level titles and summaries, findings (babel.cfg).

Their msgids are the English text as kb.loader reads it (stripped), so a changed question in
protocols/ drops out of the catalogue until it is translated again (tests/api/test_i18n.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

Extracted = Iterator[tuple[int, str, str | tuple[str, str], list[str]]]


def _line_of(lines: list[str], text: str) -> int:
    start = text.split()[0] if text.split() else text
    for number, line in enumerate(lines, 1):
        if start in line and text[:30].split("\n")[0][:20] in " ".join(
            lines[number - 1 : number + 2]
        ):
            return number
    return 1


def codebook(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Extracted:
    source = fileobj.read().decode("utf-8")
    lines = source.splitlines()
    for item in (yaml.safe_load(source) or {}).get("keys") or []:
        key = item.get("key", "")
        question = str(item.get("question") or "").strip()
        if question:
            yield _line_of(lines, question), "gettext", question, [f"codebook question: {key}"]
        for value, label in (item.get("labels") or {}).items():
            text = str(label).strip()
            yield _line_of(lines, text), "gettext", text, [f"codebook answer: {key} = {value}"]
        unit = str(item.get("unit") or "").strip()
        if unit:
            yield (
                _line_of(lines, unit),
                "ngettext",
                (unit.removesuffix("s"), unit),
                [f"codebook unit of {key}, after a number"],
            )


def topics(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Extracted:
    source = fileobj.read().decode("utf-8")
    lines = source.splitlines()
    for item in (yaml.safe_load(source) or {}).get("topics") or []:
        topic = item.get("id", "")
        for field in ("name", "definition"):
            text = str(item.get(field) or "").strip()
            if text:
                yield _line_of(lines, text), "gettext", text, [f"topic {field}: {topic}"]


def models(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Extracted:
    """protocols/models/*.yaml: each question's heading and each level's title and summary, and
    the findings; single-spaced, as kb.ask.content_text looks them up. The legal text of a level
    (`text`, `note`) and the definitions stay English, as the full draft does."""
    source = fileobj.read().decode("utf-8")
    lines = source.splitlines()
    data = yaml.safe_load(source) or {}
    key = data.get("key", "")
    heading = " ".join(str(data.get("heading") or "").split())
    if heading:
        yield _line_of(lines, heading), "gettext", heading, [f"model heading: {key}"]
    for level in data.get("levels") or []:
        for field in ("title", "summary"):
            text = " ".join(str(level.get(field) or "").split())
            if text:
                where = f"model {field}: {key} = {level.get('value')}"
                yield _line_of(lines, text), "gettext", text, [where]
    for finding in data.get("findings") or []:
        text = " ".join(str(finding.get("text") or "").split())
        if text:
            yield _line_of(lines, text), "gettext", text, [f"finding: {finding.get('context')}"]
