"""Loading and validating the whole protocols/ folder into a Dataset, with every problem found."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from kb.codebook import BOOLEAN, CHOICE, KEY_TYPES, NOT_ADDRESSED, Codebook, CodebookKey, value_text
from kb.errors import Problem, ValidationFailed, display_path
from kb.fields import Fields, Report
from kb.gazetteer import GAZETTEER, merge, read_gazetteer
from kb.model_language import MODELS_DIR, check_model_references, model_files, read_models
from kb.protocol_file import read_context, read_protocol
from kb.records import (
    LEVELS,
    ContextRecord,
    Dataset,
    JurisdictionRecord,
    ProtocolRecord,
    TopicRecord,
)
from kb.yamltext import YamlSyntaxError, load_yaml

CODEBOOK, TOPICS, JURISDICTIONS = "codebook.yaml", "topics.yaml", "jurisdictions.yaml"
CONTEXT_DIR = "context"
RESERVED_DIRS = {CONTEXT_DIR, MODELS_DIR, GAZETTEER.parts[0]}
KEY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
STATE = re.compile(r"^[A-Z]{2}$")

Progress = Callable[[int, int], None]


class _Collector:
    """The problems found by one load."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def reporter(self, path: Path | str) -> Report:
        """Report problems of one file; a str is a path already made displayable."""
        shown = path if isinstance(path, str) else display_path(path)
        return lambda line, message: self.problems.append(Problem(shown, line, message))

    def read(self, path: Path, root: Path) -> str | None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self.problems.append(Problem(display_path(path), 1, f"cannot read: {exc.strerror}"))
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            self.problems.append(Problem(display_path(path), line, "not UTF-8 text"))
            return None

    def yaml_list(self, root: Path, name: str, list_key: str) -> list[Fields]:
        path = root / name
        report = self.reporter(path)
        if not path.exists():
            report(1, f"missing: protocols need {name} (docs/protocol-format.md)")
            return []
        text = self.read(path, root)
        if text is None:
            return []
        try:
            doc = load_yaml(text)
        except YamlSyntaxError as exc:
            report(exc.line, exc.message)
            return []
        for line, key in doc.duplicate_keys:
            report(line, f"field {key!r} is given twice")
        return Fields(doc, (), doc.data, report).items(list_key)


def load_dataset(root: Path, progress: Progress | None = None) -> tuple[Dataset, list[Problem]]:
    """Read everything under `root`; the dataset is only trustworthy when problems is empty."""
    found = _Collector()
    topics = _read_topics(found.yaml_list(root, TOPICS, "topics"))
    topic_ids = {t.id for t in topics}
    codebook = _read_codebook(found.yaml_list(root, CODEBOOK, "keys"), topic_ids)
    jurisdictions = _read_jurisdictions(
        found.yaml_list(root, JURISDICTIONS, "jurisdictions"),
        _read_gazetteer(root, found),
        found.reporter(root / GAZETTEER),
    )

    contexts: list[ContextRecord] = []
    for path in sorted((root / CONTEXT_DIR).glob("*.md")):
        text = found.read(path, root)
        report = found.reporter(path)
        record = read_context(text, display_path(path), report) if text is not None else None
        if record is not None:
            if record.id and record.id != path.stem:
                report(1, f"id {record.id!r} must equal the file name {path.stem!r}")
            contexts.append(record)

    protocol_paths = [
        p for p in content_files(root) if p.suffix == ".md" and p.parent.name != CONTEXT_DIR
    ]
    protocols: list[ProtocolRecord] = []
    unreadable: set[str] = set()  # ids of files too broken to read: links to them are not faulted
    for n, path in enumerate(protocol_paths, start=1):
        text = found.read(path, root)
        protocol = (
            read_protocol(text, display_path(path), codebook, found.reporter(path))
            if text is not None
            else None
        )
        if protocol is None:
            unreadable.add(f"{path.parent.name}/{path.stem}")
        else:
            _check_location(protocol, path, found.reporter(path))
            protocols.append(protocol)
        if progress is not None:
            progress(n, len(protocol_paths))

    models = read_models(root, codebook, found.read, found.reporter, display_path)
    dataset = Dataset(
        codebook=codebook,
        topics=topics,
        jurisdictions=jurisdictions,
        protocols=protocols,
        contexts=contexts,
        version=content_version(root),
        models=models,
    )
    _check_references(dataset, found, unreadable)
    # A provision missing from a file that has problems of its own is that file's problem, not
    # the model's: only provisions of sound files are held against drawn_from.
    troubled = {str(problem.path) for problem in found.problems}
    doubtful = unreadable | {
        name
        for p in protocols
        if p.path in troubled
        for name in (p.id, f"{Path(p.path).parent.name}/{Path(p.path).stem}")
    }
    check_model_references(
        models,
        {p.provision_id(v.anchor): p.status for p in protocols for v in p.provisions},
        doubtful,
        {c.id for c in contexts},
        found.reporter,
    )
    return dataset, sorted(found.problems)


