"""api.server's pieces that need no running server: the repeat filter of the log."""

from __future__ import annotations

import io
import logging

from api.server import RepeatFilter, log_config


def _logger(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RepeatFilter())
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_one_failure_in_a_loop_is_logged_once() -> None:
    logger, stream = _logger("test.repeats.loop")
    for i in range(1000):
        try:
            raise OSError(24, "Too many open files")
        except OSError:
            # asyncio names a new handle each time: the text differs, the failure does not.
            logger.exception("Exception in callback <TimerHandle when=%d.%d fd=%d>", i, i, i + 6)
    for port in range(1000):
        logger.warning("connection from 127.0.0.1:%d refused", 40000 + port)
    text = stream.getvalue()
    assert text.count("Traceback") == 1
    assert text.count("refused") == 1
    assert len(text) < 2_000


def test_different_failures_are_each_logged() -> None:
    logger, stream = _logger("test.repeats.distinct")
    logger.warning("the database cannot be reached")
    logger.warning("the search index is not ready")
    assert stream.getvalue().count("\n") == 2


def test_a_repeat_after_the_interval_says_how_many_were_left_out() -> None:
    logger, stream = _logger("test.repeats.interval")
    repeat = logger.handlers[0].filters[0]
    assert isinstance(repeat, RepeatFilter)
    repeat.interval = 0.0  # every call is past the interval: nothing is left out
    logger.warning("same")
    logger.warning("same")
    assert stream.getvalue().count("same") == 2
    repeat.interval = 3600.0
    for _ in range(5):
        logger.warning("same")
    assert stream.getvalue().count("same") == 2
    repeat.interval = 0.0
    logger.warning("same")
    assert "(5 more like this not logged)" in stream.getvalue()


def test_the_server_log_filters_repeats_on_uvicorn_asyncio_and_our_loggers() -> None:
    config = log_config()
    assert config["handlers"]["default"]["filters"] == ["repeats"]
    for name in ("uvicorn", "asyncio", "protocol-kb"):
        assert config["loggers"][name]["handlers"] == ["default"]
    assert "filters" not in config["handlers"]["access"]  # every request stays in the access log
