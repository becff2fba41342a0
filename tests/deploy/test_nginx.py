"""The production front (deploy/nginx/protocol-kb.conf) run by Debian's nginx in front of a real
`kb serve` on loopback: answers pass through, slow and lying clients are cut off in bounded time,
big bodies and greedy addresses are refused.

Each test speaks from a loopback address of its own (127.0.0.N) so that one test's use of the
per-address limits cannot touch another's. Every loop is bounded in count and in time.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import resource
import selectors
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from kbcli.commands import main
from tests.conftest import ROOT, copy_content
from tests.deploy.front import (
    HOST,
    INSTALL_HINT,
    NGINX,
    TEMP_PATHS,
    TEMPLATE,
    Front,
    nginx_front,
    render,
)
from tests.servers import KB, free_port, server

MARGIN = 5.0  # seconds beyond a configured timeout before a connection counts as not cut off
QUICK = 5.0  # seconds an answer that needs no waiting may take on a busy machine


@contextmanager
def kb_serve(workdir: Path) -> Iterator[str]:
    """`kb serve` over the test content, built into `workdir`."""
    content = copy_content(workdir / "protocols")
    database_url = f"sqlite:///{workdir / 'kb.sqlite3'}"
    index_dir = workdir / "index"
    command = ["build", "--protocols", str(content), "--database-url", database_url]
    assert main([*command, "--index-dir", str(index_dir)]) == 0
    env = {
        "KB_PORT": str(free_port()),
        "KB_DATABASE_URL": database_url,
        "KB_PROTOCOLS_DIR": str(content),
        "KB_INDEX_DIR": str(index_dir),
    }
    with server([KB, "serve", "--no-build"], env) as base:
        yield base


def needs_nginx() -> None:
    if not Path(NGINX).exists():
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with kb_serve(tmp_path_factory.mktemp("nginx-app")) as base:
        yield base


@pytest.fixture(scope="module")
def front(app: str) -> Iterator[Front]:
    needs_nginx()
    with nginx_front(app) as running:
        yield running


def connect(front: Front, source: str, timeout: float = QUICK) -> socket.socket:
    return socket.create_connection((HOST, front.port), timeout=timeout, source_address=(source, 0))


def request(
    front: Front,
    source: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(
        HOST, front.port, timeout=QUICK * 2, source_address=(source, 0)
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def app_get(base: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=QUICK * 2)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def watch(
    sockets: dict[str, socket.socket], deadline: float, *, answer: bool = False
) -> dict[str, tuple[float, bytes]]:
    """For each named socket: seconds until the server closed (or reset) it, and what it sent; with
    `answer`, until it sent a whole response head, whether or not it closed.

    Reads until every socket is done or the deadline passes; a socket not done by then is left out
    of the result."""
    start = time.monotonic()
    selector = selectors.DefaultSelector()
    received: dict[str, bytes] = {name: b"" for name in sockets}
    for name, sock in sockets.items():
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, name)
    done: dict[str, tuple[float, bytes]] = {}
    try:
        while len(done) < len(sockets) and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=max(0.0, min(0.5, deadline - time.monotonic()))):
                name = key.data
                try:
                    chunk = sockets[name].recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    chunk = b""
                received[name] += chunk
                if not chunk or (answer and b"\r\n\r\n" in received[name]):
                    done[name] = (time.monotonic() - start, received[name])
                    selector.unregister(sockets[name])
    finally:
        selector.close()
    return done


def test_answers_pass_through_with_their_tags_and_are_cached(front: Front, app: str) -> None:
    source = "127.0.0.2"
    path = "/api/v1/protocols"
    direct_status, direct_headers, direct_body = app_get(app, path, {"Host": HOST})
    status, headers, body = request(front, source, "GET", path)
    assert (status, json.loads(body)) == (direct_status, json.loads(direct_body))
    assert headers["etag"] == direct_headers["etag"]
    assert headers["cache-control"] == "public, max-age=300"
    assert headers["content-security-policy"] == direct_headers["content-security-policy"]
    assert headers["server"] == "nginx"  # no version

    # Kept by nginx: the second answer is nginx's hit, and a matching tag is a bodiless 304.
    status, headers, _ = request(front, source, "GET", path)
    assert status == 200 and "nginx; hit" in headers["cache-status"]
    status, headers, body = request(
        front, source, "GET", path, headers={"If-None-Match": headers["etag"]}
    )
    assert (status, body) == (304, b"")
    assert headers["etag"] == direct_headers["etag"]

    # Compressed on the way out; the tag becomes weak (the bytes differ) and still revalidates.
    status, headers, gzipped = request(
        front, source, "GET", path, headers={"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["etag"] == "W/" + direct_headers["etag"]
    assert json.loads(gzip.decompress(gzipped)) == json.loads(direct_body)
    status, _, _ = request(front, source, "GET", path, headers={"If-None-Match": headers["etag"]})
    assert status == 304

    # Pages are the app's, uncached (they carry no Cache-Control).
    status, headers, body = request(front, source, "GET", "/")
    assert status == 200 and b"Detainer Limits Ordinance" in body
    assert "nginx; hit" not in headers.get("cache-status", "")
    status, headers, _ = request(front, source, "GET", "/")
    assert "nginx; hit" not in headers.get("cache-status", "")


def test_the_cache_keeps_each_language_of_an_answer_apart(front: Front) -> None:
    """The codebook answers per Accept-Language (`Vary`): nginx keeps a variant per language and
    never hands one language's answer to a reader of the other."""
    source = "127.0.0.5"
    path = "/api/v1/codebook/juvenile_holds"
    answers = {}
    for _ in range(2):  # the second round is served from nginx's cache
        for lang in ("en", "es", "en"):
            status, headers, body = request(
                front, source, "GET", path, headers={"Accept-Language": lang}
            )
            assert status == 200 and headers["content-language"] == lang
            assert "Accept-Language" in headers["vary"]
            answers.setdefault(lang, json.loads(body))
            assert json.loads(body) == answers[lang]
    assert (
        answers["es"]["data"]["question"]
        == "¿Se puede retener a menores de edad por una orden de retención?"
    )
    assert answers["en"]["data"]["question"] == "May minors be held on a detainer?"
    status, headers, _ = request(front, source, "GET", path, headers={"Accept-Language": "es"})
    assert "nginx; hit" in headers["cache-status"]


