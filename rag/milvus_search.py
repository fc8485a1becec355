"""Search an index kept in Milvus: the same ranking as rag.retriever, with the candidates
found by Milvus.

One hybrid search over the passages collection runs the dense passage search and the
two BM25 votes (the query's words over passages in its language, its translated words
over the others) as sparse inner-product searches, filtered by language, and returns
their union with each passage's BM25 sparse vector; a dense search over the sentences
collection adds the owners of the best sentences. The cosines of the candidates and of
their sentences are computed from their vectors, read by id. The fusion, reranking and
answers are those of :class:`rag.retriever.Retriever`: with exact (FLAT) vector indexes
the results are the local index's.

Passages, their sentence spans and the BM25 vocabulary are read into memory when the
store is opened (the answerer reads them); vectors stay in Milvus.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rag import multilingual
from rag.embeddings import Embedder
from rag.milvus_bm25 import Vocabulary
from rag.milvus_store import Names, connect, load_version
from rag.milvus_write import search_params
from rag.retriever import (
    RERANKERS,
    Candidates,
    Reranker,
    Retriever,
    check_embedder,
    resolve_embedder,
)
from rag.settings import DEFAULT_FUSION, DEFAULT_MILVUS, FusionParams, MilvusParams
from rag.store import IndexData, IndexStoreError

logger = logging.getLogger(__name__)


class MilvusRetriever(Retriever):
    """A :class:`Retriever` whose vectors and BM25 postings are searched in Milvus."""

    def __init__(
        self,
        data: IndexData,
        embedder: Embedder,
        fusion: FusionParams,
        *,
        store: str,
        vocabulary: Vocabulary,
        indexes: dict[str, dict[str, Any]],
        params: MilvusParams = DEFAULT_MILVUS,
        rerankers: Sequence[Reranker] = RERANKERS,
        multilingual: bool = False,
    ) -> None:
        check_embedder(data.manifest, embedder)
        self.store = store
        self._client, where = connect(store)
        self._names = Names(f"{where.collection}__{data.version}")
        self._vocabulary = vocabulary
        self._indexes = indexes  # the dense index of each collection, as written
        self._params = params
        self._multilingual = multilingual  # the version holds the vectors of rag.multilingual
        for name in (self._names.passages, self._names.sentences):
            self._client.load_collection(name)
        self._attach(data, embedder, fusion, rerankers)

    @classmethod
    def open(
        cls,
        store: str,
        embedder: Embedder | str | None = None,
        fusion: FusionParams = DEFAULT_FUSION,
    ) -> MilvusRetriever:
        """Open the live version of ``store``; the embedder defaults to the one it was
        built with."""
        data, meta = load_version(store, vectors=False)
        words = meta["vocabulary"]
        vocabulary = Vocabulary(
            {t: i for i, t in enumerate(words["terms"])},
            words["df"],
            data.manifest.passages,
            words.get("chinese_df"),  # absent from a version written before
        )
        chosen = resolve_embedder(data.manifest, store, embedder)
        return cls(
            data,
            chosen,
            fusion,
            store=store,
            vocabulary=vocabulary,
            indexes=meta.get("indexes", {}),
            multilingual=bool(meta.get("multilingual")),
        )

    def _candidates(
        self,
        qvec: np.ndarray,
        terms: Sequence[str],
        translated: Sequence[str],
        own: np.ndarray,
        depth: int,
    ) -> Candidates:
        from pymilvus import AnnSearchRequest, RRFRanker

        with _searching(self.store):
            dense = search_params(self._indexes.get("passages", {}), depth, self._params)
            requests = [AnnSearchRequest([qvec.tolist()], "vector", dense, limit=depth)]
            # the query's language: that of the passages marked as its own
            chinese = bool(self._chinese[own.argmax()]) if own.any() else not self._chinese[0]
            own_query = self._vocabulary.query(terms) if own.any() else {}
            other_query = self._vocabulary.query(translated) if not own.all() else {}
            for query, flag in ((own_query, chinese), (other_query, not chinese)):
                if query:
                    expr = f"chinese == {str(flag).lower()}"
                    sparse = {"metric_type": "IP"}
                    requests.append(AnnSearchRequest([query], "sparse", sparse, depth, expr=expr))
            found = self._client.hybrid_search(
                self._names.passages,
                requests,
                RRFRanker(),
                limit=depth * len(requests),
                output_fields=["sparse"],
            )[0]
            own_words = _top(found, own_query, own, depth)
            other_words = _top(found, other_query, ~own, depth)
            ids = {int(hit["row"]) for hit in found}
            sentence_depth = min(len(self._owner), depth * self.fusion.sentence_depth)
            sentences = self._client.search(
                self._names.sentences,
                [qvec.tolist()],
                anns_field="vector",
                search_params=search_params(
                    self._indexes.get("sentences", {}), sentence_depth, self._params
                ),
                limit=sentence_depth,
            )[0]
            ids |= {int(self._owner[int(hit["row"])]) for hit in sentences}
            return Candidates(frozenset(ids), own_words, other_words)

    def _passage_cosines(self, ids: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        with _searching(self.store):
            rows = self._client.get(
                self._names.passages, ids=[int(i) for i in ids], output_fields=["vector"]
            )
        vectors = {int(r["row"]): r["vector"] for r in rows}
        return np.array([vectors[int(i)] for i in ids], dtype=np.float32) @ qvec

    def _sentence_cosines(self, ids: Sequence[int], qvec: np.ndarray) -> list[np.ndarray]:
        return [s @ qvec for s in self._sentence_matrices(ids, "vector", self.data.manifest.dim)]

    def _sentence_matrices(self, ids: Sequence[int], field: str, dim: int) -> list[np.ndarray]:
        """The ``field`` vectors of the sentences of each passage in ``ids``."""
        # sentence rows are numbered in passage order: passage i owns rows[i]:rows[i + 1]
        spans = [(int(self._rows[i]), int(self._rows[i + 1])) for i in ids]
        wanted = [row for start, end in spans for row in range(start, end)]
        vectors: dict[int, list[float]] = {}
        for pos in range(0, len(wanted), self._params.batch):
            with _searching(self.store):
                rows = self._client.get(
                    self._names.sentences,
                    ids=wanted[pos : pos + self._params.batch],
                    output_fields=[field],
                )
            vectors.update((int(r["row"]), r[field]) for r in rows)
        return [
            np.array([vectors[j] for j in range(start, end)], np.float32).reshape(-1, dim)
            for start, end in spans
        ]

    @property
    def has_multilingual(self) -> bool:
        return self._multilingual

    def _multilingual_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with _searching(self.store):
            rows = self._client.get(
                self._names.passages, ids=[int(i) for i in ids], output_fields=["multilingual"]
            )
        vectors = {int(r["row"]): r["multilingual"] for r in rows}
        passages = np.array([vectors[int(i)] for i in ids], dtype=np.float32)
        sentences = self._sentence_matrices(ids, "multilingual", multilingual.DIM)
        counts = np.array([len(s) for s in sentences], dtype=np.int64)
        return (
            passages,
            np.vstack([np.zeros((0, multilingual.DIM), np.float32), *sentences]),
            counts,
        )

    def idf(self, term: str) -> float:
        return self._vocabulary.idf(term)

    def known_terms(self, terms: Sequence[str]) -> frozenset[str]:
        return frozenset(t for t in terms if t in self._vocabulary.ids)

    def _terms_held_in(self, chinese: bool) -> frozenset[str] | None:
        return self._vocabulary.held_in(chinese)


@contextlib.contextmanager
def _searching(store: str) -> Iterator[None]:
    """Milvus's errors while searching, as an :class:`IndexStoreError` naming the store."""
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as exc:
        raise IndexStoreError(
            f"searching the Milvus store {store} failed ({exc}): check that the server runs; "
            "if the store was rebuilt meanwhile, load it again"
        ) from exc


def _top(
    found: list[dict[str, Any]], query: dict[int, float], allowed: np.ndarray, depth: int
) -> list[tuple[int, float]]:
    """The ``depth`` best ``(passage, BM25 score)`` pairs among ``found`` where ``allowed``,
    best first: the BM25 score is the inner product of the query's and the passage's
    sparse vectors."""
    if not query:
        return []
    scored = []
    for hit in found:
        row = int(hit["row"])
        if allowed[row]:
            weights = hit["entity"]["sparse"]
            score = float(np.float32(sum(w * weights.get(d, 0.0) for d, w in query.items())))
            if score > 0:
                scored.append((row, score))
    scored.sort(key=lambda rs: (-rs[1], rs[0]))
    return scored[:depth]
