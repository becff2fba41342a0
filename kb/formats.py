"""Comparison results as CSV (opens cleanly in Excel), JSON and Markdown, for downloads and the API."""

from __future__ import annotations

import csv
import io
import json

from kb.codebook import BOOLEAN, CHOICE, Codebook, value_text
from kb.compare import Comparison
from kb.models import ProtocolPublic

FORMATS = ("json", "csv", "md")
CSV_COLUMNS = (
    "key",
    "question",
    "protocol_id",
    "jurisdiction_name",
    "value",
    "label",
    "most_protective",
    "row_differs",
    "note",
    "provisions",
    "sources",
)


def comparison_json(comparison: Comparison) -> str:
    return comparison.model_dump_json(indent=2) + "\n"


def comparison_csv(comparison: Comparison) -> str:
    """One row per cell; UTF-8 with a byte-order mark so Excel reads accents and § correctly."""
    names = {p.id: p.jurisdiction_name for p in comparison.protocols}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in comparison.rows:
        for cell in row.cells:
            writer.writerow(
                [
                    row.key,
                    row.question,
                    cell.protocol_id,
                    names[cell.protocol_id],
                    "" if cell.value is None else json.dumps(cell.value).strip('"'),
                    cell.label,
                    "yes" if cell.strongest else "no",
                    "yes" if row.differs else "no",
                    cell.note or "",
                    "; ".join(f"{p.cite} ({p.id})" for p in cell.provisions),
                    "; ".join(s.url for s in cell.sources),
                ]
            )
    return "\ufeff" + out.getvalue()


def comparison_markdown(comparison: Comparison) -> str:
    """A table per comparison; the most protective cell in a row is marked in words and bold."""
    header = ["Question", *(f"{p.jurisdiction_name}: {p.title}" for p in comparison.protocols)]
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in comparison.rows:
        cells = []
        for cell in row.cells:
            text = cell.label + (f" ({cell.note})" if cell.note else "")
            cites = ", ".join(p.cite for p in cell.provisions)
            if cites:
                text += f" [{cites}]"
            cells.append(f"**{text}** (most protective)" if cell.strongest else text)
        lines.append("| " + " | ".join(_cell(c) for c in [row.question, *cells]) + " |")
    legend = (
        "\nMost protective: the answer that protects immigrant community members most, by the "
        "codebook's order; a protocol that says nothing is never the most protective.\n"
    )
    return "\n".join(lines) + "\n" + legend


def _cell(text: str) -> str:
    """Markdown table cell text: pipes escaped, line breaks flattened."""
    return " ".join(text.replace("|", "\\|").split())


CODED_ANSWER_COLUMNS = (
    "protocol_id",
    "jurisdiction_id",
    "status",
    "year",
    "key",
    "value",
    "label",
    "rank",
    "note",
    "confidence",
    "provision_ids",
    "effect",
)


def coded_answers_csv(book: Codebook, protocols: list[ProtocolPublic]) -> str:
    """Every coded answer: one row per protocol and codebook key, protocols by id, keys in
    codebook order (a key a protocol does not address is a row too, with an empty value).
    UTF-8 with a byte-order mark, like the comparison CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CODED_ANSWER_COLUMNS)
    for protocol in sorted(protocols, key=lambda p: p.id):
        answers = {a.key: a for a in protocol.coding}
        for spec in book:
            answer = answers.get(spec.key)
            value = answer.value if answer else None
            rank = spec.rank(value) if spec.type in (CHOICE, BOOLEAN) else None
            writer.writerow(
                [
                    protocol.id,
                    protocol.jurisdiction_id,
                    protocol.status,
                    "" if protocol.year is None else protocol.year,
                    spec.key,
                    value_text(value) or "",
                    answer.label if answer else spec.label(None),
                    "" if rank is None else rank,
                    (answer.note if answer else None) or "",
                    (answer.confidence if answer else None) or "",
                    " ".join(answer.provisions) if answer else "",
                    (answer.effect if answer else None) or "",
                ]
            )
    return "\ufeff" + out.getvalue()
