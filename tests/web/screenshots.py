"""Screenshots of the overview, compare and diff pages for the README (docs/img/).

    .venv/bin/python -m tests.web.screenshots      (or: make screenshots)

Builds protocols/ into a temporary database, serves it on a loopback port with the browser
tests' harness, and saves PNGs taken in Debian's Chromium.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

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
}


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
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        for name, path in SHOTS.items():
            page.goto(base + path)
            page.screenshot(path=out / name)
            print(f"wrote {out / name}")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
