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

import numpy as np

from rag.language import to_simplified
from rag.languages import HAN, STOP_WORDS

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
        elif piece not in STOP_WORDS:
            terms.append(piece)
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


class BM25:
    """Okapi BM25 over pre-tokenised documents, with a postings index in numpy arrays."""

    def __init__(self, corpus: Sequence[Sequence[str]], params: BM25Params = BM25Params()) -> None:
        self.params = params
        self.n_docs = len(corpus)
        lengths = np.array([len(doc) for doc in corpus], dtype=np.float32)
        avg = float(lengths.mean()) if self.n_docs else 0.0
        self._norm = params.k1 * (1 - params.b + params.b * lengths / max(avg, 1e-9))
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for doc_id, doc in enumerate(corpus):
            for term, tf in Counter(doc).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(doc_id)
                tfs.append(tf)
        self._postings = {
            term: (np.array(ids, dtype=np.int32), np.array(tfs, dtype=np.float32))
            for term, (ids, tfs) in postings.items()
        }

    def idf(self, term: str) -> float:
        posting = self._postings.get(term)
        df = 0 if posting is None else len(posting[0])
        return math.log(1 + (self.n_docs - df + 0.5) / (df + 0.5))

    def has(self, term: str) -> bool:
        """Does ``term`` occur in any document?"""
        return term in self._postings

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query terms (zeros where nothing matches)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        k1 = self.params.k1
        for term, qtf in Counter(query_terms).items():
            posting = self._postings.get(term)
            if posting is None:
                continue
            ids, tfs = posting
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
