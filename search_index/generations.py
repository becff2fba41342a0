"""Index generations on disk: build into a new folder, then switch a `current` symlink atomically.

A reader resolves `current` when it opens the index, so it sees a whole generation or the previous
one, never half of one; a failed build leaves `current` untouched. The two newest generations are
kept so that a reader still holding the previous one can finish its query.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

CURRENT = "current"
KEEP = 2


def new_generation(index_dir: Path) -> Path:
    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = index_dir / f"gen-{stamp}-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    return path


def switch_to(index_dir: Path, generation: Path) -> None:
    """Point `current` at `generation` in one atomic rename, then prune old generations."""
    temp = index_dir / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(generation.name, temp)
    os.replace(temp, index_dir / CURRENT)
    prune(index_dir)


def current_generation(index_dir: Path) -> Path | None:
    try:
        return index_dir / os.readlink(index_dir / CURRENT)
    except OSError:
        return None


def prune(index_dir: Path) -> None:
    current = current_generation(index_dir)
    generations = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    keep = set(generations[-KEEP:]) | ({current} if current else set())
    for path in generations:
        if path not in keep:
            shutil.rmtree(path, ignore_errors=True)


def discard(generation: Path) -> None:
    shutil.rmtree(generation, ignore_errors=True)
