"""The 287(g) registry's tables (their own MetaData, which a content build never drops) and read models.

The registry is not built from `protocols/`: it accumulates ICE's spreadsheets, capture by capture,
through `kb import-287g`. Its tables therefore live outside `SQLModel.metadata`, so that `kb build`
(which recreates every content table) cannot drop them by accident: the build carries them over
explicitly (kb.build) and the import writes nothing else (docs/registry.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

REGISTRY_METADATA = MetaData()

ListKind = Literal["participating", "pending"]
AgencyType = Literal["county", "municipality", "state_agency"]
SupportModel = Literal["jail_enforcement", "task_force", "warrant_service_officer"]
AgreementStatus = Literal["active", "ended", "pending"]
LIST_KINDS: tuple[ListKind, ...] = ("participating", "pending")
AGENCY_TYPES: tuple[AgencyType, ...] = ("county", "municipality", "state_agency")
SUPPORT_MODELS: tuple[SupportModel, ...] = (
    "jail_enforcement",
    "task_force",
    "warrant_service_officer",
)
STATUSES: tuple[AgreementStatus, ...] = ("active", "ended", "pending")
MatchConfidence = Literal["exact", "rule", "override", "unmatched"]

capture_table = Table(
    "registry_capture",
    REGISTRY_METADATA,
    Column("id", String(64), primary_key=True),  # the file's SHA-256: one capture per content
    Column("list", String(16), nullable=False),
    Column("file_name", Text, nullable=False),  # ICE's own name, without the archive prefix
    Column("list_date", Date, nullable=False),
    Column("list_part", String(8), nullable=False),  # am, pm, or "" when ICE gives neither
    Column("retrieved_at", DateTime, nullable=True),
    Column("loaded_at", DateTime, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("entries", Integer, nullable=False),
    Column("position", Integer, nullable=False),  # order among captures of its list
)

entry_table = Table(
    "registry_entry",
    REGISTRY_METADATA,
    Column("capture_id", String(64), ForeignKey("registry_capture.id"), primary_key=True),
    Column("agreement_id", String(200), primary_key=True),
    Column("row", Integer, nullable=False),  # the first sheet row it was read from
    Column("rows", Integer, nullable=False),  # how many rows were merged into it
    Column("state", String(2), nullable=False),
    Column("agency", Text, nullable=False),
    Column("agency_type", String(16), nullable=True),
    Column("county", Text, nullable=True),
    Column("model", String(32), nullable=False),
    Column("signed", Date, nullable=True),
    Column("moa_url", Text, nullable=True),
    Column("addendum_url", Text, nullable=True),
)

agreement_table = Table(
    "registry_agreement",
    REGISTRY_METADATA,
    Column("id", String(200), primary_key=True),
    Column("list", String(16), nullable=False),
    Column("state", String(2), nullable=False),
    Column("agency", Text, nullable=False),
    Column("agency_type", String(16), nullable=True),
    Column("county", Text, nullable=True),
    Column("county_key", Text, nullable=True),  # casefolded, without " County": for filters
    Column("model", String(32), nullable=False),
    Column("signed", Date, nullable=True),
    Column("moa_url", Text, nullable=True),
    Column("addendum_url", Text, nullable=True),
    Column("first_seen", Date, nullable=False),
    Column("first_capture_id", String(64), nullable=False),
    Column("last_seen", Date, nullable=False),
    Column("last_capture_id", String(64), nullable=False),
    Column("ended_by", Date, nullable=True),
    Column("ended_capture_id", String(64), nullable=True),
    Column("captures", Integer, nullable=False),
    Column("max_rows", Integer, nullable=False),
    # Matching to the gazetteer (kb.registry_match): the place, its county's FIPS, how sure.
    Column("jurisdiction_id", String(200), nullable=True),
    Column("match_confidence", String(16), nullable=True),
    Column("county_fips", String(5), nullable=True),
    Column("match_note", Text, nullable=True),
)
Index("ix_registry_agreement_place", agreement_table.c.jurisdiction_id)
Index("ix_registry_agreement_fips", agreement_table.c.county_fips)
Index("ix_registry_agreement_state", agreement_table.c.state, agreement_table.c.county_key)
Index("ix_registry_entry_agreement", entry_table.c.agreement_id)

REGISTRY_TABLES = (capture_table, entry_table, agreement_table)
"""Parents before children."""


# --- Read models (the API's shapes) ------------------------------------------------------------


class CapturePublic(BaseModel):
    """One spreadsheet as ICE published it at one moment."""

    id: str = Field(description="the file's SHA-256 (hex)")
    list: ListKind
    file_name: str = Field(examples=["participatingAgencies07182025pm.xlsx"])
    list_date: dt.date = Field(description="the date ICE gives the list (in its file name)")
    list_part: Literal["am", "pm", ""]
    retrieved_at: dt.datetime | None = Field(
        description="when the archive downloaded it (UTC), null when unknown"
    )
    rows: int = Field(description="data rows in the sheet (blank rows not counted)")
    entries: int = Field(description="distinct agreements or requests after merging duplicates")
    duplicate_rows: int = Field(description="rows merged into another row of the same sheet")


class Period(BaseModel):
    """A run of consecutive captures of its list that show the agreement."""

    first_seen: dt.date
    last_seen: dt.date
    ended_by: dt.date | None = Field(
        description="the date of the first later capture of the list that no longer shows it"
    )


class AgreementPublic(BaseModel):
    """A 287(g) agreement (participating list) or a pending request (pending list)."""

    id: str = Field(examples=["fl-miami-dade-sheriffs-office-task-force-2025-02-26"])
    list: ListKind
    status: AgreementStatus
    state: str = Field(description="USPS code", examples=["FL"])
    agency: str
    agency_type: AgencyType | None = Field(description="null where ICE's sheet leaves it blank")
    county: str | None
    model: SupportModel
    signed: dt.date | None = Field(description="the signing date ICE gives; null when pending")
    moa_url: str | None
    addendum_url: str | None
    first_seen: dt.date
    last_seen: dt.date
    ended_by: dt.date | None = Field(
        description="the first capture of its list that no longer shows it (null: still listed)"
    )
    captures: int = Field(description="captures of its list that show it")
    jurisdiction_id: str | None = Field(
        description="the gazetteer place the agency belongs to: its city when the gazetteer lists "
        "it, else its county; its state for a state agency; null when unmatched (docs/registry.md)",
        examples=["us-fl-miami-dade-county"],
    )
    county_fips: str | None = Field(
        description="the five-digit FIPS code of the agency's county, null when not known",
        examples=["12086"],
    )
    match_confidence: MatchConfidence | None = Field(
        description="exact: ICE's own COUNTY (or, for a state agency, STATE) cell; rule: read from "
        "the agency's name; override: protocols/287g-overrides.csv; unmatched: none of these"
    )
    match_note: str | None = Field(description="why the agency was tied where it is, or not")


class AgreementDetail(AgreementPublic):
    periods: list[Period]
    capture_ids: list[str] = Field(description="the captures that show it, oldest first")
    max_rows: int = Field(description="the most rows one capture listed it on (duplicates merged)")
