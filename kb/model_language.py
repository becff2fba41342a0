"""Model language for drafting (protocols/models/): reading and checking it (docs/model-language.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.codebook import BOOLEAN, CHOICE, INTEGER, TEXT, Codebook, Value
from kb.fields import Fields, Report
from kb.yamltext import YamlSyntaxError, load_yaml

MODELS_DIR = "models"
DEFINITIONS, FINDINGS = "definitions.yaml", "findings.yaml"
PLACEHOLDERS = (
    "jurisdiction",
    "Agency",
    "agency",
    "personnel",
    "instrument",
    "governing body",
    "Governing body",
)
NOT_IN_EFFECT = ("introduced", "passed", "vetoed")
"""Statuses of protocols that never took effect: model language is never drawn from them."""

_PLACEHOLDER = re.compile(r"\[\[([^\]]*)\]\]")
LEVEL_FIELDS = ("value", "title", "summary", "text", "drawn_from", "terms", "context", "note")


@dataclass
class ModelLevel:
    value: Value
    title: str
    summary: str
    text: str
    note: str
    drawn_from: list[str]
    terms: list[str]
    context: list[str]
    line: int


@dataclass
class ModelKey:
    key: str
    heading: str
    levels: list[ModelLevel]
    path: str


@dataclass
class ModelTerm:
    id: str
    term: str
    definition: str
    context: list[str]
    line: int


@dataclass
class ModelFinding:
    context: str
    text: str
    always: bool
    line: int


@dataclass
class ModelSet:
    keys: list[ModelKey] = field(default_factory=list)
    terms: list[ModelTerm] = field(default_factory=list)
    findings: list[ModelFinding] = field(default_factory=list)
    definitions_path: str = ""
    findings_path: str = ""


def model_files(root: Path) -> list[Path]:
    return sorted((root / MODELS_DIR).glob("*.yaml"))


def read_models(root: Path, codebook: Codebook, read: Any, reporter: Any, display: Any) -> ModelSet:
    """Read protocols/models/ (absent is fine: no drafting). `read`, `reporter` and `display`
    are the loader's: text of a file or None, a Report for a path, a path as shown to people."""
    models = ModelSet()
    folder = root / MODELS_DIR
    if not folder.is_dir():
        return models
    for path in model_files(root):
        text = read(path, root)
        report: Report = reporter(path)
        if text is None:
            continue
        try:
            doc = load_yaml(text)
        except YamlSyntaxError as exc:
            report(exc.line, exc.message)
            continue
        for line, key in doc.duplicate_keys:
            report(line, f"field {key!r} is given twice")
        top = Fields(doc, (), doc.data, report)
        if path.name == DEFINITIONS:
            models.definitions_path = display(path)
            models.terms = _read_terms(top)
        elif path.name == FINDINGS:
            models.findings_path = display(path)
            models.findings = _read_findings(top)
        else:
            model = _read_key(top, path, codebook, report)
            if model is not None:
                model.path = display(path)
                models.keys.append(model)
    return models


def _read_terms(top: Fields) -> list[ModelTerm]:
    top.check_keys(["terms"])
    terms = []
    for item in top.items("terms"):
        item.check_keys(["id", "term", "definition", "context"])
        terms.append(
            ModelTerm(
                id=item.slug("id") or "",
                term=item.text("term") or "",
                definition=item.text("definition") or "",
                context=item.ids("context"),
                line=item.line(),
            )
        )
    return terms


def _read_findings(top: Fields) -> list[ModelFinding]:
    top.check_keys(["findings"])
    findings = []
    for item in top.items("findings"):
        item.check_keys(["context", "text", "always"])
        always = item.raw("always", required=False)
        if always is not None and not isinstance(always, bool):
            item.problem(("always",), "must be true or false")
        findings.append(
            ModelFinding(
                context=item.slug("context") or "",
                text=item.text("text") or "",
                always=always is True,
                line=item.line(),
            )
        )
    return findings


