"""The passages of an index on disk, read row by row when asked for.

``passages.jsonl`` holds one chunk a line; a table of byte offsets (``offsets.npy``)
says where each line starts, so a loaded index parses only the passages a search
returns, not all of them. What the retriever needs of every passage (its sentence rows,
language, whether it is a caption, which passages open a document) is kept apart in
small arrays, the :class:`PassageTable`.
"""

from __future__ import annotations

import functools
import json
import mmap
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import overload

import numpy as np

from rag.chunking import Chunk
from rag.language import is_chinese

_CACHED_ROWS = 4096  # parsed passages kept (a search reads a few dozen)


@dataclass(frozen=True)
class PassageTable:
    """Per-passage facts, one array entry a passage (``n`` passages)."""

    sentence_rows: np.ndarray  # (n + 1,) int64: passage i owns sentence vectors [r[i], r[i+1])
    chinese: np.ndarray  # (n,) bool: is the passage Chinese (else English)?
    captions: np.ndarray  # (n,) bool: is it an image caption?
    openings: np.ndarray  # (documents,) int64: each document's first passage, ascending

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> PassageTable:
        counts = np.fromiter((len(c.sentences) for c in chunks), np.int64, len(chunks))
        rows = np.zeros(len(chunks) + 1, dtype=np.int64)
        np.cumsum(counts, out=rows[1:])
        first: dict[str, int] = {}
        for i, chunk in enumerate(chunks):
            first.setdefault(chunk.source, i)
        return cls(
            sentence_rows=rows,
            chinese=np.fromiter((is_chinese(c.text) for c in chunks), bool, len(chunks)),
            captions=np.fromiter((c.kind == "caption" for c in chunks), bool, len(chunks)),
            openings=np.array(sorted(first.values()), dtype=np.int64),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return asdict(self)


def chunk_row(chunk: Chunk) -> bytes:
    return (json.dumps(asdict(chunk), ensure_ascii=False) + "\n").encode("utf-8")


def parse_chunk(line: bytes | str) -> Chunk:
    row = json.loads(line)
    row.pop("terms", None)  # format 3 kept the BM25 terms on the line
    row["sentences"] = tuple(tuple(span) for span in row["sentences"])
    row["origins"] = tuple(tuple(span) for span in row.get("origins", ()))
    return Chunk(**row)


def write_chunks(path: Path, chunks: Sequence[Chunk]) -> np.ndarray:
    """Write ``chunks`` one a line; the (n + 1,) byte offsets of the lines."""
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    with open(path, "wb") as out:
        for i, chunk in enumerate(chunks):
            row = chunk_row(chunk)
            out.write(row)
            offsets[i + 1] = offsets[i] + len(row)
        out.flush()
        os.fsync(out.fileno())
    return offsets


class ChunkFile(Sequence[Chunk]):
    """The chunks of ``passages.jsonl``, parsed one at a time from a memory map."""

    def __init__(self, path: Path, offsets: np.ndarray) -> None:
        size = path.stat().st_size
        if len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != size:
            raise ValueError(f"{path.name} is {size} bytes, its offsets say {offsets[-1]}")
        self._offsets = offsets
        self._map: mmap.mmap | None = None
        if size:
            with open(path, "rb") as handle:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self._row = functools.lru_cache(maxsize=_CACHED_ROWS)(self._read)

    def _read(self, i: int) -> Chunk:
        assert self._map is not None
        return parse_chunk(self._map[self._offsets[i] : self._offsets[i + 1]])

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, i: int) -> Chunk: ...
    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...
    def __getitem__(self, i: int | slice) -> Chunk | list[Chunk]:
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._row(int(i) % len(self))

    def __iter__(self) -> Iterator[Chunk]:
        for i in range(len(self)):  # in file order, without filling the cache
            yield self._read(i)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]
