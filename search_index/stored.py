"""What a hit shows (id, heading, summary, names...), kept beside the arrays of a generation.

Documents are written as JSON in blocks of BLOCK documents, each block zlib-compressed: the
fifteen provisions of a law repeat its title, citation and place, which a block compresses
away. Reading a document decompresses its block (about 30 microseconds); search_index.search
remembers the documents it read.
"""

from __future__ import annotations

import json
import mmap
import zlib
from pathlib import Path
from typing import Any

import numpy as np

STORED = "stored.bin"
STORED_OFFSETS = "stored.offsets.npy"
BLOCK = 32
STORED_FIELDS = (
    "id",
    "kind",
    "protocol_id",
    "jurisdiction",
    "jurisdiction_name",
    "level",
    "state",
    "status",
    "year",
    "date",
    "title",
    "citation",
    "cite",
    "heading",
    "summary",
    "topic",
)
"""The fields a search reads back, as whoosh stored them before (search_index.schema)."""


def write(docs: list[dict[str, Any]], generation: Path) -> None:
    offsets = [0]
    with (generation / STORED).open("wb") as out:
        for start in range(0, len(docs), BLOCK):
            block = [[doc[name] for name in STORED_FIELDS] for doc in docs[start : start + BLOCK]]
            data = zlib.compress(json.dumps(block, separators=(",", ":")).encode("utf-8"), 6)
            out.write(data)
            offsets.append(offsets[-1] + len(data))
    np.save(generation / STORED_OFFSETS, np.asarray(offsets, dtype=np.int64))


class StoredFields:
    """Read one generation's stored documents (the file is mapped, not read whole)."""

    def __init__(self, generation: Path) -> None:
        self.offsets = np.load(generation / STORED_OFFSETS)
        with (generation / STORED).open("rb") as f:
            size = f.seek(0, 2)
            self._data: mmap.mmap | bytes = (
                mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            )
        self.doc_count_bound = (len(self.offsets) - 1) * BLOCK

    def block(self, number: int) -> list[dict[str, Any]]:
        low, high = int(self.offsets[number]), int(self.offsets[number + 1])
        rows = json.loads(zlib.decompress(self._data[low:high]))
        return [dict(zip(STORED_FIELDS, row, strict=True)) for row in rows]

    def get(self, docnum: int) -> dict[str, Any]:
        if not 0 <= docnum < self.doc_count_bound:
            raise IndexError(f"no document {docnum}")
        return self.block(docnum // BLOCK)[docnum % BLOCK]