def content_files(root: Path) -> list[Path]:
    """Every file the content is made of, in a fixed order."""
    files = [root / name for name in (CODEBOOK, TOPICS, JURISDICTIONS) if (root / name).is_file()]
    files += [root / GAZETTEER] if (root / GAZETTEER).is_file() else []
    files += sorted((root / CONTEXT_DIR).glob("*.md"))
    files += sorted(p for p in root.glob("*/*.md") if p.parent.name not in RESERVED_DIRS)
    files += model_files(root)
    return files


def content_version(root: Path) -> str:
    """A digest of every content file: it changes whenever the content does."""
    digest = hashlib.sha256()
    for path in content_files(root):
        with suppress(OSError):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def load_valid_dataset(root: Path, progress: Progress | None = None) -> Dataset:
    dataset, problems = load_dataset(root, progress)
    if problems:
        raise ValidationFailed(problems)
    return dataset


def _read_topics(items: list[Fields]) -> list[TopicRecord]:
    topics: list[TopicRecord] = []
    seen: set[str] = set()
    for item in items:
        item.check_keys(("id", "name", "definition"))
        topic_id = item.slug("id")
        if topic_id in seen:
            item.problem(("id",), f"topic {topic_id!r} is listed twice")
        name, definition = item.text("name"), item.text("definition")
        if topic_id and name and definition:
            seen.add(topic_id)
            topics.append(TopicRecord(topic_id, name, definition))
    return topics


def _read_gazetteer(root: Path, found: _Collector) -> list[JurisdictionRecord]:
    path = root / GAZETTEER
    if not path.exists():  # optional: content without it lists every place in jurisdictions.yaml
        return []
    text = found.read(path, root)
    return [] if text is None else read_gazetteer(text, found.reporter(path))


def _read_jurisdictions(
    items: list[Fields], gazetteer: list[JurisdictionRecord], report_gazetteer: Report
) -> list[JurisdictionRecord]:
    seen: set[str] = set()
    for record in gazetteer:
        if record.id in seen:
            report_gazetteer(record.line, f"id {record.id!r} is listed twice")
        seen.add(record.id)
    records: list[JurisdictionRecord] = []
    for item in items:
        item.check_keys(("id", "name", "level", "state", "parent"))
        state = item.text("state")
        if state is not None and not STATE.match(state):
            item.problem(("state",), f"{state!r} is not a two-letter state code like IL")
        record = JurisdictionRecord(
            id=item.slug("id") or "",
            name=item.text("name") or "",
            level=item.choice("level", LEVELS) or "",
            state=state or "",
            parent=item.slug("parent", required=False),
            line=item.line(),
        )
        if any(r.id == record.id for r in records):
            item.problem(("id",), f"jurisdiction {record.id!r} is listed twice")
        elif record.parent and record.parent == record.id:
            item.problem(("parent",), "a jurisdiction cannot be its own parent")
        records.append(record)
    merged = merge(gazetteer, records)
    known = {r.id for r in merged}
    for item, record in zip(items, records, strict=True):
        if record.parent and record.parent not in known:
            item.problem(("parent",), f"unknown jurisdiction {record.parent!r}")
    listed = {r.id for r in records}
    for record in gazetteer:
        if record.parent and record.parent not in known and record.id not in listed:
            report_gazetteer(
                record.line, f"parent {record.parent!r} of {record.id!r} is not in the gazetteer"
            )
    return merged


def _read_codebook(items: list[Fields], topic_ids: set[str]) -> Codebook:
    keys: dict[str, CodebookKey] = {}
    invalid: set[str] = set()
    for item in items:
        item.check_keys(("key", "type", "topic", "question", "values", "labels", "unit"))
        name, key_type = item.text("key"), item.choice("type", KEY_TYPES)
        topic, question = item.slug("topic"), item.text("question")
        if name is not None and not KEY_NAME.match(name):
            item.problem(("key",), f"{name!r} is not a key name (lowercase letters, digits, _)")
            continue
        if name in keys:
            item.problem(("key",), f"codebook key {name!r} is listed twice")
            continue
        if topic is not None and topic not in topic_ids:
            item.problem(("topic",), f"unknown topic {topic!r}; topics are listed in topics.yaml")
        values = _codebook_values(item, key_type)
        labels = item.data.get("labels") or {}
        if not isinstance(labels, dict):
            item.problem(("labels",), "must be a mapping of value: label")
            labels = {}
        for value, label in labels.items():
            if not isinstance(label, str):
                # YAML reads a bare Yes, No, On or Off as true/false: the label must be quoted.
                item.problem(
                    ("labels", value),
                    f'label {label!r} is not text; quote it ("{label if not isinstance(label, bool) else ("Yes" if label else "No")}")',
                )
        if not (name and key_type and topic and question and values is not None):
            invalid.add(str(item.data.get("key")))
        else:
            keys[name] = CodebookKey(
                key=name,
                type=key_type,
                topic=topic,
                question=question,
                values=tuple(values),
                labels={value_text(k) or "null": str(v) for k, v in labels.items()},
                unit=item.text("unit", required=False),
            )
    return Codebook(keys, frozenset(invalid))


