"""`kb import-287g` on SQLite and PostgreSQL: idempotent, all or nothing, kept by `kb build`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, create_engine, select

from kb.db import make_engine, parse_url
from kb.errors import BuildFailed
from kb.registry import import_captures
from kb.registry_models import REGISTRY_TABLES, agreement_table, capture_table
from kb.registry_sheet import SheetError, read_sheet, unwrap_safelink
from kbcli.commands import main
from tests.conftest import ICE_287G_SAMPLES, PROTOCOLS

MAY = ICE_287G_SAMPLES / "20250519_024922_participatingAgencies05162025am.xlsx"
JULY = ICE_287G_SAMPLES / "20250719_151637_participatingAgencies07182025pm.xlsx"
PENDING_JUNE = ICE_287G_SAMPLES / "20250618_023204_pendingAgencies06172025pm.xlsx"
PENDING_JULY = ICE_287G_SAMPLES / "20250719_151637_pendingAgencies07182025pm.xlsx"


def _engine(database_url: str) -> Engine:
    return create_engine(parse_url(database_url))


def registry_rows(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every registry table, sorted: what "nothing changed" compares."""
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                t.name: sorted(tuple(r) for r in conn.execute(select(t)).all())
                for t in REGISTRY_TABLES
            }
    finally:
        engine.dispose()


def agreements(database_url: str) -> dict[str, Any]:
    engine = _engine(database_url)
    try:
        with engine.connect() as conn:
            return {r.id: r for r in conn.execute(select(agreement_table)).all()}
    finally:
        engine.dispose()


def edited(source: Path, target: Path, edit: Any) -> Path:
    """A copy of a real capture with `edit(worksheet)` applied."""
    workbook = load_workbook(source)
    edit(workbook.worksheets[0])
    workbook.save(target)
    return target


def test_import_is_idempotent_and_a_content_build_keeps_the_registry(
    database_url: str, tmp_path: Path
) -> None:
    assert (
        main(["build", "--no-index", "--protocols", str(PROTOCOLS), "--database-url", database_url])
        == 0
    )
    report = import_captures([JULY, MAY, PENDING_JULY, PENDING_JUNE], database_url)
    assert (report.loaded, report.already) == (4, 0)
    before = registry_rows(database_url)
    assert len(before["registry_capture"]) == 4

    again = import_captures([MAY, JULY, PENDING_JUNE, PENDING_JULY], database_url)
    assert (again.loaded, again.already) == (0, 4)
    assert registry_rows(database_url) == before

    # The same content under another name is the same capture.
    renamed = shutil.copy(MAY, tmp_path / "participatingAgencies05162025am.xlsx")
    assert import_captures([Path(renamed)], database_url).loaded == 0
    assert registry_rows(database_url) == before

    for _ in range(2):  # a rebuild, and a rebuild of a rebuild
        assert (
            main(
                [
                    "build",
                    "--no-index",
                    "--protocols",
                    str(PROTOCOLS),
                    "--database-url",
                    database_url,
                ]
            )
            == 0
        )
        assert registry_rows(database_url) == before


def test_an_import_before_any_build_survives_the_first_build(database_url: str) -> None:
    import_captures([MAY, JULY], database_url)
    before = registry_rows(database_url)
    assert before["registry_agreement"]
    assert (
        main(["build", "--no-index", "--protocols", str(PROTOCOLS), "--database-url", database_url])
        == 0
    )
    assert registry_rows(database_url) == before


def test_an_agreement_gone_from_a_later_capture_is_ended_by_that_capture(
    database_url: str, tmp_path: Path
) -> None:
    import_captures([MAY, JULY], database_url)
    may = read_sheet(MAY).entries
    july = read_sheet(JULY).entries
    found = agreements(database_url)
    gone = set(may) - set(july)
    assert gone, "the May and July samples differ"
    for aid in gone:
        assert found[aid].ended_by.isoformat() == "2025-07-18"
        assert found[aid].last_seen.isoformat() == "2025-05-16"
    for aid in set(july) - set(may):
        assert found[aid].first_seen.isoformat() == "2025-07-18"
        assert found[aid].ended_by is None
    # July imported first, May in a later run: the same history.
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    import_captures([JULY], other)
    import_captures([MAY], other)
    assert {a: (r.first_seen, r.last_seen, r.ended_by) for a, r in found.items()} == {
        a: (r.first_seen, r.last_seen, r.ended_by) for a, r in agreements(other).items()
    }


