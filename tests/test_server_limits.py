"""A real `kb serve` on loopback against hostile clients: slow headers, bodies that never arrive,
many idle connections, and PostgreSQL connections cut mid-request. Every loop is bounded in
count and time, every socket is closed, and the server is stopped by the runner."""

from __future__ import annotations

import random
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kbcli.commands import main
from tests.conftest import postgres_admin_url
from tests.servers import KB, free_port, server

SECRET = "hunter2-in-the-query"
GIVE_UP = 10.0
"""Seconds after which a test stops waiting for the server and fails (the limits are 1-2 s)."""


@contextmanager
def serve_logged(env: dict[str, str], log: Path, open_files: int | None = None) -> Iterator[str]:
    """`kb serve --no-build` with its output in `log`, so a test can read what it logged;
    `open_files` lowers its open-file limit (`ulimit -n`)."""
    limit = f"ulimit -n {open_files}; " if open_files else ""
    command = f'{limit}exec "{KB}" serve --no-build > "{log}" 2>&1'
    with server(["sh", "-c", command], env) as base:
        yield base


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=GIVE_UP)
    return sock


def closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Seconds until the server closed `sock` (sending `trickle` every 0.2 s meanwhile), or
    None if it was still open after `seconds`."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if trickle:
                sock.sendall(trickle)
            if sock.recv(65536) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:  # reset by the server: closed too
            return time.monotonic() - start
    return None


@pytest.fixture
def built_sqlite(content: Path, tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    index = tmp_path / "index"
    assert (
        main(
            ["build", "--protocols", str(content), "--database-url", url, "--index-dir", str(index)]
        )
        == 0
    )
    return {"KB_DATABASE_URL": url, "KB_PROTOCOLS_DIR": str(content), "KB_INDEX_DIR": str(index)}


def test_slow_clients_and_idle_connections_are_bounded(
    built_sqlite: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **built_sqlite,
        "KB_PORT": str(port),
        "KB_HEADER_TIMEOUT": "2",
        "KB_BODY_TIMEOUT": "1",
        "KB_MAX_CONNECTIONS": "200",
    }
    log = tmp_path / "server.log"
    with serve_logged(env, log) as base, ExitStack() as sockets:
        # X-Forwarded-For is believed only from configured proxies (none here).
        forged = {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "https"}
        assert httpx2.get(f"{base}/healthz", headers=forged, timeout=GIVE_UP).status_code == 200

        # Headers sent a line at a time, for ever: cut off after the header timeout.
        slow = sockets.enter_context(connect(port))
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        assert closed_within(slow, GIVE_UP, trickle=b"X-Slow: 1\r\n") is not None

        # A body promised and never sent in full: a 408 problem, then the connection closes.
        body = sockets.enter_context(connect(port))
        body.sendall(
            b"POST /api/v1/drafts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"adopter":'
        )
        answer = b""
        body.settimeout(GIVE_UP)
        while b"\r\n\r\n" not in answer:
            chunk = body.recv(65536)
            assert chunk, "closed without an answer"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"application/problem+json" in answer
        assert closed_within(body, GIVE_UP) is not None

        # 150 idle connections (nothing sent) do not make the server unreachable...
        idle = [sockets.enter_context(connect(port)) for _ in range(150)]
        assert httpx2.get(f"{base}/healthz", timeout=GIVE_UP).status_code == 200
        # ...connections past the cap are closed as they arrive...
        extra = [sockets.enter_context(connect(port)) for _ in range(100)]
        refused = sum(closed_within(s, 0.5) is not None for s in extra[60:])
        assert refused >= 30
        # ...and idle ones go after the header timeout: the server is reachable again by itself.
        assert all(closed_within(s, GIVE_UP) is not None for s in idle[:20])
        deadline = time.monotonic() + GIVE_UP
        while True:
            try:
                if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.2)

    output = log.read_text()
    assert "127.0.0.1" in output and "203.0.113.9" not in output
    assert "Traceback" not in output
    assert output.count("connection limit (200) reached") <= 2  # not once per connection
    assert len(output) < 20_000