def test_a_host_it_does_not_serve_is_closed_without_an_answer(front: Front) -> None:
    with connect(front, "127.0.0.3") as sock:
        sock.sendall(b"GET /api/v1/protocols HTTP/1.1\r\nHost: evil.example\r\n\r\n")
        closed = watch({"evil": sock}, time.monotonic() + QUICK)
    assert closed["evil"][1] == b""


def test_forwarded_headers_from_the_client_do_not_reach_the_app(front: Front) -> None:
    """nginx overwrites them with its own view: a client cannot make the app believe it came over
    https or from another host, and nothing it forwarded turns up in an answer."""
    status, _, body = request(
        front,
        "127.0.0.12",
        "GET",
        "/api/v1/protocols?limit=1&offset=0",
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "Forwarded": "proto=https;host=evil.example",
            "X-Forwarded-For": "203.0.113.9",
        },
    )
    following = json.loads(body)["pagination"]["next"]
    assert status == 200 and following
    # Links are relative since the API contract of 2026-12-01: nothing the client forwarded
    # may turn up in the answer.
    assert following.startswith("/api/v1/protocols?") and "evil" not in body.decode()


def test_while_the_app_is_down_kept_answers_are_served_and_others_are_502(
    tmp_path: Path,
) -> None:
    needs_nginx()
    source = "127.0.0.13"
    with ExitStack() as app_running:
        app = app_running.enter_context(kb_serve(tmp_path))
        with nginx_front(app) as front:
            assert request(front, source, "GET", "/api/v1/protocols")[0] == 200
            app_running.close()  # the app stops; nginx stays

            status, headers, body = request(front, source, "GET", "/api/v1/protocols")
            assert status == 200 and "nginx; hit" in headers["cache-status"]
            assert json.loads(body)["data"]

            status, headers, body = request(front, source, "GET", "/api/v1/jurisdictions")
            assert status == 502
            assert headers["content-type"] == "application/problem+json"
            assert json.loads(body)["status"] == 502
            assert headers["retry-after"]
            status, headers, body = request(front, source, "GET", "/")
            assert status == 502 and headers["content-type"].startswith("text/html")