def test_a_file_broken_midway_loads_nothing(database_url: str, tmp_path: Path) -> None:
    import_captures([MAY], database_url)
    before = registry_rows(database_url)

    def bad_date(sheet: Any) -> None:
        sheet["F400"] = "someday"

    broken = edited(
        JULY, tmp_path / "20250720_000000_participatingAgencies07192025am.xlsx", bad_date
    )
    with pytest.raises(SheetError) as error:
        import_captures([PENDING_JULY, JULY, broken], database_url)
    message = str(error.value)
    assert broken.name in message and "row 400" in message and "column F (SIGNED)" in message
    assert registry_rows(database_url) == before

    truncated = tmp_path / "participatingAgencies07202025am.xlsx"
    truncated.write_bytes(JULY.read_bytes()[: JULY.stat().st_size // 2])
    with pytest.raises(SheetError, match=r"participatingAgencies07202025am\.xlsx: not a readable"):
        import_captures([JULY, truncated], database_url)
    assert registry_rows(database_url) == before

    # And from the command line: a clear message, a failing exit code, nothing loaded.
    assert main(["import-287g", "--database-url", database_url, str(JULY), str(broken)]) == 1
    assert registry_rows(database_url) == before


def test_a_changed_column_layout_names_the_column(tmp_path: Path) -> None:
    def renamed(sheet: Any) -> None:
        sheet["D1"] = "PARISH"

    path = edited(MAY, tmp_path / "participatingAgencies05162025am.xlsx", renamed)
    with pytest.raises(SheetError, match=r"row 1, column D: unexpected column 'PARISH'"):
        read_sheet(path)

    def dropped(sheet: Any) -> None:
        sheet.delete_cols(6)  # SIGNED

    path = edited(MAY, tmp_path / "participatingAgencies05172025am.xlsx", dropped)
    with pytest.raises(SheetError, match=r"missing column 'SIGNED'"):
        read_sheet(path)

    with pytest.raises(SheetError, match="not named like ICE's lists"):
        read_sheet(Path(shutil.copy(MAY, tmp_path / "agencies.xlsx")))
    with pytest.raises(SheetError, match=r"participatingAgencies01012025am\.xlsx: cannot be read"):
        read_sheet(tmp_path / "participatingAgencies01012025am.xlsx")
    not_xlsx = tmp_path / "pendingAgencies01012025am.xlsx"
    not_xlsx.write_text("STATE,LAW ENFORCEMENT AGENCY\n")
    with pytest.raises(SheetError, match=r"pendingAgencies01012025am\.xlsx: not a readable \.xlsx"):
        read_sheet(not_xlsx)


def test_duplicate_rows_are_merged_and_counted(database_url: str, tmp_path: Path) -> None:
    picked: list[Any] = []

    def duplicate_row_5(sheet: Any) -> None:
        row = [c.value for c in sheet[5]]
        picked.append(row)
        # The same agreement again, as messy as ICE writes it: trailing spaces, other case.
        sheet.append([f"{v} " if isinstance(v, str) else v for v in row])
        sheet.cell(row=sheet.max_row, column=2).value = str(row[1]).upper() + "  "

    path = edited(
        MAY, tmp_path / "20250520_000000_participatingAgencies05182025am.xlsx", duplicate_row_5
    )
    sheet = read_sheet(path)
    original = read_sheet(MAY)
    assert sheet.rows == original.rows + 1
    assert len(sheet.entries) == len(original.entries)
    merged = [e for e in sheet.entries.values() if e.rows == 2]
    assert len(merged) == 1 and merged[0].row == 5
    assert merged[0].agency == " ".join(str(picked[0][1]).split())

    import_captures([path], database_url)
    engine = _engine(database_url)
    with engine.connect() as conn:
        capture = conn.execute(select(capture_table)).one()
        widest = conn.execute(
            select(agreement_table.c.max_rows).where(agreement_table.c.id == merged[0].agreement_id)
        ).scalar()
    engine.dispose()
    assert (capture.rows, capture.entries) == (original.rows + 1, len(original.entries))
    assert widest == 2


def test_cells_are_cleaned() -> None:
    july = read_sheet(JULY)
    for entry in july.entries.values():
        assert entry.agency == entry.agency.strip() and "  " not in entry.agency
        assert entry.county != "#N/A"
        assert entry.moa_url is None or "safelinks" not in entry.moa_url
    assert {e.model for e in july.entries.values()} <= {
        "jail_enforcement", "task_force", "warrant_service_officer"
    }  # fmt: skip
    wrapped = (
        "https://gcc02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.ice.gov%2Fdoclib"
        "%2F287gMOA%2FX.pdf&data=05%7C02%7Csomeone%40ice.dhs.gov"
    )
    assert unwrap_safelink(wrapped) == "https://www.ice.gov/doclib/287gMOA/X.pdf"


def test_the_server_reads_an_import_made_after_the_build(database_url: str) -> None:
    """The read-only serving engine sees the registry the import wrote (SQLite: same file)."""
    assert (
        main(["build", "--no-index", "--protocols", str(PROTOCOLS), "--database-url", database_url])
        == 0
    )
    import_captures([MAY], database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            count = len(conn.execute(select(agreement_table.c.id)).all())
    finally:
        engine.dispose()
    assert count == len(read_sheet(MAY).entries)


def test_a_database_failure_midway_rolls_the_whole_import_back(database_url: str) -> None:
    """The captures are written before the agreements are derived: a failure while deriving
    (here a rule the database enforces on one July agreement) leaves nothing of the run."""
    import_captures([MAY], database_url)
    before = registry_rows(database_url)
    refused = next(iter(set(read_sheet(JULY).entries) - set(read_sheet(MAY).entries)))
    engine = _engine(database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON registry_agreement "
                f"WHEN NEW.id = '{refused}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            conn.exec_driver_sql(
                f"ALTER TABLE registry_agreement ADD CONSTRAINT refuse CHECK (id <> '{refused}')"
            )
    engine.dispose()
    with pytest.raises(BuildFailed, match="nothing was loaded"):
        import_captures([JULY, PENDING_JULY], database_url)
    assert registry_rows(database_url) == before
