"""BM25 over text normalised to one script and segmented into words.

Traditional and Simplified Chinese are folded to Simplified with OpenCC (``tw2sp``,
which also maps Taiwan phrasing to mainland phrasing), full-width forms to
half-width (NFKC), Latin to lower case. Chinese is segmented with jieba (search
mode, so 供應鏈 gives both 供应 and 供应链), and each Chinese word also
contributes its character bigrams, which keeps matching robust where jieba
segments a query and a passage differently. English is split into words.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from rag.language import to_simplified
from rag.languages import HAN, STOP_WORDS, without_possessive

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[\u3400-\u9fff\uf900-\ufaff]+")
@functools.cache
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def normalise(text: str) -> str:
    """One script, half-width forms, lower case: the form both queries and passages take."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


def tokenize(text: str) -> list[str]:
    """Normalise and segment ``text`` into BM25 terms."""
    terms: list[str] = []
    for match in _TOKEN.finditer(normalise(text)):
        piece = match.group()
        if HAN.match(piece):
            for word in _jieba().cut_for_search(piece):
                if word in STOP_WORDS:
                    continue
                terms.append(word)
                if len(word) > 2:
                    bigrams = (word[i : i + 2] for i in range(len(word) - 1))
                    terms.extend(b for b in bigrams if b not in STOP_WORDS)
        elif (word := without_possessive(piece)) not in STOP_WORDS:
            terms.append(word)
    return terms


def tag(text: str) -> list[tuple[str, str]]:
    """``text`` normalised and segmented into (word, part-of-speech) pairs, jieba's tags
    ("n" noun, "ns" place name, "v" verb, …)."""
    _jieba()
    import jieba.posseg

    return [(pair.word, pair.flag) for pair in jieba.posseg.cut(normalise(text))]


def everyday_frequency(word: str) -> int:
    """How often ``word`` (normalised) occurs in general Chinese: its jieba dictionary count."""
    return _jieba().get_FREQ(word) or 0


def stop_word(word: str) -> bool:
    """Is ``word`` (normalised) too common to search for?"""
    return word in STOP_WORDS


def is_han(word: str) -> bool:
    """Is ``word`` written in Chinese characters?"""
    return bool(HAN.match(word))


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75


@dataclass(frozen=True)
class Postings:
    """BM25 postings in compact arrays: a term-major sparse matrix (CSC layout) of term
    counts. Term ``t`` (``vocabulary[t]``) occurs in documents
    ``docs[indptr[t]:indptr[t + 1]]``, ``counts[...]`` times each; ``lengths[d]`` is the
    number of terms of document ``d``. The arrays may be memory-mapped (see rag.store)."""

    vocabulary: list[str]  # term id -> term, sorted
    indptr: np.ndarray  # (n_terms + 1,) int64
    docs: np.ndarray  # (n_postings,) int32, ascending within a term
    counts: np.ndarray  # (n_postings,) int32
    lengths: np.ndarray  # (n_docs,) int32

    @classmethod
    def from_terms(cls, corpus: Sequence[Sequence[str]]) -> Postings:
        """The postings of pre-tokenised documents."""
        bags = [Counter(doc) for doc in corpus]
        vocabulary = sorted({term for bag in bags for term in bag})
        ids = {term: i for i, term in enumerate(vocabulary)}
        term_ids = np.fromiter((ids[t] for bag in bags for t in bag), np.int64)
        counts = np.fromiter((c for bag in bags for c in bag.values()), np.int32)
        docs = np.repeat(np.arange(len(bags), dtype=np.int32), [len(bag) for bag in bags])
        order = np.argsort(term_ids, kind="stable")  # by term, then document
        indptr = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(vocabulary)), out=indptr[1:])
        lengths = np.array([sum(bag.values()) for bag in bags], dtype=np.int32)
        return cls(vocabulary, indptr, docs[order], counts[order], lengths)

    @property
    def n_docs(self) -> int:
        return len(self.lengths)

    @functools.cached_property
    def _rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The same matrix document-major (CSR): row pointers, term ids, counts."""
        term_ids = np.repeat(np.arange(len(self.vocabulary)), np.diff(self.indptr))
        order = np.argsort(self.docs, kind="stable")
        rowptr = np.zeros(self.n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.docs, minlength=self.n_docs), out=rowptr[1:])
        return rowptr, term_ids[order], np.asarray(self.counts)[order]

    def document_terms(self, doc: int) -> list[str]:
        """The terms of document ``doc``, each as often as it occurs (in term order)."""
        rowptr, term_ids, counts = self._rows
        a, b = rowptr[doc], rowptr[doc + 1]
        return [self.vocabulary[t] for t, c in zip(term_ids[a:b], counts[a:b]) for _ in range(c)]


class DocumentTerms(Sequence[list[str]]):
    """Each document's BM25 terms, read from its :class:`Postings` when asked for."""

    def __init__(self, postings: Postings) -> None:
        self.postings = postings

    def __len__(self) -> int:
        return self.postings.n_docs

    @overload
    def __getitem__(self, i: int) -> list[str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[str]]: ...
    def __getitem__(self, i: int | slice) -> list[str] | list[list[str]]:
        if isinstance(i, slice):
            return [self.postings.document_terms(j) for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self.postings.document_terms(i % len(self))


def postings_of(terms: Sequence[Sequence[str]]) -> Postings:
    """The postings of ``terms``: their own when read from an index, else built."""
    return terms.postings if isinstance(terms, DocumentTerms) else Postings.from_terms(terms)


class BM25:
    """Okapi BM25 over pre-tokenised documents, scored from compact postings arrays."""

    def __init__(
        self, corpus: Sequence[Sequence[str]] | Postings, params: BM25Params = BM25Params()
    ) -> None:
        postings = corpus if isinstance(corpus, Postings) else postings_of(corpus)
        self.params = params
        self.postings = postings
        self.n_docs = postings.n_docs
        self._ids = {term: i for i, term in enumerate(postings.vocabulary)}
        lengths = np.asarray(postings.lengths, dtype=np.float32)
        avg = float(lengths.mean()) if self.n_docs else 0.0
        self._norm = params.k1 * (1 - params.b + params.b * lengths / max(avg, 1e-9))

    def _span(self, term: str) -> tuple[int, int]:
        t = self._ids.get(term)
        if t is None:
            return 0, 0
        return int(self.postings.indptr[t]), int(self.postings.indptr[t + 1])

    def idf(self, term: str) -> float:
        a, b = self._span(term)
        df = b - a
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def has(self, term: str) -> bool:
        """Does ``term`` occur in any document?"""
        return term in self._ids

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query terms (zeros where nothing matches)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        k1 = self.params.k1
        for term, qtf in Counter(query_terms).items():
            a, b = self._span(term)
            if a == b:
                continue
            ids = self.postings.docs[a:b]
            tfs = self.postings.counts[a:b].astype(np.float32)
            out[ids] += qtf * self.idf(term) * tfs * (k1 + 1) / (tfs + self._norm[ids])
        return out

    def top(
        self, query_terms: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` best ``(doc_index, score)`` pairs with a positive score, best first;
        only documents where the boolean mask ``allowed`` is true, when given."""
        scores = self.scores(query_terms)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        if k <= 0 or not scores.any():
            return []
        k = min(k, self.n_docs)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]
