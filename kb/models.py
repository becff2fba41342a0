"""Every table of the store (SQLModel) and the read models the API returns."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, field_serializer
from pydantic import Field as Public
from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

SCHEMA_VERSION = 6
"""Bump when a table changes: a PostgreSQL build then recreates the tables."""

# --- Closed sets: validated when content is loaded, enums in the API --------------------------

Level = Literal["state", "county", "city", "district"]
ProtocolKind = Literal[
    "statute",
    "bill",
    "ordinance",
    "resolution",
    "board_policy",
    "executive_order",
    "agency_policy",
    "executive_action",
    "court_order",
]
Status = Literal[
    "introduced",
    "passed",
    "vetoed",
    "enacted",
    "in_force",
    "amended",
    "superseded",
    "repealed",
    "struck_down",
    "preempted",
    "expired",
]
Confidence = Literal["two_sources", "one_source", "unverified"]
SourceKind = Literal["official", "secondary"]
ContextKind = Literal[
    "program", "regulation", "statute", "executive_order", "memo", "list", "ruling", "report"
]
KeyType = Literal["choice", "boolean", "integer", "text"]
Precision = Literal["year", "month", "day"]
DATE_KEYS = (
    "introduced",
    "passed",
    "adopted",
    "signed",
    "vetoed",
    "issued",
    "effective",
    "amended",
    "superseded",
    "repealed",
    "struck_down",
    "preempted",
    "expired",
)
"""The events a protocol file may date, in the order of a law's life."""
Binds = Literal[
    "own_agencies",
    "all_local_agencies",
    "local_governments",
    "sheriffs",
    "jails",
    "police",
]
"""Whom a protocol binds: its own body's agencies (the default), or those of the places below it."""
Effect = Literal["floor", "ceiling", "mandate"]
"""What a binding law's answer does to the layers below: the least protective answer they may
give (floor), the most protective (ceiling), or the one they must give (mandate)."""
PenaltyKind = Literal["fine", "removal_from_office", "criminal", "loss_of_funds"]
CaseStatus = Literal["pending", "decided"]


class PartialDate(BaseModel):
    """A date known to the day, the month or only the year. `date` is the first day of the
    period when the precision is month or year (content writes `2013`, `2013-10`, `2013-10-05`)."""

    date: dt.date
    precision: Precision

    @classmethod
    def of(cls, text: str) -> PartialDate:
        parts = text.split("-")
        precision: Precision = ("year", "month", "day")[len(parts) - 1]
        padded = [*parts, "01", "01"][:3]
        return cls(
            date=dt.date(int(padded[0]), int(padded[1]), int(padded[2])), precision=precision
        )


class ProtocolDates(BaseModel):
    """When each event in a protocol's life happened; null when it did not (or is not known)."""

    introduced: PartialDate | None
    passed: PartialDate | None
    adopted: PartialDate | None
    signed: PartialDate | None
    vetoed: PartialDate | None
    issued: PartialDate | None
    effective: PartialDate | None
    amended: PartialDate | None
    superseded: PartialDate | None
    repealed: PartialDate | None
    struck_down: PartialDate | None
    preempted: PartialDate | None
    expired: PartialDate | None

    @classmethod
    def of(cls, dates: dict[str, str]) -> ProtocolDates:
        return cls.model_validate(
            {key: PartialDate.of(dates[key]) if key in dates else None for key in DATE_KEYS}
        )


# --- Jurisdictions --------------------------------------------------------------------------


class JurisdictionBase(SQLModel):
    id: str = Field(primary_key=True)
    name: str
    level: str = Field(index=True)
    state: str = Field(index=True)
    parent_id: str | None = Field(default=None, foreign_key="jurisdiction.id", index=True)
    fips: str | None = Field(
        default=None, description="Census FIPS code: 2 digits for a state, 5 for a county"
    )


class Jurisdiction(JurisdictionBase, table=True):
    pass


class JurisdictionPublic(JurisdictionBase):
    level: Level


# --- Topics and the codebook ----------------------------------------------------------------