def test_slow_headers_are_closed_within_the_header_timeout(front: Front) -> None:
    """Three clients that never finish their headers: silent, stalled halfway, and trickling a byte
    a second (the timeout is for the whole header, not between bytes)."""
    timeout = front.seconds("client_header_timeout")
    source = "127.0.0.4"
    sockets = {name: connect(front, source) for name in ("silent", "stalled", "trickling")}
    try:
        sockets["stalled"].sendall(b"GET /api/v1/protocols HTTP/1.1\r\nHost: 127.")
        trickle = iter(b"GET /api/v1/protocols HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60)
        start = time.monotonic()
        deadline = start + timeout + MARGIN
        closed: dict[str, tuple[float, bytes]] = {}
        while len(closed) < len(sockets) and time.monotonic() < deadline:
            if "trickling" not in closed:
                try:
                    sockets["trickling"].setblocking(True)
                    sockets["trickling"].sendall(bytes([next(trickle, 32)]))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # closed already: watch() below sees it
            still_open = {name: sock for name, sock in sockets.items() if name not in closed}
            for name, (_, data) in watch(still_open, time.monotonic() + 1).items():
                closed[name] = (time.monotonic() - start, data)
    finally:
        for sock in sockets.values():
            sock.close()
    assert set(closed) == set(sockets), f"still open after {timeout + MARGIN} s: {closed}"
    for name, (seconds, data) in closed.items():
        assert timeout - 1 <= seconds <= timeout + MARGIN, (name, seconds)
        assert data == b"" or data.startswith(b"HTTP/1.1 408"), (name, data)


def test_thousands_of_unfinished_headers_block_no_one_and_end_with_the_header_timeout(
    front: Front,
) -> None:
    """The issue's 3,000 connections that never finish their headers, from one address: another
    address is served meanwhile, and nginx closes every one of them by the header timeout."""
    timeout = front.seconds("client_header_timeout")
    wanted = 3000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted + 200 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted + 200, hard))
    count = min(wanted, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200)
    sockets: dict[str, socket.socket] = {}
    try:
        start = time.monotonic()
        for number in range(count):
            sock = connect(front, "127.0.0.10")
            sock.sendall(b"GET /api/v1/protocols HTTP/1.1\r\nHost: 127.")
            sockets[str(number)] = sock
        status, _, body = request(front, "127.0.0.11", "GET", "/api/v1/protocols")
        assert status == 200 and json.loads(body)["data"]
        closed = watch(sockets, start + timeout + MARGIN)
        assert len(closed) == count, f"{count - len(closed)} of {count} still open"
        assert all(data == b"" for _, data in closed.values())
    finally:
        for sock in sockets.values():
            sock.close()


def test_a_body_shorter_than_its_length_is_closed_within_the_body_timeout(front: Front) -> None:
    """The request is held by nginx (the app never sees it) until the body timeout, then cut."""
    timeout = front.seconds("client_body_timeout")
    body = b'{"adopter": {"name": "Example County", '
    head = (
        "POST /api/v1/drafts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) + 1000}\r\n\r\n"
    )
    with connect(front, "127.0.0.5") as sock:
        sock.sendall(head.encode() + body)
        closed = watch({"short": sock}, time.monotonic() + timeout + MARGIN)
    assert "short" in closed, f"still open after {timeout + MARGIN} s"
    seconds, data = closed["short"]
    assert timeout - 1 <= seconds <= timeout + MARGIN
    assert data == b"" or data.startswith(b"HTTP/1.1 408"), data


