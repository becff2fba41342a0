"""The real-browser harness: Debian's Chromium, served content, page errors, axe and XSS checks."""

from __future__ import annotations

import itertools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import BrowserContext, ConsoleMessage, Frame, Page, WebError
from playwright.sync_api import Error as PlaywrightError

from kbcli.commands import main
from tests.conftest import FIXTURES, ICE_287G_SAMPLES, PROTOCOLS
from tests.servers import KB, free_port, server

# Debian's Chromium: a browser downloaded by `playwright install` cannot be fetched here.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
INSTALL_HINT = (
    f"{CHROMIUM} is missing: install Debian's Chromium with "
    "`apt-get install -y --no-install-recommends chromium` (.ci/run does; never `playwright install`)"
)
TIMEOUT_MS = 10_000

# WCAG 2.0, 2.1 and 2.2, levels A and AA (axe has no wcag22a tag: 2.2's new A criteria have no rule).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = ("serious", "critical")
MAX_NODES_SHOWN = 8
_AXE_SCRIPT: str = Axe().axe_script  # axe-core, bundled with the package

XSS_FIXTURE = FIXTURES / "xss"
XSS_JURISDICTION = "us-zz-hostile"
XSS_PROTOCOLS = ("us-zz-hostile/ordinance-1", "us-zz-hostile/ordinance-2")
XSS_CONTEXT = "hostile-record"
XSS_TOPIC = "hostile-topic"
# Every fixture text field carries these; a page that runs one sets window.__xss.
XSS_PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=1>',
    "' autofocus onfocus='window.__xss=1",
    "[x](javascript:window.__xss=1)",
)


def hostile_content(destination: Path) -> Path:
    """The real protocols/ with the XSS fixture's jurisdiction, topic and records added."""
    shutil.copytree(PROTOCOLS, destination)
    for name, key in (("jurisdictions.yaml", "jurisdictions"), ("topics.yaml", "topics")):
        real = yaml.safe_load((destination / name).read_text(encoding="utf-8"))
        extra = yaml.safe_load((XSS_FIXTURE / name).read_text(encoding="utf-8"))
        real[key].extend(extra[key])
        (destination / name).write_text(
            yaml.safe_dump(real, sort_keys=False, allow_unicode=True, width=10_000),
            encoding="utf-8",
        )
    shutil.copytree(XSS_FIXTURE / "context", destination / "context", dirs_exist_ok=True)
    shutil.copytree(XSS_FIXTURE / XSS_JURISDICTION, destination / XSS_JURISDICTION)
    return destination


@contextmanager
def built_server(content: Path, workdir: Path) -> Iterator[str]:
    """`kb build` of `content` into a SQLite file and index under `workdir`, then `kb serve`."""
    database_url = f"sqlite:///{workdir / 'kb.sqlite3'}"
    index_dir = workdir / "index"
    built = main(
        [
            "build",
            "--protocols",
            str(content),
            "--database-url",
            database_url,
            "--index-dir",
            str(index_dir),
        ]
    )
    assert built == 0, f"kb build of {content} failed"
    # the four real captures of ICE's 287(g) lists: pages show the registry beside the rules
    samples = sorted(str(p) for p in ICE_287G_SAMPLES.glob("*.xlsx"))
    imported = main(
        ["import-287g", "--protocols", str(content), "--database-url", database_url, *samples]
    )
    assert imported == 0, "kb import-287g of the sample captures failed"
    port = free_port()
    env = {
        "KB_PORT": str(port),
        "KB_DATABASE_URL": database_url,
        "KB_PROTOCOLS_DIR": str(content),
        "KB_INDEX_DIR": str(index_dir),
        "KB_PUBLIC_URL": f"http://127.0.0.1:{port}",  # the embed snippet's absolute address
    }
    with server([KB, "serve", "--no-build"], env) as base:
        yield base