class TopicBase(SQLModel):
    id: str = Field(primary_key=True)
    name: str
    definition: str


class Topic(TopicBase, table=True):
    position: int


class TopicPublic(TopicBase):
    pass


class CodebookKeyBase(SQLModel):
    key: str = Field(primary_key=True)
    type: str
    topic_id: str = Field(foreign_key="topic.id")
    question: str
    values: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    labels: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    unit: str | None = None


class CodebookKey(CodebookKeyBase, table=True):
    __tablename__ = "codebook_key"
    position: int


class CodebookKeyPublic(CodebookKeyBase):
    type: KeyType
    values: list[str | bool | None] = Public(
        description="Allowed values, most protective first (choice and boolean keys; empty "
        "for integer and text keys)"
    )
    labels: dict[str, str] = Public(description="A label per value, keyed by its text form")


# --- Protocols ------------------------------------------------------------------------------


class ProtocolBase(SQLModel):
    id: str = Field(primary_key=True)
    jurisdiction_id: str = Field(foreign_key="jurisdiction.id", index=True)
    title: str
    short_name: str
    """The name people use ("TRUST Act (AB 4, 2013)"), shown first; the official title second."""
    citation: str
    kind: str = Field(index=True)
    body: str | None = None
    status: str = Field(index=True)
    year: int | None = Field(default=None, index=True)
    dates: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    overview: str = Field(default="", sa_column=Column(Text, nullable=False))
    verified_on: str
    confidence: str
    verified_note: str | None = None
    binds: list[str] = Field(
        default_factory=lambda: ["own_agencies"], sa_column=Column(JSON, nullable=False)
    )


class Protocol(ProtocolBase, table=True):
    source_path: str
    penalties: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    litigation: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    listings: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class ProtocolLink(SQLModel, table=True):
    """One version of a law followed by the next."""

    __tablename__ = "protocol_link"
    predecessor_id: str = Field(foreign_key="protocol.id", primary_key=True)
    successor_id: str = Field(foreign_key="protocol.id", primary_key=True, index=True)


class SourceBase(SQLModel):
    key: str
    url: str
    title: str
    kind: str
    accessed: str
    publisher: str | None = None
    date: str | None = None
    supports: str | None = None
    note: str | None = None


class Source(SourceBase, table=True):
    """A source of a protocol or a background record; id is `<owner id>#<key>`."""

    id: str = Field(primary_key=True)
    owner_id: str = Field(index=True)
    position: int


class SourcePublic(SourceBase):
    kind: SourceKind
    date: str | None = None

    @field_serializer("date")
    def _partial(self, value: str | None) -> PartialDate | None:
        return None if value is None else PartialDate.of(value)

    @field_serializer("accessed")
    def _day(self, value: str) -> dt.date:
        return dt.date.fromisoformat(value)


# --- Provisions -----------------------------------------------------------------------------


class ProvisionBase(SQLModel):
    id: str = Field(primary_key=True)
    protocol_id: str = Field(foreign_key="protocol.id", index=True)
    anchor: str
    heading: str
    cite: str
    summary: str = Field(sa_column=Column(Text, nullable=False))
    key_terms: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    confidence: str | None = None


class Provision(ProvisionBase, table=True):
    position: int
    line: int


class ProvisionTopic(SQLModel, table=True):
    __tablename__ = "provision_topic"
    provision_id: str = Field(foreign_key="provision.id", primary_key=True)
    topic_id: str = Field(foreign_key="topic.id", primary_key=True, index=True)
    position: int


class ProvisionSource(SQLModel, table=True):
    __tablename__ = "provision_source"
    provision_id: str = Field(foreign_key="provision.id", primary_key=True)
    source_id: str = Field(foreign_key="source.id", primary_key=True)
    position: int


class ProvisionContext(SQLModel, table=True):
    __tablename__ = "provision_context"
    provision_id: str = Field(foreign_key="provision.id", primary_key=True)
    context_id: str = Field(foreign_key="context_record.id", primary_key=True, index=True)
    position: int


