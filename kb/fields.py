"""Typed reading of one YAML mapping, reporting each problem with its line and dotted key."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from kb.yamltext import YamlDoc

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
URL = re.compile(r"^https?://[^\s<>\"]+$")

Report = Callable[[int, str], None]


def check_date(value: Any, partial: bool) -> str | None:
    """The date as ISO text if it is a real (optionally partial) date, else None."""
    text = str(value) if isinstance(value, str | date | int) and not isinstance(value, bool) else ""
    match = PARTIAL_DATE.match(text)
    if not match:
        return None
    year, month, day = match.groups()
    if (month is None or day is None) and not partial:
        return None
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
    return text


def dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


class Fields:
    """Read fields of the mapping at `path` in `doc`, reporting problems through `report`."""

    def __init__(self, doc: YamlDoc, path: tuple[str | int, ...], value: Any, report: Report):
        self.doc = doc
        self.path = path
        self.report = report
        self.ok = isinstance(value, dict)
        self.data: dict[Any, Any] = value if isinstance(value, dict) else {}
        if not self.ok:
            self.problem((), "must be a mapping of `key: value` lines")

    def line(self, *name: str | int) -> int:
        return self.doc.line(*self.path, *name)

    def problem(self, name: tuple[str | int, ...], message: str) -> None:
        where = dotted((*self.path, *name))
        self.report(self.line(*name), f"{where}: {message}" if where else message)

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                self.problem((str(key),), f"unknown field; expected one of: {', '.join(allowed)}")

    def raw(self, name: str, required: bool) -> Any:
        if name not in self.data or self.data[name] is None:
            if required and self.ok:
                self.problem((name,), "is required")
            return None
        return self.data[name]

    def text(self, name: str, required: bool = True) -> str | None:
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem((name,), "must be text")
            return None
        text = str(value).strip()
        if not text and required:
            self.problem((name,), "must not be empty")
            return None
        return text or None

    def slug(self, name: str, required: bool = True) -> str | None:
        value = self.text(name, required)
        if value is not None and not SLUG.match(value):
            self.problem((name,), f"{value!r} is not an id (lowercase letters, digits, hyphens)")
            return None
        return value

    def choice(self, name: str, allowed: Iterable[str], required: bool = True) -> str | None:
        allowed = tuple(allowed)
        value = self.text(name, required)
        if value is not None and value not in allowed:
            self.problem((name,), f"{value!r} is not allowed; allowed: {', '.join(allowed)}")
            return None
        return value

    def date(self, name: str, required: bool = True, partial: bool = False) -> str | None:
        value = self.raw(name, required)
        if value is None:
            return None
        checked = check_date(value, partial)
        if checked is None:
            form = "YYYY-MM-DD, YYYY-MM or YYYY" if partial else "YYYY-MM-DD"
            self.problem((name,), f"bad date {value!r}; write a real date as {form}")
        return checked

    def url(self, name: str, required: bool = True) -> str | None:
        value = self.text(name, required)
        if value is not None and not URL.match(value):
            self.problem((name,), f"{value!r} is not an http(s) URL")
            return None
        return value

    def ids(self, name: str) -> list[str]:
        """One id or a list of ids."""
        value = self.raw(name, required=False)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) and item.strip() for item in items):
            self.problem((name,), "must be an id or a list of ids")
            return []
        return [item.strip() for item in items]

    def sub(self, name: str, required: bool = True) -> Fields | None:
        value = self.raw(name, required)
        if value is None:
            return None
        return Fields(self.doc, (*self.path, name), value, self.report)

    def items(self, name: str, required: bool = True) -> list[Fields]:
        value = self.raw(name, required)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem((name,), "must be a list (lines starting with `- `)")
            return []
        return [
            Fields(self.doc, (*self.path, name, i), item, self.report)
            for i, item in enumerate(value)
        ]
