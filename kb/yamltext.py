"""YAML loading that remembers the line of every key and item, for `path:line` messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_scalars = yaml.constructor.SafeConstructor()

KeyPath = tuple[str | int, ...]
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class YamlDoc:
    """Parsed data plus where each piece came from."""

    data: Any
    first_line: int
    lines: dict[KeyPath, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[int, str]] = field(default_factory=list)

    def line(self, *path: str | int) -> int:
        """Line of `path`, or of its nearest ancestor that has one."""
        key: KeyPath = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.first_line


def load_yaml(text: str, first_line: int = 1) -> YamlDoc:
    """Parse one YAML document. Dates are kept as the text written, so a bad date is a
    validation message rather than a crash; duplicate keys are reported, not silently dropped."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(line, f"YAML syntax error: {problem}") from exc
    doc = YamlDoc(data=None, first_line=first_line)
    if node is not None:
        doc.data = _build(node, (), doc)
    return doc


def _build(node: yaml.Node, path: KeyPath, doc: YamlDoc) -> Any:
    doc.lines.setdefault(path, doc.first_line + node.start_mark.line)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            # Keys stay the text written: YAML 1.1 would read `on:` or `no:` as booleans.
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            line = doc.first_line + key_node.start_mark.line
            if key in result:
                doc.duplicate_keys.append((line, key))
            child: KeyPath = (*path, key)
            doc.lines[child] = line
            result[key] = _build(value_node, child, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), doc) for i, item in enumerate(node.value)]
    return _build_scalar(node)


def _build_scalar(node: yaml.Node) -> Any:
    if node.tag == TIMESTAMP_TAG:
        return str(node.value)
    return _scalars.construct_object(node, deep=True)