# --- Coded answers --------------------------------------------------------------------------


class CodedAnswerBase(SQLModel):
    key: str = Field(foreign_key="codebook_key.key", primary_key=True)
    value: str | None = None
    """Canonical text of the value (`declines_all`, `true`, `48`); NULL when null."""
    rank: int | None = None
    """Protectiveness rank: 0 is most protective; hours or years for integer keys."""
    note: str | None = None
    confidence: str | None = None
    effect: str | None = None
    """floor, ceiling or mandate, for a law that binds the places below it; else NULL."""


class CodedAnswer(CodedAnswerBase, table=True):
    __tablename__ = "coded_answer"
    __table_args__ = (Index("ix_coded_answer_key_value", "key", "value"),)
    protocol_id: str = Field(foreign_key="protocol.id", primary_key=True)


class CodedAnswerProvision(SQLModel, table=True):
    __tablename__ = "coded_answer_provision"
    protocol_id: str = Field(foreign_key="protocol.id", primary_key=True)
    key: str = Field(primary_key=True)
    provision_id: str = Field(foreign_key="provision.id", primary_key=True)


# --- Background records ---------------------------------------------------------------------


class ContextRecordBase(SQLModel):
    id: str = Field(primary_key=True)
    title: str
    kind: str
    date: str
    citation: str | None = None
    summary: str = Field(sa_column=Column(Text, nullable=False))
    verified_on: str
    confidence: str
    verified_note: str | None = None


class ContextRecord(ContextRecordBase, table=True):
    __tablename__ = "context_record"
    source_path: str


class ContextRecordPublic(ContextRecordBase):
    kind: ContextKind
    confidence: Confidence

    @field_serializer("date")
    def _partial(self, value: str) -> PartialDate:
        return PartialDate.of(value)

    @field_serializer("verified_on")
    def _day(self, value: str) -> dt.date:
        return dt.date.fromisoformat(value)


# --- Model language for drafting (protocols/models/) --------------------------------------


class ModelProvisionBase(SQLModel):
    id: str = Field(primary_key=True)
    """`<codebook key>/<value>`, e.g. `detainer_response/declines_all`."""
    key: str = Field(foreign_key="codebook_key.key", index=True)
    value: str | None
    """Canonical text of the value, as coded answers store it."""
    rank: int
    heading: str
    """The heading of the key's section in a draft."""
    title: str
    summary: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    drawn_from: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    terms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    context: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ModelProvision(ModelProvisionBase, table=True):
    __tablename__ = "model_provision"
    position: int
    source_path: str


class ModelTermBase(SQLModel):
    id: str = Field(primary_key=True)
    term: str
    definition: str = Field(sa_column=Column(Text, nullable=False))
    context: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ModelTerm(ModelTermBase, table=True):
    __tablename__ = "model_term"
    position: int