def _read_key(top: Fields, path: Path, codebook: Codebook, report: Report) -> ModelKey | None:
    top.check_keys(["key", "heading", "levels"])
    key = top.text("key")
    heading = top.text("heading") or ""
    if key is None:
        return None
    if key != path.stem:
        top.problem(("key",), f"{key!r} must equal the file name {path.stem!r}")
    if key in codebook.invalid:
        return None  # the codebook's own problem, reported there
    if key not in codebook:
        top.problem(("key",), f"{key!r} is not a codebook key; see protocols/codebook.yaml")
        return None
    spec = codebook[key]
    if spec.type == TEXT:
        top.problem(("key",), f"{key!r} is a text question: it has no levels to draft")
        return None
    levels = []
    for item in top.items("levels"):
        item.check_keys(LEVEL_FIELDS)
        value = item.raw("value", required=True)
        if "value" in item.data and not _allowed(spec, value):
            item.problem(
                ("value",), f"{value!r} is not a level of {key}: {spec.describe_allowed()}"
            )
            continue
        if "value" in item.data and spec.is_unaddressed(value):
            item.problem(("value",), "the 'not addressed' answer is not something to draft")
            continue
        text = item.text("text") or ""
        for name in _PLACEHOLDER.findall(text):
            if name not in PLACEHOLDERS:
                item.problem(
                    ("text",),
                    f"unknown placeholder [[{name}]]; allowed: "
                    + ", ".join(f"[[{p}]]" for p in PLACEHOLDERS),
                )
        drawn_from = item.ids("drawn_from")
        if not drawn_from and item.ok:
            item.problem(("drawn_from",), "name at least one enacted provision this is drawn from")
        levels.append(
            ModelLevel(
                value=value,
                title=item.text("title") or "",
                summary=item.text("summary") or "",
                text=text,
                note=item.text("note") or "",
                drawn_from=drawn_from,
                terms=item.ids("terms"),
                context=item.ids("context"),
                line=item.line(),
            )
        )
    if not levels and top.ok and "levels" in top.data:
        top.problem(("levels",), "give at least one level")
    ranks = [spec.rank(level.value) or 0 for level in levels]  # never None: silence was refused
    seen: set[Any] = set()
    for level, rank in zip(levels, ranks, strict=True):
        if rank in seen:
            report(level.line, f"level {level.value!r} is given twice")
        seen.add(rank)
    if levels and ranks != sorted(ranks):
        report(
            levels[0].line, "levels must run from most to least protective (the codebook's order)"
        )
    if levels and spec.type in (CHOICE, BOOLEAN) and ranks[0] != 0:
        report(
            levels[0].line,
            f"the first level must be the most protective answer, {spec.values[0]!r}",
        )
    return ModelKey(key=key, heading=heading, levels=levels, path="")


def _allowed(spec: Any, value: Any) -> bool:
    if spec.type == INTEGER:
        return type(value) is int and value >= 0
    return bool(spec.allows(value))


def check_model_references(
    models: ModelSet,
    provisions: dict[str, str],
    doubtful: set[str],
    contexts: set[str],
    reporter: Any,
) -> None:
    """`provisions` maps every provision id to its protocol's status; `doubtful` names protocols
    whose files have problems of their own (a provision missing there is not reported again)."""
    terms = {t.id for t in models.terms}
    for model in models.keys:
        report: Report = reporter(model.path)
        for level in model.levels:
            for pid in level.drawn_from:
                status = provisions.get(pid)
                if status is None and pid.rpartition("/")[0] not in doubtful:
                    report(
                        level.line,
                        f"drawn_from {pid!r} is not a provision id (<protocol id>/<anchor>)",
                    )
                elif status in NOT_IN_EFFECT:
                    report(
                        level.line,
                        f"drawn_from {pid!r} is in a protocol that never took effect ({status}); cite enacted law",
                    )
            for term in level.terms:
                if term not in terms:
                    report(level.line, f"unknown term {term!r}; define it in models/{DEFINITIONS}")
            for context in level.context:
                if context not in contexts:
                    report(
                        level.line, f"unknown background record {context!r}; see protocols/context/"
                    )
    if models.terms:
        report = reporter(models.definitions_path)
        defined: set[str] = set()
        for defined_term in models.terms:
            if defined_term.id in defined:
                report(defined_term.line, f"term {defined_term.id!r} is defined twice")
            defined.add(defined_term.id)
            for context in defined_term.context:
                if context not in contexts:
                    report(
                        defined_term.line,
                        f"unknown background record {context!r}; see protocols/context/",
                    )
    if models.findings:
        report = reporter(models.findings_path)
        for finding in models.findings:
            if finding.context and finding.context not in contexts:
                report(
                    finding.line,
                    f"unknown background record {finding.context!r}; see protocols/context/",
                )
