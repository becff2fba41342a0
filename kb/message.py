"""Sentences kb writes for people, kept as a message id and its parameters until shown.

kb writes its sentences (a protocol's status, a conflict between layers, why a law governs, a
score's reasons, the 287(g) registry's notes) in English, as gettext writes them: the msgid is the
English sentence with `%(name)s` placeholders, marked with `N_` so that `make i18n` extracts it
into the catalogues. A `Message` keeps that msgid and its parameters; `str()` of it is the English
sentence, byte for byte what kb wrote before, and `api.i18n.say` writes it in another language at
render time. kb imports no translation machinery (docs/i18n.md).

A parameter is written as its type says: text (`str`: names of laws, places and cases, which stay
as written), a nested `Message` (translated too), a `Day` or `LongDay` (a date, in the language's form), a
`Names` list ("A and B"), a `Label` (a codebook answer), a `Number` or an `int`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Union

from pydantic import Field, PlainSerializer, PlainValidator
from pydantic.json_schema import SkipJsonSchema


def N_(message: str) -> str:
    """Marks a msgid for the catalogue (`make i18n` extracts `N_("…")`); returns it unchanged."""
    return message


@dataclass(frozen=True)
class Day:
    """A date as content writes it (`2013`, `2013-10`, `2013-10-05`): shown so in English."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class LongDay:
    """A day written out ("2 December 2026" in English), as notes on ICE's captures write it."""

    day: dt.date

    def __str__(self) -> str:
        return f"{self.day.day} {self.day:%B %Y}"


@dataclass(frozen=True)
class Names:
    """Names (or labels) joined as kb writes them in English ("A and B and C"); other languages
    join them in their own words."""

    items: tuple[Param, ...]

    def __str__(self) -> str:
        return " and ".join(str(item) for item in self.items)


@dataclass(frozen=True)
class Label:
    """A coded answer's label as kb.codebook writes it in English, with its value (a whole number
    is written with its unit in the language's plural)."""

    label: str
    value: object = None

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Number:
    """A number written as `{:g}` writes it in English (0.5, 1)."""

    value: float

    def __str__(self) -> str:
        return f"{self.value:g}"


Param = Union[str, int, "Message", Day, LongDay, Names, Label, Number]


@dataclass(frozen=True)
class Message:
    """A sentence for people: its msgid (English, with `%(name)s` placeholders) and parameters."""

    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def __str__(self) -> str:
        if not self.params:
            return self.msgid
        return self.msgid % {name: str(value) for name, value in self.params.items()}


def message(msgid: str, **params: Param) -> Message:
    """`Message(msgid, params)`."""
    return Message(msgid, params)


CLAUSES = N_("%(first)s; %(then)s")
"""Two clauses of one sentence, the second adding to the first ("…; enjoined by …")."""


def clauses(parts: Iterable[Message]) -> Message:
    """The parts as one message, each added to the ones before it with "; "."""
    items = list(parts)
    whole = items[0]
    for part in items[1:]:
        whole = message(CLAUSES, first=whole, then=part)
    return whole


def _kept(value: object) -> Message | None:
    if value is None or isinstance(value, Message):
        return value
    raise ValueError("a kb.message.Message")


Kept = Annotated[
    SkipJsonSchema[Message | None],
    PlainValidator(_kept),
    PlainSerializer(lambda said: None if said is None else str(said), return_type=object),
    Field(exclude=True),
]
"""A record's sentence as a message, beside the English text field that the JSON API publishes:
pages render it in their language; JSON answers and the OpenAPI schema never show it (its
validator and serializer keep pydantic from describing the message types)."""
