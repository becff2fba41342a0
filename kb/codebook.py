"""The codebook: the questions every protocol answers, their allowed values and their order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHOICE, BOOLEAN, INTEGER, TEXT = "choice", "boolean", "integer", "text"
KEY_TYPES = (CHOICE, BOOLEAN, INTEGER, TEXT)
NOT_ADDRESSED = "not_addressed"

Value = str | int | bool | None


@dataclass(frozen=True)
class CodebookKey:
    key: str
    type: str
    topic: str
    question: str
    values: tuple[Value, ...] = ()
    """Allowed values, most protective first (choice and boolean keys)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Human label per value, keyed by `value_text(value)`."""
    unit: str | None = None

    def allows(self, value: Any) -> bool:
        if self.type in (CHOICE, BOOLEAN):
            return any(value is v or (type(value) is type(v) and value == v) for v in self.values)
        if self.type == INTEGER:
            return value is None or (type(value) is int and value >= 0)
        return value is None or (isinstance(value, str) and bool(value.strip()))

    def describe_allowed(self) -> str:
        if self.type in (CHOICE, BOOLEAN):
            return ", ".join(value_text(v) or "null" for v in self.values)
        if self.type == INTEGER:
            return "a whole number of " + (self.unit or "units") + " (0 or more), or null"
        return "text, or null"

    def is_unaddressed(self, value: Value) -> bool:
        return value is None or value == NOT_ADDRESSED

    def rank(self, value: Value) -> int | None:
        """Position in protectiveness order (0 = most protective); None when silent or text."""
        if self.is_unaddressed(value) or self.type == TEXT:
            return None
        if self.type == INTEGER:
            return int(value)  # type: ignore[arg-type]
        return self.values.index(value)

    def label(self, value: Value) -> str:
        text = value_text(value)
        if self.type == INTEGER and value is not None:
            return f"{value} {self.unit or ''}".strip()
        return self.labels.get(text or "null", text or "Not addressed")


def value_text(value: Value) -> str | None:
    """The canonical text of a coded value, as stored and filtered on: `true`, `48`,
    `declines_all`; None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def value_from_text(key: CodebookKey, text: str | None) -> Value:
    """Inverse of value_text for one key."""
    if text is None:
        return None
    if key.type == BOOLEAN:
        return text == "true"
    if key.type == INTEGER:
        return int(text)
    return text


@dataclass(frozen=True)
class Codebook:
    keys: dict[str, CodebookKey]
    invalid: frozenset[str] = frozenset()
    """Keys named in codebook.yaml but unusable; protocols are not faulted for them."""

    def __iter__(self) -> Any:
        return iter(self.keys.values())

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __getitem__(self, key: str) -> CodebookKey:
        return self.keys[key]
