"""BM25 as sparse vectors: their inner product is the Okapi BM25 score of rag.lexical.

A passage's weight for a term is ``tf (k1 + 1) / (tf + k1 (1 - b + b len / avglen))``,
a query's is ``qtf idf(term)`` with ``idf = log(1 + (N - df + 0.5) / (df + 0.5))``;
summed over the shared terms, that is ``rag.lexical.BM25.scores``. Terms are numbered
in sorted order: the number is the sparse dimension.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.lexical import BM25Params

NO_TERM = 2**32 - 2  # the one dimension of a passage without terms (Milvus refuses empty rows)
_BM25 = BM25Params()  # the parameters of rag.lexical.BM25


@dataclass(frozen=True)
class Vocabulary:
    """BM25 terms of a version: each term's sparse dimension and document frequency, and
    how many of those documents are Chinese (None for a version written before)."""

    ids: dict[str, int]
    df: list[int]
    passages: int
    chinese_df: list[int] | None = None

    def held_in(self, chinese: bool) -> frozenset[str] | None:
        """The terms some Chinese (else English) passage holds; None when not recorded."""
        if self.chinese_df is None:
            return None
        counts = zip(self.ids, self.df, self.chinese_df, strict=True)
        return frozenset(t for t, df, zh in counts if (zh if chinese else df - zh) > 0)

    def idf(self, term: str) -> float:
        i = self.ids.get(term)
        df = 0 if i is None else self.df[i]
        return math.log(1 + (self.passages - df + 0.5) / (df + 0.5))

    def query(self, terms: Sequence[str]) -> dict[int, float]:
        """The query's sparse vector: ``qtf idf(term)`` for each known term."""
        return {
            self.ids[t]: qtf * self.idf(t) for t, qtf in Counter(terms).items() if t in self.ids
        }

    @classmethod
    def of(cls, corpus: Sequence[Sequence[str]], chinese: Sequence[bool]) -> Vocabulary:
        """The vocabulary of ``corpus``, whose documents are Chinese where ``chinese`` says."""
        df = Counter(t for doc in corpus for t in set(doc))
        zh = Counter(t for doc, c in zip(corpus, chinese, strict=True) if c for t in set(doc))
        terms = sorted(df)
        ids = {t: i for i, t in enumerate(terms)}
        return cls(ids, [df[t] for t in terms], len(corpus), [zh[t] for t in terms])


def sparse_rows(
    corpus: Sequence[Sequence[str]], vocabulary: Vocabulary, params: BM25Params = _BM25
) -> list[dict[int, float]]:
    """Each passage's BM25 sparse vector (see the module docstring)."""
    lengths = np.array([len(doc) for doc in corpus], dtype=np.float32)
    avg = float(lengths.mean()) if len(corpus) else 0.0
    norms = params.k1 * (1 - params.b + params.b * lengths / max(avg, 1e-9))
    rows = []
    for doc, norm in zip(corpus, norms, strict=True):
        row = {
            vocabulary.ids[t]: float(tf * (params.k1 + 1) / (tf + norm))
            for t, tf in Counter(doc).items()
        }
        rows.append(row or {NO_TERM: 1.0})
    return rows