class PageErrors:
    """JavaScript errors and error messages (CSP violations among them) from every page of a context."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.errors: list[str] = []
        self.failed_loads: list[str] = []
        context.on("console", self._console)
        context.on("weberror", self._weberror)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        # A failed HTTP request is logged as a console error; it is not a script error.
        if message.text.startswith("Failed to load resource"):
            self.failed_loads.append(f"{message.text} ({where})")
        else:
            self.errors.append(f"console error: {message.text} ({where})")

    def _weberror(self, error: WebError) -> None:
        self.errors.append(f"uncaught error: {error.error.message}")

    def settle(self) -> list[str]:
        """The errors, once messages still on their way from the browser have arrived."""
        for page in self.context.pages:
            with suppress(PlaywrightError):  # a page may close or navigate meanwhile
                page.evaluate("0")
        return self.errors

    def clear(self) -> None:
        self.errors.clear()
        self.failed_loads.clear()

    def report(self) -> str:
        return "the page reported errors:\n" + "\n".join(f"- {e}" for e in self.errors)


def _inject_axe(frame: Frame) -> None:
    if not frame.evaluate("() => typeof window.axe === 'object'"):
        frame.evaluate(_AXE_SCRIPT)
    # axe talks only to same-origin frames unless told otherwise; the embed is cross-origin.
    frame.evaluate("() => axe.configure({allowedOrigins: ['<unsafe_all_origins>']})")


def assert_accessible(page: Page, exclude: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe (WCAG 2.x A and AA rules) on the page and its frames, cross-origin ones included;
    fail on any serious or critical violation. Returns every violation, whatever its impact.
    `exclude`: CSS selectors axe leaves out (thousands of rows made by one template line)."""
    for frame in page.frames:
        _inject_axe(frame)
    results: dict[str, Any] = page.evaluate(
        "([exclude, options]) => axe.run("
        "exclude.length ? {exclude: exclude.map(s => [s])} : document, options)",
        [
            exclude or [],
            {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
        ],
    )
    violations: list[dict[str, Any]] = results["violations"]
    failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    if failing:
        lines = [f"axe: {len(failing)} serious or critical violation(s) on {page.url}"]
        for v in failing:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']}\n  {v['helpUrl']}")
            for node in v["nodes"][:MAX_NODES_SHOWN]:
                target = " >>> ".join(str(t) for t in node["target"])
                lines.append(f"    {target}\n      {node.get('html', '')[:200]}")
            if len(v["nodes"]) > MAX_NODES_SHOWN:
                lines.append(f"    … and {len(v['nodes']) - MAX_NODES_SHOWN} more")
        raise AssertionError("\n".join(lines))
    return violations


# Anything a payload would create if it were parsed as markup instead of shown as text.
_LIVE_PAYLOADS = """() => {
  const found = [];
  if (typeof window.__xss !== 'undefined') found.push('window.__xss is set');
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      if (name.startsWith('on') && value.includes('__xss')) {
        found.push(`<${el.localName} ${name}="${attr.value}">`);
      }
      if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name)
          && (value.startsWith('javascript:') || value.startsWith('data:text/html'))) {
        found.push(`<${el.localName} ${name}="${attr.value}">`);
      }
      if (name === 'srcdoc' && value.includes('__xss')) found.push(`<${el.localName} srcdoc>`);
    }
    if (el.localName === 'script' && el.textContent.includes('__xss')) {
      found.push(`<script>${el.textContent}</script>`);
    }
  }
  return found;
}"""


def assert_inert(page: Page) -> None:
    """No XSS payload ran or became markup, in the page or any of its frames."""
    found = [
        f"{frame.url}: {item}" for frame in page.frames for item in frame.evaluate(_LIVE_PAYLOADS)
    ]
    assert not found, "XSS payloads became live:\n" + "\n".join(found)


class StaticSite:
    """A stdlib HTTP server on another loopback port: pages handed to it, from another origin."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self._names = itertools.count(1)
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?", 1)[0])
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                body = body if body is not None else b"<!doctype html><title>Not found</title>"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def serve(self, html: str, path: str | None = None) -> str:
        """Serve `html` at `path` (a fresh one by default); returns its URL."""
        path = path or f"/page-{next(self._names)}.html"
        self.pages[path] = html.encode("utf-8")
        return self.base + path

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
