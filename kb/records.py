"""The content as loaded from protocols/: plain records, validated, before they reach the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import get_args

from kb.codebook import Codebook, Value
from kb.model_language import ModelSet
from kb.models import DATE_KEYS as DATE_KEYS
from kb.models import (
    Binds,
    CaseStatus,
    Confidence,
    ContextKind,
    Effect,
    Level,
    PenaltyKind,
    ProtocolKind,
    SourceKind,
    Status,
)

# The closed sets live in kb.models (as the API's enums); here as tuples for validation.
LEVELS = get_args(Level)
KINDS = get_args(ProtocolKind)
STATUSES = get_args(Status)
# The protocol's year is taken from the first of these dates that is present.
YEAR_FROM = ("signed", "vetoed", "adopted", "issued", "passed", "effective", "introduced")
# A status that must be backed by the date of the same name.
STATUS_NEEDS_DATE = ("vetoed", "superseded", "repealed", "struck_down", "preempted", "expired")
CONFIDENCES = get_args(Confidence)
SOURCE_KINDS = get_args(SourceKind)
CONTEXT_KINDS = get_args(ContextKind)
BINDS = get_args(Binds)
OWN_AGENCIES = "own_agencies"
EFFECTS = get_args(Effect)
PENALTY_KINDS = get_args(PenaltyKind)
CASE_STATUSES = get_args(CaseStatus)


@dataclass
class JurisdictionRecord:
    id: str
    name: str
    level: str
    state: str
    parent: str | None = None
    fips: str | None = None
    """The Census FIPS code: 2 digits for a state, 5 for a county; None for other places."""
    line: int = 0
    """Line in the file it was read from (the gazetteer CSV or jurisdictions.yaml)."""


@dataclass
class TopicRecord:
    id: str
    name: str
    definition: str


@dataclass
class SourceRecord:
    id: str
    url: str
    title: str
    kind: str
    accessed: str
    publisher: str | None = None
    date: str | None = None
    supports: str | None = None
    note: str | None = None


@dataclass
class KeyTerm:
    text: str
    cite: str


@dataclass
class ProvisionRecord:
    anchor: str
    heading: str
    cite: str
    topics: list[str]
    summary: str
    line: int
    sources: list[str] = field(default_factory=list)
    """Source ids; empty means the protocol's official sources."""
    context: list[str] = field(default_factory=list)
    confidence: str | None = None
    key_terms: list[KeyTerm] = field(default_factory=list)


@dataclass
class CodedAnswerRecord:
    key: str
    value: Value
    provisions: list[str]
    line: int
    note: str | None = None
    confidence: str | None = None
    effect: str | None = None
    """floor, ceiling or mandate: only in a protocol that binds the places below it."""


@dataclass
class PenaltyRecord:
    """A sanction a binding law attaches to breaking it, as a cited fact."""

    kind: str
    liable: str
    summary: str
    provisions: list[str]
    line: int
    amount: str | None = None
    sources: list[str] = field(default_factory=list)
    confidence: str | None = None


@dataclass
class CaseRecord:
    """A court case bearing on a protocol: pending or decided, and any injunction it issued."""

    case: str
    court: str
    status: str
    summary: str
    line: int
    citation: str | None = None
    filed: str | None = None
    decided: str | None = None
    keys: list[str] = field(default_factory=list)
    """Codebook keys it bears on; empty means the whole protocol."""
    enjoined_from: str | None = None
    enjoined_until: str | None = None
    jurisdictions: list[str] = field(default_factory=list)
    """Where the injunction applies; empty means everywhere the protocol binds."""
    sources: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    confidence: str | None = None


@dataclass
class ListingRecord:
    """A cited fact that a published list (a background record of kind `list`) names the place."""

    list_id: str
    listed: str
    name: str
    sources: list[str]
    line: int
    note: str | None = None


@dataclass
class ProtocolRecord:
    id: str
    jurisdiction: str
    title: str
    short_name: str
    citation: str
    kind: str
    status: str
    path: str
    body: str | None = None
    dates: dict[str, str] = field(default_factory=dict)
    predecessors: list[str] = field(default_factory=list)
    successors: list[str] = field(default_factory=list)
    sources: list[SourceRecord] = field(default_factory=list)
    coding: dict[str, CodedAnswerRecord] = field(default_factory=dict)
    verified_on: str = ""
    confidence: str = "unverified"
    verified_note: str | None = None
    overview: str = ""
    provisions: list[ProvisionRecord] = field(default_factory=list)
    binds: list[str] = field(default_factory=lambda: [OWN_AGENCIES])
    penalties: list[PenaltyRecord] = field(default_factory=list)
    litigation: list[CaseRecord] = field(default_factory=list)
    listings: list[ListingRecord] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    """File line of front-matter fields, for messages found across files."""

    @property
    def binds_others(self) -> bool:
        """Whether it binds places below its own jurisdiction (a state law binding counties)."""
        return any(b != OWN_AGENCIES for b in self.binds)

    @property
    def year(self) -> int | None:
        for key in YEAR_FROM:
            if key in self.dates:
                return int(self.dates[key][:4])
        return None

    def provision_id(self, anchor: str) -> str:
        return f"{self.id}/{anchor}"

    def provision_sources(self, provision: ProvisionRecord) -> list[str]:
        """Source ids behind a provision: its own, else the official ones, else all."""
        if provision.sources:
            return provision.sources
        official = [s.id for s in self.sources if s.kind == "official"]
        return official or [s.id for s in self.sources]


@dataclass
class ContextRecord:
    id: str
    title: str
    kind: str
    date: str
    path: str
    summary: str
    citation: str | None = None
    sources: list[SourceRecord] = field(default_factory=list)
    verified_on: str = ""
    confidence: str = "unverified"
    verified_note: str | None = None


@dataclass
class Dataset:
    codebook: Codebook
    topics: list[TopicRecord]
    jurisdictions: list[JurisdictionRecord]
    protocols: list[ProtocolRecord]
    contexts: list[ContextRecord]
    version: str
    """A digest of every content file: changes whenever the content does."""
    models: ModelSet = field(default_factory=ModelSet)
    """Model language for drafting (protocols/models/); empty when the folder is absent."""

    def counts(self) -> dict[str, int]:
        return {
            "jurisdictions": len(self.jurisdictions),
            "protocols": len(self.protocols),
            "provisions": sum(len(p.provisions) for p in self.protocols),
            "coded_answers": sum(len(p.coding) for p in self.protocols),
            "context_records": len(self.contexts),
            "model_provisions": sum(len(m.levels) for m in self.models.keys),
        }
