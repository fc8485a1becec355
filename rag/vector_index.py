"""Nearest vectors by inner product: an exact scan for small sets, IVF codes for large ones.

A set of at most ``VectorIndexSettings.exact_max_vectors`` vectors is scanned exactly.
A larger one is searched through an IVF index of 8-bit codes (FAISS
``IndexIVFScalarQuantizer``, trained at build time and stored next to the vectors): the
codes propose ``refine`` times the results asked for, and those are re-scored on the
float vectors themselves, so the order returned is the exact one among them. Both read
the vectors where they lie, which for a loaded index is a read-only memory map.

The retriever sees only :class:`VectorIndex`; another store can stand in for it.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from rag.settings import DEFAULT_VECTOR_INDEX, VectorIndexSettings

logger = logging.getLogger(__name__)

_ADD_BLOCK = 100_000  # vectors copied out of a memory map and added to the codes at once


class VectorIndex(Protocol):
    """What the retriever needs of a set of vectors."""

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        """Row numbers of the ``k`` vectors with the highest inner product with ``query``
        (a (dim,) float32 vector), best first; fewer when the set is smaller."""
        ...


def _best(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest ``scores``, highest first (ties by position)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return top[np.lexsort((top, -scores[top]))]


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    """FAISS's OpenMP threads set to ``count`` for the duration."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


class ExactIndex:
    """Every vector scored: for small sets (see ``exact_max_vectors``)."""

    def __init__(
        self, vectors: np.ndarray, settings: VectorIndexSettings = DEFAULT_VECTOR_INDEX
    ) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)  # a map stays a map
        self.threads = settings.search_threads

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        k = min(k, len(self.vectors))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        with _threads(self.threads):
            scores, ids = faiss.knn(
                np.asarray(query, dtype=np.float32)[None, :],
                self.vectors,
                k,
                metric=faiss.METRIC_INNER_PRODUCT,
            )
        return ids[0][np.lexsort((ids[0], -scores[0]))]  # ties in row order


class ApproximateIndex:
    """IVF codes propose candidates, the float vectors order them."""

    def __init__(
        self,
        codes: faiss.IndexIVF,
        vectors: np.ndarray,
        settings: VectorIndexSettings = DEFAULT_VECTOR_INDEX,
    ) -> None:
        if codes.ntotal != len(vectors) or codes.d != vectors.shape[1]:
            raise ValueError(
                f"the IVF index holds {codes.ntotal} {codes.d}-d vectors, "
                f"the vectors are {vectors.shape}"
            )
        codes.nprobe = min(settings.probes, codes.nlist)
        self.codes = codes
        self.vectors = vectors
        self.refine = max(1, settings.refine)
        self.threads = settings.search_threads

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        if k <= 0 or not len(self.vectors):
            return np.zeros(0, dtype=np.int64)
        wanted = min(len(self.vectors), k * self.refine)
        with _threads(self.threads):
            _, found = self.codes.search(np.asarray(query, dtype=np.float32)[None, :], wanted)
        ids = np.sort(found[0][found[0] >= 0])  # in file order: fewer pages touched
        return ids[_best(self.vectors[ids] @ query, k)]


def needs_codes(count: int, settings: VectorIndexSettings = DEFAULT_VECTOR_INDEX) -> bool:
    """Is a set of ``count`` vectors searched through IVF codes rather than scanned?"""
    return count > settings.exact_max_vectors


def train_codes(
    vectors: np.ndarray, settings: VectorIndexSettings = DEFAULT_VECTOR_INDEX
) -> faiss.IndexIVFScalarQuantizer:
    """An IVF index of 8-bit codes over ``vectors`` (unit length, inner product)."""
    n, dim = vectors.shape
    lists = int(settings.lists_per_sqrt * math.sqrt(n))
    lists = max(1, min(lists, settings.max_lists, n // max(1, settings.train_per_list)))
    quantiser = faiss.IndexFlatIP(dim)
    codes = faiss.IndexIVFScalarQuantizer(
        quantiser, dim, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    sample = min(n, lists * settings.train_per_list)
    rows = np.sort(np.random.default_rng(0).choice(n, sample, replace=False))
    logger.info("training %d IVF lists on %d of %d vectors", lists, sample, n)
    codes.train(np.ascontiguousarray(vectors[rows], dtype=np.float32))
    for start in range(0, n, _ADD_BLOCK):
        codes.add(np.ascontiguousarray(vectors[start : start + _ADD_BLOCK], dtype=np.float32))
        logger.info("IVF codes: %d of %d vectors added", min(start + _ADD_BLOCK, n), n)
    return codes


def write_codes(codes: faiss.Index, path: Path) -> None:
    faiss.write_index(codes, str(path))


def read_codes(path: Path) -> faiss.IndexIVF:
    """IVF codes written by :func:`write_codes`, memory-mapped (loading is near-instant;
    pages are read as searches touch them)."""
    codes = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    if not isinstance(codes, faiss.IndexIVF):
        raise ValueError(f"{path.name} is not an IVF index")
    return codes


def open_index(
    vectors: np.ndarray,
    codes: faiss.IndexIVF | None = None,
    settings: VectorIndexSettings = DEFAULT_VECTOR_INDEX,
) -> VectorIndex:
    """The search over ``vectors``: through ``codes`` when given, else exact for a small
    set, else through codes trained now (slow for a large set: an index build trains them
    once and stores them)."""
    if codes is not None:
        return ApproximateIndex(codes, vectors, settings)
    if needs_codes(len(vectors), settings):
        logger.info("%d vectors and no IVF index stored: training one now", len(vectors))
        return ApproximateIndex(train_codes(vectors, settings), vectors, settings)
    return ExactIndex(vectors, settings)
