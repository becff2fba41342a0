"""What a hit shows (id, heading, summary, names...), kept beside the arrays of a generation.

Documents are written as JSON, one after another, in blocks of BLOCK documents, each block
zlib-compressed: the fifteen provisions of a law repeat its title, citation and place, which a
block compresses away. Reading a document decompresses its block and parses that document's
JSON alone (where each starts is kept); the last blocks read are kept decompressed, and
search_index.search remembers the documents it read.
"""

from __future__ import annotations

import json
import mmap
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

STORED = "stored.bin"
STORED_OFFSETS = "stored.offsets.npz"
BLOCK = 8
BLOCKS_KEPT = 256
"""Decompressed blocks kept per generation (about 8 KB each at most)."""
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
    starts: list[int] = []
    with (generation / STORED).open("wb") as out:
        for first in range(0, len(docs), BLOCK):
            block = bytearray()
            for doc in docs[first : first + BLOCK]:
                starts.append(len(block))
                block += json.dumps(
                    [doc[name] for name in STORED_FIELDS], separators=(",", ":")
                ).encode("utf-8")
            data = zlib.compress(bytes(block), 6)
            out.write(data)
            offsets.append(offsets[-1] + len(data))
    np.savez(
        generation / STORED_OFFSETS,
        blocks=np.asarray(offsets, dtype=np.int64),
        starts=np.asarray(starts, dtype=np.int32),
    )


class StoredFields:
    """Read one generation's stored documents (the file is mapped, not read whole)."""

    def __init__(self, generation: Path) -> None:
        with np.load(generation / STORED_OFFSETS) as stored:
            self.offsets = stored["blocks"]
            self.starts = stored["starts"]
        with (generation / STORED).open("rb") as f:
            size = f.seek(0, 2)
            self._data: mmap.mmap | bytes = (
                mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            )
        self._blocks: OrderedDict[int, bytes] = OrderedDict()

    def block(self, number: int) -> bytes:
        """A block decompressed (callers hold the generation's lock: search_index.search)."""
        found = self._blocks.get(number)
        if found is None:
            low, high = int(self.offsets[number]), int(self.offsets[number + 1])
            found = self._blocks[number] = zlib.decompress(self._data[low:high])
            if len(self._blocks) > BLOCKS_KEPT:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(number)
        return found

    def get(self, docnum: int) -> dict[str, Any]:
        if not 0 <= docnum < len(self.starts):
            raise IndexError(f"no document {docnum}")
        block = self.block(docnum // BLOCK)
        start = int(self.starts[docnum])
        last = docnum % BLOCK == BLOCK - 1 or docnum + 1 == len(self.starts)
        end = len(block) if last else int(self.starts[docnum + 1])
        return dict(zip(STORED_FIELDS, json.loads(block[start:end]), strict=True))