def _codebook_values(item: Fields, key_type: str | None) -> list[Any] | None:
    values = item.data.get("values")
    if key_type not in (CHOICE, BOOLEAN):
        if values is not None:
            item.problem(("values",), f"{key_type} keys take no list of values")
        return []
    if not isinstance(values, list) or len(values) < 2:
        item.problem(("values",), "list the allowed values, most protective first")
        return None
    if key_type == CHOICE and (
        values[-1] != NOT_ADDRESSED or not all(isinstance(v, str) for v in values)
    ):
        item.problem(("values",), f"choice values are words, and the last must be {NOT_ADDRESSED}")
        return None
    if key_type == BOOLEAN and (
        sorted(map(str, values)) != ["False", "None", "True"] or values[-1] is not None
    ):
        item.problem(
            ("values",), "boolean values are true and false in protective order, then null"
        )
        return None
    return values


def _check_location(record: ProtocolRecord, path: Path, report: Report) -> None:
    expected = f"{path.parent.name}/{path.stem}"
    if record.id and record.id != expected:
        report(record.lines["id"], f"id {record.id!r} must match the file's place: {expected!r}")
    if record.jurisdiction and record.jurisdiction != path.parent.name:
        report(
            record.lines["jurisdiction"],
            f"jurisdiction {record.jurisdiction!r} must match the folder {path.parent.name!r}",
        )


def _check_references(dataset: Dataset, found: _Collector, unreadable: set[str]) -> None:
    """Checks that need more than one file: ids, links, topics, sources and context records."""
    jurisdictions = {j.id for j in dataset.jurisdictions}
    topics = {t.id for t in dataset.topics}
    contexts = {c.id for c in dataset.contexts}
    context_kinds = {c.id: c.kind for c in dataset.contexts}
    by_id: dict[str, ProtocolRecord] = {}
    for protocol in dataset.protocols:
        report = found.reporter(protocol.path)
        if protocol.id in by_id:
            report(
                protocol.lines["id"],
                f"protocol id {protocol.id!r} is also used by {by_id[protocol.id].path}",
            )
        by_id.setdefault(protocol.id, protocol)
        if protocol.jurisdiction and protocol.jurisdiction not in jurisdictions:
            report(
                protocol.lines["jurisdiction"],
                f"unknown jurisdiction {protocol.jurisdiction!r}; add it to jurisdictions.yaml",
            )
        for case in protocol.litigation:
            for context_id in case.context:
                if context_id not in contexts:
                    report(case.line, f"litigation: unknown background record {context_id!r}")
            for place in case.jurisdictions:
                if place not in jurisdictions:
                    report(case.line, f"litigation: unknown jurisdiction {place!r}")
        for listing in protocol.listings:
            if listing.list_id not in contexts:
                report(listing.line, f"listings: unknown background record {listing.list_id!r}")
            elif context_kinds[listing.list_id] != "list":
                report(
                    listing.line,
                    f"listings: background record {listing.list_id!r} is a "
                    f"{context_kinds[listing.list_id]!r}, not a 'list'",
                )
        source_ids = {s.id for s in protocol.sources}
        anchors: set[str] = set()
        for provision in protocol.provisions:
            if provision.anchor in anchors:
                report(provision.line, f"anchor {provision.anchor!r} is used twice in this file")
            anchors.add(provision.anchor)
            for values, known, message in (
                (
                    provision.topics,
                    topics,
                    "unknown topic {!r}; topics are listed in protocols/topics.yaml",
                ),
                (
                    provision.sources,
                    source_ids,
                    "unknown source {!r}; give it as `id:` under sources",
                ),
                (
                    provision.context,
                    contexts,
                    "unknown background record {!r}; see protocols/context/",
                ),
            ):
                for value in values:
                    if value not in known:
                        report(provision.line, message.format(value))
    for protocol in dataset.protocols:
        report = found.reporter(protocol.path)
        for field, links, back in (
            ("predecessor", protocol.predecessors, "successor"),
            ("successor", protocol.successors, "predecessor"),
        ):
            for other_id in links:
                other = by_id.get(other_id)
                if other is None and other_id not in unreadable:
                    report(protocol.lines[field], f"{field} {other_id!r} is not a protocol id")
                elif other is not None and protocol.id not in (
                    other.successors if back == "successor" else other.predecessors
                ):
                    report(
                        protocol.lines[field],
                        f"{field} {other_id!r} does not list {protocol.id!r} as its {back}",
                    )
