"""Screenshots of the overview, a protocol, compare, diff, drafting and where pages (laptop
1366 x 900; the overview, compare and where pages also on a 390 x 844 phone) for the README
(docs/img/), and the first page of a drafted policy as Word renders it (through LibreOffice) for
docs/drafting.md.

    .venv/bin/python -m tests.web.screenshots      (or: make screenshots)

Builds protocols/ into a temporary database, serves it on a loopback port with the browser
tests' harness, and saves PNGs taken in Debian's Chromium.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from kbcli.commands import main as kb
from tests.conftest import PROTOCOLS, ROOT
from tests.web.harness import CHROMIUM, CHROMIUM_ARGS, INSTALL_HINT, built_server

FOUR = ",".join(
    [
        "us-ca-santa-clara-county/board-policy-3-54",
        "us-il-cook-county/ordinance-11-o-73",
        "us-dc/law-19-194",
        "us-ca/ab-4-2013",
    ]
)
SHOTS = {
    "home.png": "/",
    "compare.png": f"/compare?protocols={FOUR}",
    "diff.png": "/diff?from=us-ca/ab-1081-2012&to=us-ca/ab-4-2013",
    "draft.png": "/draft?start_from=us-il-cook-county/ordinance-11-o-73&strengthen=true&name=Cook+County&level=county",
    "where.png": "/where/us-tx-harris-county",
    "protocol.png": "/protocols/us-ca/sb-54-2017",
}
# On a laptop, scrolled to the element named: the overview matrix below the explainer.
SCROLLED_SHOTS = {"matrix.png": ("/", "#matrix-heading")}
# On a phone (390 x 844), scrolled to the element named: the top of the overview and of a county's
# page, and the comparison's first question as stacked cards.
PHONE_SHOTS: dict[str, tuple[str, str | None]] = {
    "home-phone.png": ("/", None),
    "compare-phone.png": (f"/compare?protocols={FOUR}", "table.compare tbody tr.group"),
    "where-phone.png": ("/where/us-il-cook-county", None),
}


def draft_first_page(folder: Path, out: Path) -> None:
    """The strongest draft for Example County as DOCX, converted by LibreOffice, page 1 as PNG."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None or shutil.which("pdftoppm") is None:
        print("skipped draft-page1.png: needs libreoffice and pdftoppm", file=sys.stderr)
        return
    database = f"sqlite:///{folder / 'kb.sqlite3'}"
    document = folder / "draft.docx"
    kb(["draft", "--database-url", database, "--name", "Example County", "--level", "county",
        "--format", "docx", "-o", str(document)])  # fmt: skip
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{folder / 'lo'}",
         "--convert-to", "pdf", "--outdir", str(folder), str(document)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
         str(folder / "draft.pdf"), str(out / "draft-page1")],
        check=True, timeout=60,
    )  # fmt: skip
    print(f"wrote {out / 'draft-page1.png'}")


def main(out: Path = ROOT / "docs" / "img") -> int:
    if not CHROMIUM.exists():
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        built_server(PROTOCOLS, Path(folder)) as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        for name, path in SHOTS.items():
            page.goto(base + path)
            page.screenshot(path=out / name)
            print(f"wrote {out / name}")
        for name, (path, first) in SCROLLED_SHOTS.items():
            page.goto(base + path)
            page.locator(first).first.evaluate("el => el.scrollIntoView()")
            page.screenshot(path=out / name)
            print(f"wrote {out / name}")
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        for name, (path, target) in PHONE_SHOTS.items():
            phone.goto(base + path)
            if target is not None:
                phone.locator(target).first.evaluate("el => el.scrollIntoView()")
            phone.screenshot(path=out / name)
            print(f"wrote {out / name}")
        browser.close()
        draft_first_page(Path(folder), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
