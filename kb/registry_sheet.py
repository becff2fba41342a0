"""Reading one of ICE's 287(g) spreadsheets (openpyxl) into cleaned rows, every error naming file, row and column."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from kb.errors import KBError
from kb.registry_models import AgencyType, ListKind, SupportModel


class SheetError(KBError):
    """A spreadsheet that cannot be read as ICE's list; nothing of the run is loaded."""

    exit_code = 1


STATES = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
    "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
    "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
    "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
    "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA",
    "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY",
    "PUERTO RICO": "PR", "GUAM": "GU", "U.S. VIRGIN ISLANDS": "VI", "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP",
}  # fmt: skip
STATE_CODES = frozenset(STATES.values())
STATE_TYPOS = {"UTAHJ": "UT"}
"""Misspellings seen in ICE's own sheets (docs/registry.md); anything else unknown is an error."""

MODELS: dict[str, SupportModel] = {
    "JAIL ENFORCEMENT MODEL": "jail_enforcement",
    "TASK FORCE MODEL": "task_force",
    "WARRANT SERVICE OFFICER": "warrant_service_officer",
}
AGENCY_TYPES: dict[str, AgencyType] = {
    "COUNTY": "county",
    "MUNICIPALITY": "municipality",
    "MUNICIPAL": "municipality",
    "STATE AGENCY": "state_agency",
}
MISSING = frozenset({"", "#N/A", "#NA", "N/A", "NA", "NONE", "-"})
"""Cell texts that mean "no value" (Excel's #N/A error among them)."""

COLUMNS: dict[ListKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # (required, optional) headers, as cleaned (upper case, single spaces)
    "participating": (
        ("STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE", "SIGNED", "MOA"),
        ("ADDENDUM",),
    ),
    "pending": (("STATE", "LAW ENFORCEMENT AGENCY", "TYPE", "COUNTY", "SUPPORT TYPE"), ()),
}

_ICE_NAME = re.compile(
    r"^(?P<list>participating|pending)Agencies(?P<m>\d{2})(?P<d>\d{2})(?P<y>\d{4})"
    r"(?P<part>am|pm)?(?P<suffix>_[A-Za-z0-9]+)?\.xlsx$",
    re.I,
)
_ARCHIVE_PREFIX = re.compile(r"^(?P<stamp>\d{8}_\d{6})_(?P<rest>.+)$")
_SLASH_DATE = re.compile(r"^(\d{1,2})\s*/\s*(\d{1,2})\s*/?\s*(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass
class SheetRow:
    """One cleaned row; `rows` counts the sheet rows merged into it."""

    row: int
    state: str
    agency: str
    agency_type: AgencyType | None
    county: str | None
    model: SupportModel
    signed: dt.date | None
    moa_url: str | None
    addendum_url: str | None
    rows: int = 1

    @property
    def agreement_id(self) -> str:
        """Stable across captures: state, agency, model and signing date (pending: no date)."""
        when = self.signed.isoformat() if self.signed else "pending"
        model = self.model.replace("_", "-")
        return f"{self.state.lower()}-{slug(self.agency)}-{model}-{when}"


@dataclass
class Sheet:
    path: Path
    sha256: str
    list: ListKind
    file_name: str
    list_date: dt.date
    list_part: str
    retrieved_at: dt.datetime | None
    rows: int
    entries: dict[str, SheetRow] = field(default_factory=dict)

    @property
    def order(self) -> tuple[Any, ...]:
        """Oldest first: ICE's date, morning before afternoon, then when it was retrieved."""
        part = {"am": 0, "": 1, "pm": 2}[self.list_part]
        retrieved = self.retrieved_at or dt.datetime.min
        return (self.list_date, part, retrieved, self.file_name)


def slug(text: str) -> str:
    folded = text.casefold().replace("'", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def clean_text(value: Any) -> str | None:
    """Whitespace collapsed (non-breaking spaces too); None for blank and "no value" cells."""
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value).replace("\xa0", " ")).strip()
    return None if text.upper() in MISSING else text


def county_key(county: str | None) -> str | None:
    """What a county filter compares: casefolded, without a trailing "County"/"Parish"."""
    if county is None:
        return None
    return re.sub(r"\s+(county|parish|borough)$", "", county.casefold()).strip()


def read_sheet(path: Path) -> Sheet:
    """Read and clean one capture; SheetError naming the file (and row and column) if it is not
    ICE's list as we know it."""
    name = path.name
    prefix = _ARCHIVE_PREFIX.match(name)
    ice_name = prefix.group("rest") if prefix else name
    match = _ICE_NAME.match(ice_name)
    if match is None:
        raise SheetError(
            f"{name}: not named like ICE's lists (participatingAgenciesMMDDYYYY[am|pm].xlsx or "
            "pendingAgencies…, optionally after a YYYYMMDD_HHMMSS_ retrieval prefix): its date is unknown"
        )
    try:
        list_date = dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
        retrieved = dt.datetime.strptime(prefix.group("stamp"), "%Y%m%d_%H%M%S") if prefix else None
    except ValueError as exc:
        raise SheetError(f"{name}: the date in its name is not a date ({exc})") from exc
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SheetError(f"{name}: cannot be read ({exc.strerror or type(exc).__name__})") from exc
    kind: ListKind = "participating" if match["list"].lower() == "participating" else "pending"
    sheet = Sheet(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        list=kind,
        file_name=ice_name,
        list_date=list_date,
        list_part=(match["part"] or "").lower(),
        retrieved_at=retrieved,
        rows=0,
    )
    try:
        # Not read-only: the MOA and ADDENDUM cells are hyperlinks, which read-only mode drops.
        workbook = load_workbook(path, data_only=True)
    except Exception as exc:
        # A damaged file can fail anywhere in openpyxl's zip and XML parsing, with any class of
        # error; whatever it is, the person importing needs the file's name, not a traceback.
        raise SheetError(f"{name}: not a readable .xlsx file ({type(exc).__name__})") from exc
    _read_rows(sheet, workbook.worksheets[0])
    return sheet