def test_idle_connections_never_reach_the_open_file_limit(
    built_sqlite: dict[str, str], tmp_path: Path
) -> None:
    """With 512 open files, 500 idle connections: the worker keeps 192 files free (cap 320:
    asyncio may accept 128 at once before closing any), closes the rest as they come, logs
    that twice at most, and answers once they are gone."""
    port = free_port()
    env = {
        **built_sqlite,
        "KB_PORT": str(port),
        "KB_HEADER_TIMEOUT": "30",
        "KB_FORWARDED_ALLOW_IPS": "127.0.0.1",  # as behind a proxy on this machine
    }
    log = tmp_path / "server.log"
    with serve_logged(env, log, open_files=512) as base:
        proxied = {"x-forwarded-for": "203.0.113.7"}
        assert httpx2.get(f"{base}/healthz", headers=proxied, timeout=GIVE_UP).status_code == 200
        with ExitStack() as sockets:
            held = [sockets.enter_context(connect(port)) for _ in range(500)]
            refused = sum(closed_within(s, 0.05) is not None for s in held[350:])
            assert refused >= 100
        # Ours closed: the server answers at once, without waiting for any timeout.
        assert httpx2.get(f"{base}/healthz", timeout=GIVE_UP).status_code == 200
    output = log.read_text()
    assert '203.0.113.7:0 - "GET /healthz' in output  # believed from the configured proxy
    assert output.count("connection limit (320) reached") <= 2
    assert "Traceback" not in output and "accept" not in output
    assert len(output) < 20_000


@pytest.mark.postgres
def test_postgresql_connections_cut_mid_request_are_503s_not_tracebacks(
    content: Path, postgres_url: str, tmp_path: Path
) -> None:
    admin_url = postgres_admin_url()
    assert admin_url is not None
    name = f"kbcut_{uuid.uuid4().hex[:10]}"
    url = (
        make_url(postgres_url)
        # The server trusts loopback here, so the password is never checked: never shown either.
        .update_query_dict({"application_name": name, "password": SECRET})
        .render_as_string(hide_password=False)
    )
    index = tmp_path / "index"
    assert (
        main(
            ["build", "--protocols", str(content), "--database-url", url, "--index-dir", str(index)]
        )
        == 0
    )
    port = free_port()
    env = {
        "KB_DATABASE_URL": url,
        "KB_PROTOCOLS_DIR": str(content),
        "KB_INDEX_DIR": str(index),
        "KB_PORT": str(port),
        "KB_RESPONSE_CACHE_MB": "0",  # every request reads the database
    }
    log = tmp_path / "server.log"
    statuses: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def visit(base: str) -> None:
        pair = "us-xx-example-county/ordinance-2010-3,us-xx-example-county/ordinance-2012-9"
        paths = ["/api/v1/protocols", f"/compare?protocols={pair}", "/", "/api/v1/codebook"]
        with httpx2.Client(timeout=GIVE_UP) as client:
            for _ in range(2000):  # bounded; stopped by the event well before
                if stop.is_set():
                    return
                path = random.choice(paths)
                try:
                    response = client.get(f"{base}{path}")
                except httpx2.TransportError as exc:
                    failures.append(f"{path}: {exc!r}")
                    continue
                statuses.append(response.status_code)
                if response.status_code == 503 and name in response.text:
                    failures.append(f"{path}: the 503 names the database: {response.text}")

    admin = create_engine(
        make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    terminated = 0
    try:
        with serve_logged(env, log) as base:
            threads = [threading.Thread(target=visit, args=(base,)) for _ in range(4)]
            for thread in threads:
                thread.start()
            try:
                deadline = time.monotonic() + 4
                with admin.connect() as conn:
                    while time.monotonic() < deadline:
                        terminated += conn.execute(
                            text(
                                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = :name"
                            ),
                            {"name": name},
                        ).scalar_one()
                        time.sleep(0.05)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=GIVE_UP * 2)
            # Afterwards the server reconnects by itself.
            assert httpx2.get(f"{base}/healthz", timeout=GIVE_UP).status_code == 200
    finally:
        admin.dispose()
    output = log.read_text()
    assert terminated > 0
    assert failures == []  # no dropped sockets
    assert set(statuses) <= {200, 503}
    assert len(statuses) > 20
    assert "Exception in ASGI application" not in output
    assert "Traceback" not in output
    assert SECRET not in output and "password=***" in output