class ModelFindingBase(SQLModel):
    id: int = Field(primary_key=True)
    context_id: str = Field(foreign_key="context_record.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    always: bool


class ModelFinding(ModelFindingBase, table=True):
    __tablename__ = "model_finding"


# --- The build ------------------------------------------------------------------------------


class BuildInfo(SQLModel, table=True):
    """One row: when the data was built and from which content."""

    __tablename__ = "build_info"
    id: int = Field(default=1, primary_key=True)
    built_at: datetime
    version: str
    schema_version: int
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    registry_at: datetime | None = None
    """When the 287(g) registry last changed (kb.registry): answers are cached per build and this."""


class BuildInfoPublic(SQLModel):
    built_at: datetime
    version: str
    counts: dict[str, int]
    registry_at: datetime | None = None


# --- Read models that join tables -----------------------------------------------------------


# The API names a list of ids `<thing>_ids`, and a list of records by the records' name; a
# provision's citation is `citation` as a protocol's is. The store and the export keep their
# own names; serialization aliases rename for the API only.


class ProtocolSummary(ProtocolBase):
    kind: ProtocolKind
    status: Status
    confidence: Confidence
    jurisdiction_name: str
    binds: list[Binds] = Public(  # type: ignore[assignment]  # the API's enum
        default=["own_agencies"],
        description="Whom it binds: its own body's agencies, or those of the places below it",
    )

    @field_serializer("dates")
    def _dated(self, value: dict[str, str]) -> ProtocolDates:
        return ProtocolDates.of(value)

    @field_serializer("verified_on")
    def _day(self, value: str) -> dt.date:
        return dt.date.fromisoformat(value)


class CodedAnswerPublic(SQLModel):
    key: str
    value: str | int | bool | None
    label: str
    note: str | None = None
    confidence: Confidence | None = None
    provisions: list[str] = Public(default=[], serialization_alias="provision_ids")
    effect: Effect | None = Public(
        default=None,
        description="For a law that binds the places below it: floor (they may protect more, "
        "not less), ceiling (they may not protect more) or mandate (they must do this)",
    )


class Penalty(BaseModel):
    """A sanction a binding law attaches to breaking it."""

    kind: PenaltyKind
    liable: str = Public(description="Who is liable (an official, an agency, the local body)")
    summary: str
    amount: str | None = None
    provisions: list[str] = Public(default=[], serialization_alias="provision_ids")
    sources: list[str] = Public(default=[], serialization_alias="source_keys")
    confidence: Confidence | None = None


class CourtCase(BaseModel):
    """A court case bearing on a protocol, and any injunction it issued."""

    case: str
    court: str
    status: CaseStatus
    summary: str
    citation: str | None = None
    filed: str | None = None
    decided: str | None = None
    keys: list[str] = Public(
        default=[],
        serialization_alias="codebook_keys",
        description="The questions it bears on; empty means the whole protocol",
    )
    enjoined_from: str | None = None
    enjoined_until: str | None = None
    jurisdictions: list[str] = Public(
        default=[],
        serialization_alias="jurisdiction_ids",
        description="Where the injunction applies; empty means everywhere the protocol binds",
    )
    sources: list[str] = Public(default=[], serialization_alias="source_keys")
    context: list[str] = Public(default=[], serialization_alias="context_ids")
    confidence: Confidence | None = None

    @field_serializer("filed", "decided", "enjoined_from", "enjoined_until")
    def _partial(self, value: str | None) -> PartialDate | None:
        return None if value is None else PartialDate.of(value)


class Listing(BaseModel):
    """A cited fact that a published list (a background record of kind `list`) names the place."""

    list_id: str = Public(
        serialization_alias="context_id", description="The background record of the list"
    )
    listed: str = Public(description="When the list named it")
    name: str = Public(description="How the list names the place")
    sources: list[str] = Public(default=[], serialization_alias="source_keys")
    note: str | None = None

    @field_serializer("listed")
    def _partial(self, value: str) -> PartialDate:
        return PartialDate.of(value)


class KeyTerm(BaseModel):
    """A phrase quoted from the provision, with the citation of where it stands."""

    text: str
    citation: str


class ProvisionPublic(ProvisionBase):
    cite: str = Public(serialization_alias="citation")
    confidence: Confidence | None = None
    topics: list[str] = Public(default=[], serialization_alias="topic_ids")
    sources: list[str] = Public(
        default=[], serialization_alias="source_keys", description="keys of the protocol's sources"
    )
    context: list[str] = Public(
        default=[], serialization_alias="context_ids", description="ids of background records"
    )

    @field_serializer("key_terms")
    def _terms(self, value: list[dict[str, str]]) -> list[KeyTerm]:
        return [KeyTerm(text=t["text"], citation=t["cite"]) for t in value]


class ProtocolPublic(ProtocolSummary):
    predecessors: list[str] = Public(default=[], serialization_alias="predecessor_ids")
    successors: list[str] = Public(default=[], serialization_alias="successor_ids")
    sources: list[SourcePublic] = []
    coding: list[CodedAnswerPublic] = []
    provisions: list[ProvisionPublic] = []
    penalties: list[Penalty] = []
    litigation: list[CourtCase] = []
    listings: list[Listing] = []
