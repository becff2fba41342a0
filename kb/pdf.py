"""PDF from a DOCX, rendered by LibreOffice headless: each conversion in a temporary folder with a
LibreOffice profile of its own, a time limit, and a bounded number at once (docs/drafting.md)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from kb.errors import KBError

MAX_AT_ONCE = 2
"""Conversions one process runs at the same time; the others wait for a turn (LibreOffice takes
a few hundred MB and a CPU while it runs)."""
_turns = threading.BoundedSemaphore(MAX_AT_ONCE)


class PdfUnavailable(KBError):
    """LibreOffice is not installed (or not where the settings say), or it failed or took too
    long: the document is still there as DOCX and HTML."""

    http_status = 503
    exit_code = 2
    title = "PDF unavailable"
    kind = "pdf-unavailable"


UNAVAILABLE = (
    "PDF is not available on this server (LibreOffice is not installed); download the DOCX or "
    "HTML instead"
)


def office_binary(configured: str) -> str | None:
    """The LibreOffice program: the configured path or name, looked up on PATH; None if absent."""
    return shutil.which(configured)


def docx_to_pdf(docx: bytes, office: str = "soffice", timeout: float = 60) -> bytes:
    """The PDF LibreOffice renders from `docx`. PdfUnavailable when it is missing, fails or runs
    past `timeout` seconds (counting the wait for a turn)."""
    program = office_binary(office)
    if program is None:
        raise PdfUnavailable(f"{UNAVAILABLE}: {office!r} was not found", UNAVAILABLE)
    if not _turns.acquire(timeout=timeout):
        raise PdfUnavailable("PDF rendering is busy; try again in a minute")
    try:
        with tempfile.TemporaryDirectory(prefix="kb-pdf-") as folder:
            work = Path(folder)
            source = work / "document.docx"
            source.write_bytes(docx)
            command = [
                program,
                "--headless",
                "--norestore",
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work),
                str(source),
            ]
            _run(command, timeout)
            pdf = work / "document.pdf"
            if not pdf.is_file():
                raise PdfUnavailable("LibreOffice wrote no PDF", "PDF rendering failed")
            return pdf.read_bytes()
    finally:
        _turns.release()


def _run(command: list[str], timeout: float) -> None:
    """Run LibreOffice in a process group of its own, so that on a timeout the helper processes
    it starts are ended with it."""
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise PdfUnavailable(f"LibreOffice could not start: {exc}", UNAVAILABLE) from exc
    try:
        _, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise PdfUnavailable(
            f"LibreOffice took longer than {timeout:g} s", "PDF rendering took too long"
        ) from exc
    if process.returncode != 0:
        detail = errors.decode("utf-8", "replace").strip()[:300]
        raise PdfUnavailable(
            f"LibreOffice failed ({process.returncode}): {detail}", "PDF rendering failed"
        )
