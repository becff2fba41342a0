"""The HTTP server in front of the app: uvicorn, configured in one place (`serve`), with what it
lacks for a public port: a header timeout, a bound on open connections, a log that never repeats
one failure in a loop, and forwarded headers believed only from configured proxies."""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import re
import resource
import threading
import time
from functools import cache
from typing import Any

import h11
import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from kb.settings import Settings

log = logging.getLogger("protocol-kb.server")

MAX_HEADER_BYTES = 16 * 1024
"""Request line and headers together; more is a 400 (h11's own default, stated here)."""

FILES_KEPT_FREE = 64
"""Open files a worker keeps for its database, index and log whatever the connection count."""

BACKLOG = 128
"""Connections waiting to be accepted; asyncio also accepts up to this many in one go before
any of them is seen (and closed if over the cap), so the cap stays this far below the limit."""


@cache
def _limits() -> tuple[float, int]:
    """(header timeout, connection cap) of this process, read once: worker processes get their
    settings from the environment, as the app does."""
    settings = Settings()
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = settings.max_connections
    if soft != resource.RLIM_INFINITY:
        cap = max(1, min(cap, soft - BACKLOG - FILES_KEPT_FREE))
    return settings.header_timeout, cap


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout and a connection cap.

    uvicorn's keep-alive timer stops at a connection's first byte, so a client that sends its
    headers a byte at a time would hold the connection for ever: here a connection waiting for a
    request's headers is closed `header_timeout` seconds after it opened or after the previous
    answer. Connections beyond the cap are closed as they arrive, so idle clients cannot use up
    the worker's file descriptors (and with them `accept`)."""

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        timeout, cap = _limits()
        if len(self.connections) > cap:
            log.warning("connection limit (%d) reached: closing new connections", cap)
            transport.close()
            return
        self._wait_for_headers(timeout)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a whole request line and headers arrived
            self._stop_waiting()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._wait_for_headers(_limits()[0])

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _wait_for_headers(self, timeout: float) -> None:
        self._stop_waiting()
        self._header_timer = self.loop.call_later(timeout, self._headers_too_slow)

    def _stop_waiting(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.transport.close()


_VARYING = re.compile(r"0x[0-9a-fA-F]+|\d+(?:\.\d+)?")
"""Addresses, times, ports and file descriptors: what changes between repeats of one failure."""


def _failure(record: logging.LogRecord) -> tuple[Any, ...]:
    """What makes two records the same failure: for a traceback, the exception's type and the
    line that raised it; otherwise the first line of the message, numbers aside."""
    if record.exc_info and record.exc_info[0] is not None:
        tb = record.exc_info[2]
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb is not None else None
        return (record.name, record.exc_info[0], where)
    first = record.getMessage().partition("\n")[0]
    return (record.name, _VARYING.sub("#", first)[:300])


class RepeatFilter(logging.Filter):
    """Each failure once per `interval` seconds: later repeats are counted, and the next one
    logged says how many were left out, so a flood of one error stays a few lines (asyncio, for
    one, reports a failing accept or callback again and again, each time with a new handle)."""

    interval = 10.0
    max_keys = 1000

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._seen: dict[tuple[Any, ...], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = _failure(record)
        now = time.monotonic()
        with self._lock:
            since, left_out = self._seen.get(key, (0.0, 0))
            if since and now - since < self.interval:
                self._seen[key] = (since, left_out + 1)
                return False
            if len(self._seen) >= self.max_keys:
                self._seen.clear()
            self._seen[key] = (now, 0)
        if left_out:
            record.msg = f"{record.getMessage()} ({left_out} more like this not logged)"
            record.args = None
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with the repeat filter on the error stream and our own loggers (and
    asyncio's, which reports failed accepts) on it."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"repeats": {"()": RepeatFilter}}
    config["handlers"]["default"]["filters"] = ["repeats"]
    for name, level in (("protocol-kb", "INFO"), ("asyncio", "WARNING")):
        config["loggers"][name] = {"handlers": ["default"], "level": level, "propagate": False}
    return config


def serve(settings: Settings) -> None:
    """Run the app under uvicorn until stopped, with every limit from the settings."""
    # Worker processes read their settings from the environment, as `create_app` does.
    os.environ.update(
        {
            f"KB_{name.upper()}": str(value)
            for name, value in settings.model_dump().items()
            if value is not None
        }
    )
    _limits.cache_clear()
    proxies = [ip.strip() for ip in settings.forwarded_allow_ips.split(",") if ip.strip()]
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=GuardedH11Protocol,
        # X-Forwarded-For/-Proto only from the proxies named; uvicorn would trust loopback.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        backlog=BACKLOG,
        server_header=False,
        log_config=log_config(),
        log_level="info",
    )
