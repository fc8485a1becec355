"""Hybrid search: dense (FAISS inner product over e5 vectors) fused with BM25.

Dense relevance of a passage is its own cosine with the question plus the best cosine
of any one of its sentences, so a question can match the single sentence that answers
it. The question is put in the documents' Chinese script first (a Simplified question
against Traditional documents matches better once converted). The dense score and
two BM25 votes, each scaled to 0..1 over the candidates, are mixed (rag.settings
``FusionParams``): the question's own words over the passages in its language, and its
words translated into the other language (see rag.translation) over the passages in
that one, so an English question over Chinese documents, or over a mix of Chinese and
English files, is matched by words on both sides. An image caption
("舊金山莫斯科康會議中心。") ranks below body text that scores as well; a passage holding
the kind of answer asked for (a date for "when", see rag.answer_types) ranks above one
that scores about as well without it. Questions about the document itself ("who wrote
this?", "這篇文章在談什麼？") go to each document's opening passage. The settings were
chosen on the public development set (scripts/fusion_grid.py).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from rag import config, multilingual
from rag.answer_types import AnswerKind, asked_kind, holds
from rag.chunking import Chunk
from rag.embeddings import Embedder, canonical_name, load_embedder
from rag.facts import chinese_entities, latin_names
from rag.language import detect_language, to_script
from rag.languages import ABOUT_THE_DOCUMENT
from rag.lexical import BM25, normalise, tokenize
from rag.milvus_store import is_store_uri
from rag.settings import DEFAULT_FUSION, DEFAULT_VECTOR_INDEX, FusionParams, VectorIndexSettings
from rag.store import IndexData, IndexStoreError, Manifest, load_index
from rag.translation import english_names, translate
from rag.types import Passage
from rag.vector_index import VectorIndex, open_index

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000  # longer queries are cut (the embedder also cuts to its window)


@dataclass(frozen=True)
class Hit:
    """A search result with the evidence behind its rank."""

    passage: Passage
    chunk: Chunk
    index: int  # position of the chunk in the index
    dense: float  # passage cosine with the question
    sentence: float  # best sentence cosine with the question
    best_sentence: int  # index into chunk.sentences of that sentence
    sentence_scores: tuple[float, ...]  # cosine of every sentence, in order
    lexical: float  # BM25 score (0 when no term matched)
    chinese: bool  # is the passage in Chinese (else English)?


@dataclass
class _Pool:
    """The candidate passages of one search and the evidence gathered on them."""

    ids: np.ndarray  # chunk indexes, ascending
    own: np.ndarray  # is each in the query's language?
    passage_cos: np.ndarray
    sentence_cos: list[np.ndarray]  # every sentence's cosine, per candidate
    best_sentence: np.ndarray  # best sentence cosine per candidate (-1 when none)
    own_words: list[tuple[int, float]]  # BM25 vote of the query's words
    other_words: list[tuple[int, float]]  # BM25 vote of its translated words
    fused: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # the question's own vector when the search used a blend (see _search_vector): the
    # cosines handed on with each hit are this vector's, as the answerer was fitted on
    plain: np.ndarray | None = None
    # the vote of rag.multilingual when the question crosses languages (else None)
    multilingual: np.ndarray | None = None
    # the question names something no passage in its language holds (see names_unheld)
    named_elsewhere: bool = False


@dataclass(frozen=True)
class Candidates:
    """What the dense and lexical searches found: passage positions and both BM25 votes."""

    ids: frozenset[int]
    own_words: list[tuple[int, float]]  # (passage, BM25 score) of the query's words
    other_words: list[tuple[int, float]]  # the same for its translated words


@dataclass(frozen=True)
class Rerank:
    """What a rerank stage knows of the search."""

    query: str
    about_document: bool  # asks about the document itself ("who wrote this?")
    kind: AnswerKind | None  # the kind of answer to prefer (a date for "when"), if any


def captions_down(retriever: Retriever, pool: _Pool, search: Rerank) -> None:
    """An image caption ranks below body text that scores as well."""
    captions = retriever.captions[pool.ids]
    pool.fused = np.where(captions, pool.fused * retriever.fusion.caption_weight, pool.fused)


def openings_up(retriever: Retriever, pool: _Pool, search: Rerank) -> None:
    """A question about the document itself goes to each document's opening passage (its
    title and byline), then to the lead passages after it."""
    if search.about_document:
        top = pool.fused.max()
        pool.fused[np.isin(pool.ids, retriever.leads)] += top
        pool.fused[np.isin(pool.ids, retriever.openings)] += top


def kind_up(retriever: Retriever, pool: _Pool, search: Rerank) -> None:
    """Among the best, a passage holding the kind of answer asked for ranks up."""
    if search.kind is None:
        return
    f = retriever.fusion
    for j in np.argsort(-pool.fused, kind="stable")[: f.bonus_depth]:
        if retriever.holds(int(pool.ids[j]), search.kind):
            pool.fused[j] += f.kind_bonus


Reranker = Callable[["Retriever", _Pool, Rerank], None]
RERANKERS: tuple[Reranker, ...] = (captions_down, openings_up, kind_up)
"""The rerank stages after fusion, in order; a retriever takes its own list."""


class Retriever:
    """Search an index built by :func:`rag.build_index`."""

    def __init__(
        self,
        data: IndexData,
        embedder: Embedder,
        fusion: FusionParams = DEFAULT_FUSION,
        rerankers: Sequence[Reranker] = RERANKERS,
        vector_index: VectorIndexSettings = DEFAULT_VECTOR_INDEX,
    ) -> None:
        check_embedder(data.manifest, embedder)
        # the searches: exact for small vector sets, IVF codes for large ones (the
        # vectors themselves are searched and scored where they lie, not copied)
        self._passages: VectorIndex = open_index(data.vectors, data.passage_codes, vector_index)
        self._sentences: VectorIndex = open_index(
            data.sentence_vectors, data.sentence_codes, vector_index
        )
        self._bm25 = BM25(data.terms)
        self._attach(data, embedder, fusion, rerankers)

    def _attach(
        self,
        data: IndexData,
        embedder: Embedder,
        fusion: FusionParams,
        rerankers: Sequence[Reranker],
    ) -> None:
        """What every retriever keeps of its index, wherever its vectors are searched."""
        self.embedder = embedder
        self.fusion = fusion
        self.rerankers = tuple(rerankers)
        self.version = data.version
        self.data = data
        table = data.passage_table()
        self._rows = table.sentence_rows
        self._owner = np.repeat(np.arange(len(data.chunks)), np.diff(self._rows))
        self._chinese = table.chinese
        self._language_terms: dict[bool, frozenset[str] | None] = {}  # see language_terms
        self.captions = table.captions
        self.openings = [int(i) for i in table.openings]  # each document's opening passage
        # the last questions' vectors: answering a question embeds it once, not per use
        self._embedded = functools.lru_cache(maxsize=256)(self._embed_query)
        # whether a passage holds a kind of answer (tagging place names takes milliseconds)
        self.holds = functools.lru_cache(maxsize=8192)(self._passage_holds)

    @classmethod
    def load(
        cls,
        index: str | Path = config.DEFAULT_INDEX,
        embedder: Embedder | str | None = None,
        fusion: FusionParams = DEFAULT_FUSION,
    ) -> Retriever:
        """Load the live index; the embedder defaults to the one the index was built with.

        ``index`` is an index folder or a Milvus store URI (``milvus://host:port/collection``,
        ``milvus-lite://path/to/file.db``; see rag.milvus_store)."""
        if is_store_uri(index):
            from rag.milvus_search import MilvusRetriever

            return MilvusRetriever.open(str(index), embedder, fusion)
        data = load_index(index)
        return cls(data, resolve_embedder(data.manifest, index, embedder), fusion)

    def __len__(self) -> int:
        return len(self.data.chunks)

    @functools.cached_property
    def searchable_text(self) -> str:
        """Sections and passages in the form BM25 sees them (NFKC, one script, lower case):
        for checking that a word, name or number occurs anywhere in the documents."""
        return normalise("\n".join(f"{c.section}\n{c.text}" for c in self.data.chunks))

    def search(self, query: str, k: int = 5) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first."""
        return [hit.passage for hit in self.search_hits(query, k)]

    def search_hits(
        self,
        query: str,
        k: int = 5,
        *,
        prefer_answer_kind: bool = True,
        chinese: bool | None = None,
        translated: Sequence[str] | None = None,
        about_document: bool | None = None,
    ) -> list[Hit]:
        """Like :meth:`search`, with the dense, sentence and lexical evidence of each result.

        ``prefer_answer_kind=False`` ranks by relevance alone, not also by holding the kind
        of answer asked for: the answerer weighs that per sentence itself. A caller that
        has analysed the query already passes its language (``chinese``), its
        ``translated`` terms and whether it is ``about_document``.
        """
        if not isinstance(query, str):
            raise TypeError(f"a query is text (str), not {type(query).__name__}")
        if not query.strip():
            raise ValueError("query is empty: ask a question or give search words")
        if not isinstance(k, int) or isinstance(k, bool):
            raise TypeError(f"k is a whole number, not {type(k).__name__}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        query = query.strip()[:MAX_QUERY_CHARS]
        if not self.data.chunks:
            return []
        if chinese is None:
            chinese = detect_language(query) != "en"
        if translated is None:
            translated = self.translated_terms(query)
        if about_document is None:
            about_document = is_about_the_document(query)
        # the stages, in order: gather candidates → dense scores → fuse → rerank → hits
        pool = self._gather(query, k, chinese, translated, about_document)
        self._fuse(pool)
        kind = asked_kind(query) if prefer_answer_kind else None
        for stage in self.rerankers:
            stage(self, pool, Rerank(query, about_document, kind))
        return self._hits(pool, k)

    def _gather(
        self, query: str, k: int, chinese: bool, translated: Sequence[str], about_document: bool
    ) -> _Pool:
        """Candidates from the dense passage and sentence searches and the two BM25 votes,
        with their dense scores."""
        depth = min(len(self.data.chunks), max(self.fusion.candidates, k))
        plain = self.query_vector(query)
        qvec = self._search_vector(query, chinese, translated)
        own = self._chinese == chinese  # passages in its language
        found = self._candidates(qvec, tokenize(query), list(translated), own, depth)
        candidates = set(found.ids)
        if about_document:
            candidates |= set(self.leads)
        ids = np.array(sorted(candidates))
        sentence_cos = self._sentence_cosines(ids, qvec)
        return _Pool(
            ids=ids,
            own=own[ids],
            passage_cos=self._passage_cosines(ids, qvec),
            sentence_cos=sentence_cos,
            best_sentence=_group_max(
                np.concatenate([np.zeros(0, np.float32), *sentence_cos]),
                np.array([len(s) for s in sentence_cos], dtype=np.int64),
                empty=-1.0,
            ),
            own_words=found.own_words,
            other_words=found.other_words,
            plain=None if qvec is plain else plain,
            multilingual=None if own.all() else self._multilingual_scores(ids, query),
            named_elsewhere=not own.all() and self.names_unheld(query, chinese),
        )

    def names_unheld(self, query: str, chinese: bool) -> bool:
        """Does ``query`` name something (a capitalised name; a Chinese person, place or
        organisation) whose words no passage in its own language holds? "When was Rodrigo
        Borgia born?" over English articles none of which says "Borgia". Not when a
        Chinese name it holds is one the dictionary gives in English and no English passage
        holds that either (法蘭克福, Frankfurt): such a question is about neither side."""
        held, other = self.language_terms(chinese), self.language_terms(not chinese)
        if held is None or other is None:
            return False
        names = chinese_entities(query) if chinese else latin_names(query)
        words = {name: tokenize(name) for name in names}
        unheld = [n for n, terms in words.items() if terms and not held.issuperset(terms)]
        if chinese and any(_in_english(n, other) is False for n in unheld):
            return False
        return bool(unheld)

    def language_terms(self, chinese: bool) -> frozenset[str] | None:
        """The BM25 terms that some passage in Chinese (else English) holds (None when
        the index does not record them); worked out once."""
        if chinese not in self._language_terms:
            self._language_terms[chinese] = self._terms_held_in(chinese)
        return self._language_terms[chinese]

    def _terms_held_in(self, chinese: bool) -> frozenset[str] | None:
        postings = self._bm25.postings
        used = np.flatnonzero(np.diff(postings.indptr))  # terms that occur at all
        in_language = self._chinese[postings.docs] == chinese
        held = np.logical_or.reduceat(in_language, postings.indptr[used]) if len(used) else []
        return frozenset(postings.vocabulary[t] for t, h in zip(used, held) if h)

    def _candidates(
        self,
        qvec: np.ndarray,
        terms: Sequence[str],
        translated: Sequence[str],
        own: np.ndarray,
        depth: int,
    ) -> Candidates:
        """The ``depth`` best passages by dense passage search, the owners of the best
        sentences by dense sentence search, and the two BM25 votes: the query's ``terms``
        over the passages in its language (``own``), its ``translated`` terms over the
        others. Another store searches here instead (rag.milvus_search)."""
        sentence_depth = min(len(self._owner), depth * self.fusion.sentence_depth)
        passage_ids = self._passages.search(qvec, depth)
        sentence_ids = self._sentences.search(qvec, sentence_depth)
        own_words = self._bm25.top(terms, depth, own) if own.any() else []
        other_words = self._bm25.top(translated, depth, ~own) if not own.all() else []
        ids = {int(i) for i in passage_ids}
        ids |= {int(i) for i in self._owner[sentence_ids]}
        ids |= {i for i, _ in own_words + other_words}
        return Candidates(frozenset(ids), own_words, other_words)

    def _passage_cosines(self, ids: np.ndarray, qvec: np.ndarray) -> np.ndarray:
        """The cosine of each passage in ``ids`` with the query vector."""
        return self.data.vectors[ids] @ qvec

    def _sentence_cosines(self, ids: Sequence[int], qvec: np.ndarray) -> list[np.ndarray]:
        """The cosines of every sentence of each passage in ``ids`` with the query vector."""
        rows, counts = self._sentence_rows(ids)
        return _split(np.asarray(self.data.sentence_vectors)[rows] @ qvec, counts)

    def _sentence_rows(self, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the sentences of the passages ``ids``, passage after passage, and how
        many each passage has: gathered in one step (slicing the memory-mapped vectors
        passage by passage costs more than the products at 100,000 passages)."""
        ids = np.asarray(ids, dtype=np.int64)
        starts, counts = self._rows[ids], np.diff(self._rows)[ids]
        ends = np.cumsum(counts)
        return np.arange(ends[-1] if len(ends) else 0) + np.repeat(
            starts - ends + counts, counts
        ), counts

    def _multilingual_scores(self, ids: np.ndarray, query: str) -> np.ndarray | None:
        """Passage plus best sentence cosine of each passage in ``ids`` with the question,
        by the multilingual encoder (None when the index has no such vectors)."""
        if not self.has_multilingual or self.fusion.multilingual_weight <= 0:
            return None
        qvec = multilingual.query_vector(query.strip()[:MAX_QUERY_CHARS])
        passages, sentences, counts = self._multilingual_vectors(ids)
        own = passages @ qvec
        best = _group_max(sentences @ qvec, counts, empty=np.nan)
        return own + np.where(np.isnan(best), own, best)

    @functools.cached_property
    def leads(self) -> list[int]:
        """Each document's opening passage, with those after it up to the first that says
        something: an opening of title and byline alone, or a photo caption, is followed
        by the lead."""
        chunks = self.data.chunks
        out = []
        for i in self.openings:
            out.append(i)
            j = i
            while (
                j + 1 < len(chunks)
                and j + 1 - i <= self.fusion.lead_passages
                and chunks[j + 1].source == chunks[i].source
                and (
                    chunks[j].kind == "caption"
                    or all(chunks[j].heading(s) for s in range(len(chunks[j].sentences)))
                )
            ):
                j += 1
                out.append(j)
        return out

    @property
    def has_multilingual(self) -> bool:
        """Does the index hold the vectors of rag.multilingual (built since they were)?"""
        return self.data.multilingual is not None

    def _multilingual_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The multilingual vectors of the passages ``ids``, those of their sentences
        (passage after passage) and how many sentences each passage has; float32."""
        passages, sentences = self.data.multilingual, self.data.multilingual_sentences
        assert passages is not None and sentences is not None
        rows, counts = self._sentence_rows(ids)
        as_float = functools.partial(np.asarray, dtype=np.float32)
        return as_float(passages[ids]), as_float(np.asarray(sentences)[rows]), counts

    def _fuse(self, pool: _Pool) -> None:
        """The dense score and the two BM25 votes, each scaled to 0..1 over the candidates,
        mixed by ``FusionParams.dense_share``."""
        f = self.fusion
        best = pool.best_sentence
        dense = pool.passage_cos + np.where(best > -1, best, pool.passage_cos)
        pool.fused = f.dense_share * _unit(dense)
        translated_weight = f.cross_lingual_weight
        here = pool.own
        # Cosines run lower across languages: unless the best match in the other language
        # comes within the offset, a question over both is about its own side.
        mixed = here.any() and not here.all()
        own_side = mixed and best[here].max() - best[~here].max() >= f.cross_lingual_offset
        if own_side:
            translated_weight = f.mixed_translated_weight
        votes = ((pool.own_words, f.lexical_weight), (pool.other_words, translated_weight))
        for ranking, weight in votes:
            score = dict(ranking)
            lexical = np.array([score.get(int(i), 0.0) for i in pool.ids])
            if lexical.max() > 0:
                pool.fused += (1 - f.dense_share) * weight * lexical / lexical.max()
        if pool.multilingual is not None:
            across = mixed and not own_side  # the question may be about the other side
            weight = f.mixed_multilingual_weight if across else f.multilingual_weight
            pool.fused += weight * _unit(pool.multilingual)
        if mixed and pool.named_elsewhere:  # its own side cannot be what it asks about
            pool.fused = np.where(here, f.named_elsewhere_factor * pool.fused, pool.fused)

    def _hits(self, pool: _Pool, k: int) -> list[Hit]:
        lexical_score = dict(pool.own_words + pool.other_words)  # they never share a passage
        best = np.argsort(-pool.fused, kind="stable")[:k]
        sentence_cos = [pool.sentence_cos[j] for j in best]
        passage_cos = pool.passage_cos[best]
        if pool.plain is not None:  # the evidence is against the question's own vector
            sentence_cos = self._sentence_cosines(pool.ids[best], pool.plain)
            passage_cos = self._passage_cosines(pool.ids[best], pool.plain)
        hits = []
        for j, scores, dense in zip(best, sentence_cos, passage_cos.tolist(), strict=True):
            i = int(pool.ids[j])
            chunk = self.data.chunks[i]
            hits.append(
                Hit(
                    passage=to_passage(chunk, float(pool.fused[j])),
                    chunk=chunk,
                    index=i,
                    dense=dense,
                    sentence=float(scores.max()) if len(scores) else -1.0,
                    best_sentence=int(scores.argmax()) if len(scores) else -1,
                    sentence_scores=tuple(float(x) for x in scores),
                    lexical=lexical_score.get(i, 0.0),
                    chinese=bool(self._chinese[i]),
                )
            )
        return hits

    def _search_vector(self, query: str, chinese: bool, translated: Sequence[str]) -> np.ndarray:
        """The query's vector; over passages in the other language, blended with the vector
        of its translated words (e5's cosines across languages alone rank poorly)."""
        vector = self.query_vector(query)
        share = self.fusion.translated_query_share
        if not translated or share <= 0 or (self._chinese == chinese).all():
            return vector
        words = " ".join(dict.fromkeys(translated))
        blend = (1 - share) * vector + share * self.query_vector(words)
        return blend / np.linalg.norm(blend)

    def query_vector(self, query: str) -> np.ndarray:
        """The vector of ``query`` (cached: answering a question embeds it once)."""
        return self._embedded(query.strip()[:MAX_QUERY_CHARS])

    def _embed_query(self, query: str) -> np.ndarray:
        vector = self.embedder.embed_queries([to_script(query, self.data.manifest.script)])[0]
        vector.flags.writeable = False  # shared through the cache
        return vector

    def sentence_vectors(self, hit: Hit) -> np.ndarray:
        """The vectors of the sentences of ``hit``'s passage, in order (one per
        ``hit.chunk.sentences`` span)."""
        return self.data.sentence_vectors[self._rows[hit.index] : self._rows[hit.index + 1]]

    def _passage_holds(self, i: int, kind: AnswerKind) -> bool:
        return holds(self.data.chunks[i].text, kind)

    def idf(self, term: str) -> float:
        """The BM25 inverse document frequency of a (normalised) term over the passages."""
        return self._bm25.idf(term)

    def known_terms(self, terms: Sequence[str]) -> frozenset[str]:
        """Those of ``terms`` that occur in at least one passage."""
        return frozenset(t for t in terms if self._bm25.has(t))

    def word_translations(self, words: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each of ``words`` with itself and its translations into the other language's
        words of the documents."""
        return {w: (w, *translate(w, self.data.glossary)) for w in words}

    def translated_terms(self, query: str) -> list[str]:
        """The query's words translated into the other language's words of the documents
        (English into Chinese or Chinese into English; see rag.translation)."""
        return translate(query, self.data.glossary)

    @functools.cached_property
    def languages(self) -> frozenset[str]:
        """The languages of the passages: "zh" (Chinese), "en" (English), or both."""
        return frozenset("zh" if chinese else "en" for chinese in self._chinese)

    def rescore(self, hits: list[Hit], question: str, weight: float = 1.0) -> list[Hit]:
        """The same hits with their sentences scored against ``question``: ``weight`` times
        their cosine with it plus ``1 - weight`` times their score so far.

        A follow-up is searched together with the question before it; the sentences that
        answer it are the ones close to both the follow-up itself and the conversation.
        """
        qvec = self.query_vector(question)
        out = []
        cosines = self._sentence_cosines([hit.index for hit in hits], qvec)
        for hit, fresh in zip(hits, cosines, strict=True):
            if not len(fresh):
                out.append(hit)
                continue
            scores = weight * fresh + (1 - weight) * np.array(hit.sentence_scores)
            out.append(
                replace(
                    hit,
                    sentence=float(scores.max()),
                    best_sentence=int(scores.argmax()),
                    sentence_scores=tuple(float(x) for x in scores),
                )
            )
        return out


def check_embedder(manifest: Manifest, embedder: Embedder) -> None:
    """Refuse a query embedder other than the one the index was built with."""
    if embedder.name != manifest.embedder or embedder.dim != manifest.dim:
        raise IndexStoreError(
            f"the index was built with embedder {manifest.embedder!r} "
            f"({manifest.dim}-d) but the query embedder is {embedder.name!r} "
            f"({embedder.dim}-d): run `rag build --embedder {embedder.name} --full`, "
            f"or search with --embedder {manifest.embedder}"
        )


def resolve_embedder(
    manifest: Manifest, index: str | Path, embedder: Embedder | str | None
) -> Embedder:
    """``embedder``, loaded by name when given one, else the one the index was built with."""
    if embedder is not None and not isinstance(embedder, str):
        return embedder
    name = canonical_name(embedder) if embedder else manifest.embedder
    if name != manifest.embedder:
        raise IndexStoreError(
            f"the index in {index} was built with embedder {manifest.embedder!r}, "
            f"not {name!r}: run `rag build --embedder {name} --full` to rebuild it "
            f"for that embedder"
        )
    return load_embedder(name)


def is_about_the_document(question: str) -> bool:
    """Does the question ask about the document itself (its topic, its author)?"""
    return bool(ABOUT_THE_DOCUMENT.search(question))


def _split(values: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    """``values`` cut into consecutive pieces of ``counts`` elements."""
    ends = np.cumsum(counts).tolist()
    return [values[e - c : e] for e, c in zip(ends, counts.tolist(), strict=True)]


def _group_max(values: np.ndarray, counts: np.ndarray, empty: float) -> np.ndarray:
    """The largest of each consecutive piece of ``counts`` of ``values`` (``empty`` for a
    piece of none)."""
    out = np.full(len(counts), empty, dtype=np.float64)
    held = counts > 0
    if held.any():
        starts = np.cumsum(counts) - counts
        out[held] = np.maximum.reduceat(values, starts[held])
    return out


def _in_english(name: str, english_terms: frozenset[str]) -> bool | None:
    """Do ``english_terms`` hold a word of what the dictionary calls the Chinese ``name``
    (None when it gives no English name)?"""
    english = english_names(name)
    if not english:
        return None
    return any(t in english_terms for e in english for t in tokenize(e))


def _unit(scores: np.ndarray) -> np.ndarray:
    """``scores`` scaled to 0 (the lowest) .. 1 (the highest); zeros when all are equal."""
    low, high = scores.min(), scores.max()
    return (scores - low) / (high - low) if high > low else np.zeros_like(scores)


def to_passage(chunk: Chunk, score: float) -> Passage:
    return Passage(
        id=chunk.id,
        text=chunk.text,
        score=float(score),
        source=chunk.source,
        start=chunk.start,
        end=chunk.end,
        section=chunk.section,
        page=chunk.page,
    )
