"""Building the search index from the store into a new generation, switched in atomically."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from whoosh.index import create_in

from kb import store
from kb.errors import BuildFailed
from search_index import accel
from search_index.generations import discard, new_generation, switch_to
from search_index.schema import documents, make_schema, name_table

VERSION_FILE = "KB_VERSION"
FORMAT_FILE = "KB_INDEX_FORMAT"
INDEX_FORMAT = "7"
"""Bump when the schema, the analysis or the arrays change: older generations are then rebuilt
(`kb serve`) or refused with a clear message, never half-read."""


@dataclass
class IndexReport:
    path: Path
    documents: int
    version: str
    seconds: float
    bytes: int

    def summary(self) -> str:
        return f"indexed {self.documents} documents ({self.bytes / 1e6:.1f} MB) in {self.seconds:.2f} s"


def build_index(
    engine: Engine, index_dir: Path, progress: Callable[[int, int], None] | None = None
) -> IndexReport:
    """Index every provision and background record of the database's current build."""
    started = time.perf_counter()
    with store.session(engine) as db:
        info = store.build_info(db)
        docs = list(documents(db))
        names = name_table(db)
    generation = new_generation(index_dir)
    try:
        index = create_in(str(generation), make_schema())
        writer = index.writer(limitmb=256)
        for n, doc in enumerate(docs, start=1):
            writer.add_document(**doc)
            if progress is not None and (n % 500 == 0 or n == len(docs)):
                progress(n, len(docs))
        writer.commit(optimize=True)
        accel.write(index, docs, generation, names)
        (generation / VERSION_FILE).write_text(info.version)
        (generation / FORMAT_FILE).write_text(INDEX_FORMAT)
        switch_to(index_dir, generation)
    except Exception as exc:
        discard(generation)
        raise BuildFailed(
            f"building the search index failed; the previous index is untouched: {exc}"
        ) from exc
    size = sum(p.stat().st_size for p in generation.iterdir())
    return IndexReport(generation, len(docs), info.version, time.perf_counter() - started, size)


def generation_version(generation: Path | None) -> str | None:
    """The content version a generation was built from; None when it is missing or was built
    in an older index format.

    A generation folder is written whole before `current` points at it and never changed, so
    what was read from one is remembered (every search asks)."""
    if generation is None:
        return None
    known = _versions.get(generation)
    if known is not None:
        return known
    try:
        if (generation / FORMAT_FILE).read_text() != INDEX_FORMAT:
            return None
        version = (generation / VERSION_FILE).read_text()
    except OSError:
        return None
    if len(_versions) >= _VERSIONS_KEPT:
        _versions.clear()
    _versions[generation] = version
    return version


_versions: dict[Path, str] = {}
_VERSIONS_KEPT = 64
