"""Real server processes on loopback for tests: a free port, and a `kb serve` run until /healthz answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx2

from tests.conftest import ROOT

KB = str(Path(sys.executable).parent / "kb")
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(
    command: list[str],
    env: dict[str, str],
    cwd: Path = ROOT,
    startup_seconds: float = STARTUP_SECONDS,
    ready: str = "/healthz",
) -> Iterator[str]:
    """Start a server process group, wait for `ready` (/healthz) to answer 200, yield its base
    URL, then stop it.

    Its output goes to a temporary file, not a pipe: a long-lived server's access log would fill
    an unread pipe and block the server."""
    base = f"http://127.0.0.1:{env['KB_PORT']}"
    with tempfile.TemporaryFile() as log:

        def output() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")[-10_000:]

        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with running(process, f"{base}{ready}", output, startup_seconds, "server"):
            yield base


@contextmanager
def running(
    process: subprocess.Popen[bytes],
    url: str,
    output: Callable[[], str],
    startup_seconds: float = STARTUP_SECONDS,
    name: str = "server",
) -> Iterator[None]:
    """Wait until `url` answers 200 (failing with `output()` if the process exits or time runs
    out), then, whatever happens, stop the process's group: SIGTERM, then SIGKILL after 15 s."""
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{output()}")
            try:
                if httpx2.get(url, timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not answer {url} in time:\n{output()}")
            time.sleep(0.2)
        yield
    finally:
        # The group may be gone already (a process that failed to start).
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
