"""A resolution (kb.resolve) as a plain-text table or as Markdown, for the CLI."""

from __future__ import annotations

from kb.resolve import LAYER_LABELS, Resolution, ResolvedAnswer

NOT_ADVICE = (
    "This is a reading of the laws recorded in protocol-kb, not legal advice: the records may be "
    "incomplete, and courts and lawyers may read the laws differently."
)


def _source(answer: ResolvedAnswer) -> str:
    if not answer.rules:
        return "no recorded law addresses this"
    rule = answer.rules[0]
    cites = "; ".join(c for c in rule.citations if c)
    return f"{rule.title}: {cites or rule.citation}"


def _flags(answer: ResolvedAnswer) -> list[str]:
    flags = []
    if answer.conflict:
        flags.append(f"conflict: {answer.conflict}")
    for case in answer.cases:
        if case.pending or case.enjoined:
            state = "enjoined" if case.enjoined else "pending"
            flags.append(f"in court ({state}): {case.case}, {case.court}")
    return flags


def resolution_table(resolution: Resolution) -> str:
    place = resolution.jurisdiction
    lines = [f"{place.name} ({place.id}) on {resolution.as_of.isoformat()}", ""]
    width = max(len(a.key) for a in resolution.answers)
    for a in resolution.answers:
        layer = LAYER_LABELS[a.layer] if a.layer else "-"
        lines.append(f"{a.key:<{width}}  {a.label}  [{layer}; {a.room_label}]")
        lines.append(f"{'':<{width}}  from: {_source(a)}")
        lines += [f"{'':<{width}}  {flag}" for flag in _flags(a)]
    lines += ["", NOT_ADVICE, ""]
    return "\n".join(lines)


def resolution_markdown(resolution: Resolution) -> str:
    place = resolution.jurisdiction
    lines = [
        f"# What rules apply in {place.name}?",
        "",
        f"As of {resolution.as_of.isoformat()}. {NOT_ADVICE}",
        "",
        "| question | answer | layer | room left | source |",
        "|---|---|---|---|---|",
    ]
    for a in resolution.answers:
        layer = LAYER_LABELS[a.layer] if a.layer else ""
        cells = [a.question, a.label, layer, a.room_label, _source(a)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    flagged = [(a, flag) for a in resolution.answers for flag in _flags(a)]
    if flagged:
        lines += ["", "## Conflicts and cases", ""]
        lines += [f"- **{a.question}**: {flag}" for a, flag in flagged]
    laws = [law for law in resolution.laws if law.governs]
    if laws:
        lines += ["", "## Laws in force here", ""]
        for law in laws:
            lines.append(f"- {law.title} ({law.citation}), {LAYER_LABELS[law.layer]}: {law.reason}")
            lines += [
                f"  - penalty ({p.kind.replace('_', ' ')}): {p.summary} Liable: {p.liable}."
                + (f" Amount: {p.amount}." if p.amount else "")
                for p in law.penalties
            ]
    return "\n".join(lines) + "\n"
