"""Reading an index of format 2 or 3 (FAISS flat files, BM25 terms inside passages.jsonl),
so that ``rag build`` reuses its vectors when it writes the current format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import faiss
import numpy as np

from rag.chunking import Chunk
from rag.passage_file import parse_chunk

if TYPE_CHECKING:
    from rag.store import IndexData, Manifest


def read_format_3(folder: Path, manifest: Manifest) -> IndexData:
    """An index of format 2 or 3, for a build to reuse its vectors."""
    chunks: list[Chunk] = []
    terms: list[list[str]] = []
    with open(folder / "passages.jsonl", encoding="utf-8") as rows:
        for line in rows:
            terms.append(json.loads(line)["terms"])
            chunks.append(parse_chunk(line))
    vectors = [_read_flat(folder / name, manifest.dim) for name in ("dense", "sentences")]
    glossary = json.loads((folder / "glossary.json").read_text(encoding="utf-8"))
    from rag.store import IndexData

    return IndexData(manifest, chunks, terms, vectors[0], vectors[1], glossary)


def _read_flat(path: Path, dim: int) -> np.ndarray:
    path = path.with_name(path.name + ".faiss")
    index = faiss.read_index(str(path))
    if not isinstance(index, faiss.IndexFlatIP) or index.d != dim:
        raise ValueError(f"{path.name} is not a flat index of {dim}-d vectors")
    return index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, dim), "float32")