def _read_rows(sheet: Sheet, worksheet: Any) -> None:
    name = sheet.path.name
    rows = worksheet.iter_rows()
    header_row = next(rows, None)
    if header_row is None:
        raise SheetError(f"{name}: the sheet is empty")
    headers = {
        cell.column: text.upper()
        for cell in header_row
        if (text := clean_text(cell.value)) is not None
    }
    required, optional = COLUMNS[sheet.list]
    for column, header in headers.items():
        if header not in required and header not in optional:
            raise SheetError(
                f"{name}: row 1, column {get_column_letter(column)}: unexpected column {header!r} "
                f"(the {sheet.list} list has {', '.join(required + optional)}); has ICE changed the layout?"
            )
    where = {header: column for column, header in headers.items()}
    missing = [h for h in required if h not in where]
    if missing:
        raise SheetError(
            f"{name}: row 1: missing column {missing[0]!r} (found {', '.join(headers.values())}); "
            "has ICE changed the layout?"
        )
    for cells in rows:
        by_column = {cell.column: cell for cell in cells if hasattr(cell, "column")}
        if all(clean_text(c.value) is None for c in by_column.values()):
            continue  # a blank row
        row_number = next(iter(by_column.values())).row
        for column, cell in by_column.items():
            if column not in headers and clean_text(cell.value) is not None:
                raise SheetError(
                    f"{name}: row {row_number}, column {get_column_letter(column)}: a value "
                    "under no header; has ICE changed the layout?"
                )
        sheet.rows += 1
        entry = _clean_row(name, row_number, {h: by_column.get(c) for h, c in where.items()})
        if sheet.list == "pending":
            entry.signed = None
        known = sheet.entries.get(entry.agreement_id)
        if known is None:
            sheet.entries[entry.agreement_id] = entry
        else:
            known.rows += 1
            known.moa_url = known.moa_url or entry.moa_url
            known.addendum_url = known.addendum_url or entry.addendum_url


def _clean_row(name: str, row: int, cells: dict[str, Any]) -> SheetRow:
    columns = {h: get_column_letter(c.column) if c is not None else "?" for h, c in cells.items()}

    def fail(header: str, message: str) -> SheetError:
        return SheetError(f"{name}: row {row}, column {columns[header]} ({header}): {message}")

    def value(header: str) -> Any:
        cell = cells.get(header)
        return None if cell is None else cell.value

    def required(header: str) -> str:
        text = clean_text(value(header))
        if text is None:
            raise fail(header, "empty")
        return text

    state_text = required("STATE").upper()
    state = STATES.get(state_text) or STATE_TYPOS.get(state_text)
    if state is None:
        raise fail("STATE", f"unknown state {state_text!r}")
    # ICE leaves TYPE blank on a few rows: kept as unknown, never guessed from the name.
    type_text = clean_text(value("TYPE"))
    agency_type = None if type_text is None else AGENCY_TYPES.get(type_text.upper())
    if type_text is not None and agency_type is None:
        raise fail("TYPE", f"unknown agency type {type_text!r}")
    model = MODELS.get(required("SUPPORT TYPE").upper())
    if model is None:
        raise fail("SUPPORT TYPE", f"unknown 287(g) model {required('SUPPORT TYPE')!r}")
    signed: dt.date | None = None
    if "SIGNED" in cells:
        signed = _date(value("SIGNED"), lambda message: fail("SIGNED", message))
    return SheetRow(
        row=row,
        state=state,
        agency=required("LAW ENFORCEMENT AGENCY"),
        agency_type=agency_type,
        county=clean_text(value("COUNTY")),
        model=model,
        signed=signed,
        moa_url=_link(cells.get("MOA")),
        addendum_url=_link(cells.get("ADDENDUM")),
    )


def _date(value: Any, fail: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = clean_text(value)
    if text is None:
        raise fail("empty")
    # ICE's sheets hold a few dates typed as text, some without the second slash: 7/72025.
    match = _SLASH_DATE.match(text)
    parts = (match[3], match[1], match[2]) if match else None
    if parts is None and (iso := _ISO_DATE.match(text)):
        parts = (iso[1], iso[2], iso[3])
    if parts is None:
        raise fail(f"not a date: {text!r}")
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError as exc:
        raise fail(f"not a date: {text!r}") from exc


def _link(cell: Any) -> str | None:
    """The cell's hyperlink target, or a URL typed into it; "link pending" and such are None."""
    if cell is None:
        return None
    hyperlink = getattr(cell, "hyperlink", None)
    target = getattr(hyperlink, "target", None) if hyperlink is not None else None
    text = str(target).strip() if target else clean_text(cell.value)
    if not text or not text.lower().startswith(("https://", "http://")):
        return None
    return unwrap_safelink(text)


def unwrap_safelink(url: str) -> str:
    """ICE's sheets hold some links wrapped by Outlook's "safe links" (with a staff mailbox in
    the query): keep the address it wraps."""
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.endswith(".safelinks.protection.outlook.com"):
        wrapped = parse_qs(parts.query).get("url")
        if wrapped and wrapped[0].lower().startswith(("https://", "http://")):
            return wrapped[0]
    return url