def test_an_oversized_body_is_refused_by_nginx(front: Front) -> None:
    source = "127.0.0.6"
    limit = front.value(r"^\s*client_max_body_size (\d+)k;")
    too_big = int(limit) * 1024 + 1
    headers = {"Content-Type": "application/json"}

    status, answer, body = request(front, source, "POST", "/api/v1/drafts", b"x" * too_big, headers)
    assert status == 413
    assert answer["content-type"] == "application/problem+json"
    assert "content-security-policy" not in answer  # nginx's answer, not the app's
    assert json.loads(body)["status"] == 413

    # The length alone is enough: refused before a byte of the body is sent.
    with connect(front, source) as sock:
        sock.sendall(
            b"POST /api/v1/drafts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
        )
        closed = watch({"promised": sock}, time.monotonic() + QUICK, answer=True)
    assert closed["promised"][1].startswith(b"HTTP/1.1 413")

    # A chunked body has no length to check up front: counted as it arrives.
    with connect(front, source) as sock:
        sock.sendall(
            b"POST /api/v1/drafts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 65536
        try:
            for _ in range(too_big // len(chunk) + 2):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # nginx answered and closed mid-body
        closed = watch({"chunked": sock}, time.monotonic() + QUICK, answer=True)
    assert closed["chunked"][1].startswith(b"HTTP/1.1 413")

    # Under the limit the body reaches the app, which answers for itself.
    status, answer, _ = request(front, source, "POST", "/api/v1/drafts", b"x" * 1000, headers)
    assert 400 <= status < 500 and "content-security-policy" in answer


def test_one_address_holding_many_requests_is_limited_while_another_gets_through(
    front: Front,
) -> None:
    """200 requests from one address that promise a body and never send it: nginx holds as many
    as limit_conn allows and turns the rest away at once; another address is served meanwhile."""
    hog, other = "127.0.0.7", "127.0.0.8"
    allowed = int(front.value(r"^\s*limit_conn kb_conn (\d+);"))
    head = (
        b"POST /api/v1/drafts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    sockets: dict[str, socket.socket] = {}
    try:
        for number in range(200):
            sock = connect(front, hog)
            sock.sendall(head)
            sockets[str(number)] = sock
        answered = watch(sockets, time.monotonic() + QUICK, answer=True)
        held = set(sockets) - set(answered)
        assert len(held) == allowed
        assert all(data.startswith(b"HTTP/1.1 429") for _, data in answered.values())
        at_once = [data for _, data in answered.values() if b"at once" in data]
        assert at_once, "no refusal names the connection limit"

        status, _, body = request(front, other, "GET", "/api/v1/protocols")
        assert status == 200 and json.loads(body)["data"]
        status, headers, body = request(front, hog, "GET", "/api/v1/protocols")
        assert status == 429 and headers["retry-after"]
        assert json.loads(body)["detail"].startswith("Too many requests from your address at once")
    finally:
        for sock in sockets.values():
            sock.close()


def test_one_address_sending_too_fast_is_limited_but_not_on_assets(front: Front) -> None:
    source = "127.0.0.9"
    rate = int(front.value(r"rate=(\d+)r/s;"))
    burst = int(front.value(r"limit_req zone=kb_req burst=(\d+) nodelay;"))
    attempts = burst + 20
    connection = http.client.HTTPConnection(
        HOST, front.port, timeout=QUICK * 2, source_address=(source, 0)
    )
    statuses: list[int] = []
    start = time.monotonic()
    try:
        for _ in range(attempts):
            connection.request("GET", "/api/v1/protocols")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            if response.getheader("connection") == "close":
                connection.close()
        elapsed = time.monotonic() - start
        assert set(statuses) == {200, 429}
        assert statuses.count(200) <= burst + 1 + rate * elapsed + 1
        # Assets and the health check are not counted against the rate.
        for path in ["/static/style.css"] * 10 + ["/healthz"] * 5:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, path
    finally:
        connection.close()


def test_the_deployment_guide_states_the_configured_values() -> None:
    """Every single-directive row of docs/deployment.md's limits table names the file's value."""
    config = TEMPLATE.read_text()
    values = dict(re.findall(r"^\s*(\w+) (\d+)[sk]?;", config, re.MULTILINE))
    guide = (ROOT / "docs" / "deployment.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", guide, re.MULTILINE)
    checked = [(name, cell) for name, cell in rows if name in values]
    assert len(checked) >= 6, rows
    for name, cell in checked:
        assert re.search(rf"\b{values[name]}\b", cell), (
            f"{name}: {values[name]} in the file, {cell!r}"
        )


def test_the_file_drops_into_debians_nginx_conf(tmp_path: Path) -> None:
    """As docs/deployment.md installs it: inside Debian's own `http {}` (which already turns gzip
    on, among others), with no directive clashing. Checked with `nginx -t`, nothing started."""
    needs_nginx()
    debian = Path("/etc/nginx/nginx.conf")
    if not debian.exists():
        pytest.skip("no /etc/nginx/nginx.conf (nginx not from Debian's package)")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    front = render(
        TEMPLATE.read_text(), port=free_port(), upstream_port=free_port(), cache_dir=prefix / "c"
    )
    (prefix / "protocol-kb.conf").write_text(front)
    main_conf = debian.read_text()
    for pattern, replacement in [
        (r"^user .*$", ""),
        (r"^pid .*$", f"pid {prefix}/nginx.pid;"),
        (r"(?m)^\s*(error_log|access_log) [^;]*;", rf"\1 {prefix}/\1.log;"),
        (r"include /etc/nginx/conf\.d/\*\.conf;", f"include {prefix}/protocol-kb.conf;"),
        (r"include /etc/nginx/sites-enabled/\*;", ""),
    ]:
        main_conf, count = re.subn(pattern, replacement, main_conf, flags=re.MULTILINE)
        assert count, f"{pattern!r} not in {debian}"
    temp_paths = "".join(f"{name}_temp_path {prefix / name};\n" for name in TEMP_PATHS)
    main_conf = main_conf.replace("http {", "http {\n" + temp_paths, 1)
    (prefix / "nginx.conf").write_text(main_conf)
    checked = subprocess.run(
        [
            NGINX,
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(prefix / "nginx.conf"),
            "-t",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
