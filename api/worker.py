"""What a serving process sets once at start-up: how Python's garbage collector runs in it."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000
"""Allocations between two young-generation collections (Python's default is 700). One page
allocates thousands of short-lived objects, so the default collects several times per request."""
MIDDLE_THRESHOLD = 50
"""Young collections between two collections of the middle generation (Python's default: 10)."""
OLD_THRESHOLD = 1_000
"""Middle collections between two full ones (Python's default: 10)."""


def tune_garbage_collector() -> tuple[int, int, int]:
    """Collect rarely, and never scan what start-up loaded (modules, schemas, templates): it stays
    for the life of the process, and a full collection walking it took tens of milliseconds,
    about one request in a hundred (docs/performance.md). Objects that die are still freed at
    once by reference counting; only cycles wait for a collection. Returns the thresholds it
    replaced, for `restore_garbage_collector`."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
    return previous


def restore_garbage_collector(previous: tuple[int, int, int]) -> None:
    """Undo `tune_garbage_collector` when the app stops. A process that outlives its app (a test
    run starting one app after another) would otherwise keep their cyclic garbage, and with it
    their database connections, for ever: at these thresholds a full collection almost never
    comes (it exhausted PostgreSQL's connections in the test suite)."""
    gc.unfreeze()
    gc.set_threshold(*previous)
    gc.collect()
