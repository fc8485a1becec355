"""Build or update the index from the seeds folder.

Incremental by default: a source whose bytes hash the same as in the live index keeps
its passages and vectors; new and changed sources are chunked and embedded; sources
no longer in the folder disappear. A change of embedder or chunking settings, or
``full=True``, re-embeds everything; the report still compares the sources with the
live index (an unchanged source is reported unchanged and re-embedded, not added).
Files in the seeds folder that are of no supported format, or cannot be read (a
scanned or encrypted PDF, a damaged or empty file, a misleading extension), are
reported as skipped, each with why; the others are indexed all the same. The text
extracted from PDF, Word and HTML sources is kept in the index (rag.store).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

import numpy as np

from rag import config, milvus_store, multilingual, store
from rag.chunking import Chunk, chunk_document
from rag.documents import Document, load_sources, unsupported_files
from rag.embeddings import Embedder, canonical_name, load_embedder
from rag.language import is_chinese, script_of
from rag.lexical import tokenize
from rag.settings import DEFAULT_CHUNKING
from rag.store import (
    FORMAT_VERSION,
    REUSABLE_FORMATS,
    IndexData,
    IndexStoreError,
    Manifest,
    SourceInfo,
)
from rag.translation import GLOSSARY_RULES, build_glossary

logger = logging.getLogger(__name__)

# (texts embedded so far, texts to embed); a passage's texts are itself and its sentences
Progress = Callable[[int, int], None]
# (files read so far, files to read, the file being read)
ReadProgress = Callable[[int, int, str], None]
# texts per embed_passages call: the torch runtime packs a call's texts by length, so a
# larger call wastes less; progress is reported after each call
BATCH = 128


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    passages: int
    embedded: int
    seconds: float
    version: str
    embedder: str
    # unchanged sources embedded again (``full=True``, or another embedder or chunking)
    reembedded: list[str] = field(default_factory=list)
    why_reembedded: str = ""  # why, when the previous vectors could not be reused
    skipped: dict[str, str] = field(default_factory=dict)  # file in seeds -> why it was left out
    # the BM25 terms and the glossary were made again by this version's word rules
    # (GLOSSARY_RULES), the vectors reused
    words_remade: bool = False

    def summary(self) -> str:
        again = f" ({len(self.reembedded)} re-embedded)" if self.reembedded else ""
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        return (
            f"{len(self.added)} added, {len(self.changed)} changed, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged{again}{skipped}; {self.passages} passages "
            f"({self.embedded} embedded) in {self.seconds:.1f} s"
        )


def passage_texts(chunk: Chunk) -> list[str]:
    """What the embedder reads for a passage: the whole passage, then each sentence,
    each headed by the section title (sentence vectors let a question match the one
    sentence that answers it)."""
    head = f"{chunk.section}\n" if chunk.section else ""
    return [head + chunk.text] + [head + chunk.text[a:b] for a, b in chunk.sentences]


@dataclass(frozen=True)
class BuildPlan:
    """What a build will do: the new index's chunks in order and where each one's vectors
    come from (reused from the previous index, or embedded), plus the sources compared
    with the live index."""

    chunks: list[Chunk]
    terms: list[list[str]]  # each chunk's BM25 terms
    reused: dict[int, int]  # chunk position -> its position in the previous index
    to_embed: list[int]  # chunk positions to embed, in order
    sources: dict[str, SourceInfo]
    texts: dict[str, str]  # source -> its extracted text (PDF, Word, HTML sources)
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    removed: list[str]
    reembedded: list[str]  # unchanged sources whose vectors cannot be reused
    nothing_changed: bool  # the previous index already holds exactly this: nothing to save


def build_index(
    seeds: str | Path = config.DEFAULT_SEEDS,
    index: str | Path = config.DEFAULT_INDEX,
    *,
    embedder: Embedder | str | None = None,
    full: bool = False,
    target_tokens: int = DEFAULT_CHUNKING.target_tokens,
    max_tokens: int = DEFAULT_CHUNKING.max_tokens,
    max_chars: int = DEFAULT_CHUNKING.max_chars,
    progress: Progress | None = None,
    reading: ReadProgress | None = None,
) -> BuildReport:
    """Build the index in ``index`` from the documents in ``seeds``; see the module docstring.
    ``reading`` is told of each file as it is read, ``progress`` of the embedding."""
    started = time.perf_counter()
    docs, skipped = _read_sources(seeds, reading)  # errors about the seeds come before any work
    chunk_args = {"target_tokens": target_tokens, "max_tokens": max_tokens, "max_chars": max_chars}
    chunking = {**chunk_args, "encoding": DEFAULT_CHUNKING.encoding}
    chunking["rules"] = DEFAULT_CHUNKING.rules
    with _store(index).build_lock(index):
        live = _live_manifest(index)  # what the report compares the sources with
        previous = None if full else _live_index(index)  # what can be reused
        name = _wanted_embedder(embedder, live)
        previous, why = _reusable(previous, name, chunking)
        model = load_embedder(name) if embedder is None or isinstance(embedder, str) else embedder
        planned = plan(docs, live, previous, chunk_args=chunk_args)
        fresh = _embed(model, [planned.chunks[i] for i in planned.to_embed], progress)
        if (
            planned.nothing_changed
            and previous is not None
            and previous.multilingual is not None  # an index from before gets them now
            and previous.manifest.glossary == GLOSSARY_RULES  # … and a glossary of today's
        ):
            version = previous.version
        else:
            vectors = _ordered_vectors(planned, previous, fresh)
            second = _multilingual_vectors(planned, previous)
            version = save(index, planned, vectors, second, model=model, chunking=chunking)
    report = _report(planned, version, model.name, time.perf_counter() - started, skipped)
    remade = previous is not None and previous.manifest.glossary != GLOSSARY_RULES
    report = replace(
        report, why_reembedded=why if planned.reembedded else "", words_remade=remade
    )
    logger.info("build: %s", report.summary())
    return report


def plan(
    docs: list[Document],
    live: Manifest | None,
    previous: IndexData | None,
    *,
    chunk_args: dict[str, int],
) -> BuildPlan:
    """Chunk ``docs`` into the new index, reusing the vectors of ``previous`` (None: reuse
    nothing) for each source unchanged since ``live`` (the report's reference). An index of
    an older format reuses a source's vectors only when it chunks as it did then."""
    upgrade = previous is not None and previous.manifest.format_version != FORMAT_VERSION
    # BM25 terms made by older word rules are made again (the glossary too, in save)
    old_words = previous is not None and previous.manifest.glossary != GLOSSARY_RULES
    added, changed, unchanged, removed = _compare(docs, live)
    old = _positions_by_source(previous)
    chunks: list[Chunk] = []
    terms: list[list[str]] = []
    reused: dict[int, int] = {}
    to_embed: list[int] = []
    sources: dict[str, SourceInfo] = {}
    reembedded: list[str] = []
    for doc in docs:
        kept = old.get(doc.source, []) if doc.source in unchanged else []
        if upgrade and kept and previous is not None:
            kept = _same_chunks(doc, previous, kept, chunk_args)
        first = len(chunks)
        if kept and previous is not None:
            # an upgrade keeps the passages and recomputes what the new format adds
            again = chunk_document(doc, **chunk_args) if upgrade else None
            for n, i in enumerate(kept):
                reused[len(chunks)] = i
                chunk = again[n] if again is not None else previous.chunks[i]
                chunks.append(chunk)
                terms.append(tokenize(_lexical_text(chunk)) if old_words else previous.terms[i])
        else:
            if doc.source in unchanged:
                reembedded.append(doc.source)
            for chunk in chunk_document(doc, **chunk_args):
                to_embed.append(len(chunks))
                chunks.append(chunk)
                terms.append(tokenize(_lexical_text(chunk)))
        sources[doc.source] = _source_info(doc, len(chunks) - first, live)
    return BuildPlan(
        chunks=chunks,
        terms=terms,
        reused=reused,
        to_embed=to_embed,
        sources=sources,
        texts={doc.source: doc.original for doc in docs if doc.extracted},
        added=added,
        changed=changed,
        unchanged=unchanged,
        removed=removed,
        reembedded=reembedded,
        nothing_changed=(
            not upgrade and previous is not None and not (added or changed or removed)
        ),
    )


def _lexical_text(chunk: Chunk) -> str:
    """What BM25 reads of a passage: its section title and text."""
    return chunk.section + "\n" + chunk.text


def save(
    index: str | Path,
    planned: BuildPlan,
    vectors: list[np.ndarray],
    second: list[np.ndarray],
    *,
    model: Embedder,
    chunking: dict[str, object],
) -> str:
    """Write the planned chunks, with each one's ``[passage, *sentences]`` vectors (and
    ``second``, those of rag.multilingual) and the glossary of their vocabulary, as the new
    version of ``index``; its name."""
    chunks = planned.chunks
    empty = np.zeros((0, model.dim), dtype=np.float32)
    passage_matrix = np.vstack([v[:1] for v in vectors]) if vectors else empty
    sentence_matrix = np.vstack([v[1:] for v in vectors]) if vectors else empty
    manifest = Manifest(
        embedder=model.name,
        dim=model.dim,
        chunking=chunking,
        sources=planned.sources,
        passages=len(chunks),
        script=script_of([c.text for c in chunks]),
        glossary=GLOSSARY_RULES,
    )
    vocabulary = {t for row in planned.terms for t in row}
    chinese = [is_chinese(c.text) for c in chunks]
    glossary = build_glossary(vocabulary, into_chinese=any(chinese), into_english=not all(chinese))
    data = IndexData(
        manifest,
        chunks,
        planned.terms,
        passage_matrix,
        sentence_matrix,
        glossary,
        texts=planned.texts,
        multilingual=np.vstack([v[:1] for v in second]) if second else multilingual.embed([]),
        multilingual_sentences=(
            np.vstack([v[1:] for v in second]) if second else multilingual.embed([])
        ),
    )
    return _store(index).save_index(index, data)


def _source_info(doc: Document, passages: int, live: Manifest | None) -> SourceInfo:
    """What the manifest records of ``doc``; ``added`` is kept from the live index."""
    before = live.sources.get(doc.source) if live is not None else None
    return SourceInfo(
        sha256=doc.sha256,
        passages=passages,
        size=doc.size,
        added=(before.added if before is not None and before.added else _now()),
        format=doc.format,
        pages=len(doc.pages),
    )


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _compare(
    docs: list[Document], live: Manifest | None
) -> tuple[list[str], list[str], list[str], list[str]]:
    """The sources added, changed, unchanged and removed since ``live``."""
    old_sha = {src: info.sha256 for src, info in live.sources.items()} if live else {}
    added = [d.source for d in docs if d.source not in old_sha]
    changed = [d.source for d in docs if d.source in old_sha and old_sha[d.source] != d.sha256]
    unchanged = [d.source for d in docs if old_sha.get(d.source) == d.sha256]
    removed = sorted(set(old_sha) - {d.source for d in docs})
    return added, changed, unchanged, removed


def _positions_by_source(previous: IndexData | None) -> dict[str, list[int]]:
    """Source -> the positions of its chunks in ``previous``."""
    old: dict[str, list[int]] = {}
    if previous is not None:
        for i, chunk in enumerate(previous.chunks):
            old.setdefault(chunk.source, []).append(i)
    return old


def _ordered_vectors(
    planned: BuildPlan, previous: IndexData | None, fresh: list[np.ndarray]
) -> list[np.ndarray]:
    """Each planned chunk's ``[passage, *sentences]`` vectors, in order: the reused ones
    from ``previous``, the others from ``fresh`` (the embeddings of ``planned.to_embed``)."""
    per_chunk = dict(zip(planned.to_embed, fresh))
    if previous is not None:
        rows = previous.sentence_rows
        for pos, i in planned.reused.items():
            per_chunk[pos] = np.vstack(
                [previous.vectors[i : i + 1], previous.sentence_vectors[rows[i] : rows[i + 1]]]
            )
    return [per_chunk[i] for i in range(len(planned.chunks))]


def _multilingual_vectors(planned: BuildPlan, previous: IndexData | None) -> list[np.ndarray]:
    """Each planned chunk's ``[passage, *sentences]`` vectors of rag.multilingual: reused
    with its e5 vectors when the previous index has them, else embedded (a text once)."""
    per_chunk: dict[int, np.ndarray] = {}
    if previous is not None and previous.multilingual is not None:
        passages, sentences = previous.multilingual, previous.multilingual_sentences
        assert sentences is not None  # the two are written together
        rows = previous.sentence_rows
        for pos, i in planned.reused.items():
            per_chunk[pos] = np.vstack([passages[i : i + 1], sentences[rows[i] : rows[i + 1]]])
    todo = [i for i in range(len(planned.chunks)) if i not in per_chunk]
    texts = [passage_texts(planned.chunks[i]) for i in todo]
    unique = list(dict.fromkeys(t for group in texts for t in group))
    if unique:
        logger.info("multilingual vectors: %d texts", len(unique))
    matrix = multilingual.embed(unique)
    row = {text: n for n, text in enumerate(unique)}
    for i, group in zip(todo, texts, strict=True):
        per_chunk[i] = matrix[[row[t] for t in group]]
    return [per_chunk[i] for i in range(len(planned.chunks))]


def _report(
    planned: BuildPlan, version: str, embedder: str, seconds: float, skipped: dict[str, str]
) -> BuildReport:
    return BuildReport(
        added=planned.added,
        changed=planned.changed,
        removed=planned.removed,
        unchanged=planned.unchanged,
        passages=len(planned.chunks),
        embedded=len(planned.to_embed),
        seconds=seconds,
        version=version,
        embedder=embedder,
        reembedded=planned.reembedded,
        skipped=skipped,
    )


def _embed(model: Embedder, chunks: list[Chunk], progress: Progress | None) -> list[np.ndarray]:
    """Each chunk's vectors, ``[passage, *sentences]``, embedded in calls of ``BATCH`` with
    progress. A text is embedded once however often it occurs (a one-sentence passage is
    its own sentence; repeated boilerplate), and texts of like length share a call."""
    texts = [passage_texts(c) for c in chunks]
    unique = list(dict.fromkeys(t for group in texts for t in group))
    unique.sort(key=len)
    total = len(unique)
    if progress:
        progress(0, total)
    parts = []
    for pos in range(0, total, BATCH):
        parts.append(model.embed_passages(unique[pos : pos + BATCH]))
        if progress:
            progress(min(pos + BATCH, total), total)
    matrix = np.vstack(parts) if parts else np.zeros((0, model.dim), dtype=np.float32)
    row = {text: i for i, text in enumerate(unique)}
    return [matrix[[row[t] for t in group]] for group in texts]


def skipped_files(seeds: str | Path) -> dict[str, str]:
    """The files in the seeds folder of no supported format (hidden files aside), each
    with why: path relative to the folder -> reason. Files that cannot be read are
    reported by :func:`build_index` too (``BuildReport.skipped``)."""
    return unsupported_files(seeds)


def _read_sources(
    seeds: str | Path, reading: ReadProgress | None
) -> tuple[list[Document], dict[str, str]]:
    """The readable sources and the skipped files, each skipped one logged."""
    docs, skipped = load_sources(seeds, reading)
    for name, reason in skipped.items():
        logger.warning("skipped %s: %s", name, reason)
    return docs, skipped


def _reusable(
    previous: IndexData | None, embedder: str, chunking: dict[str, object]
) -> tuple[IndexData | None, str]:
    """``previous`` when its vectors can be reused with ``embedder`` and ``chunking``, else
    None and why not."""
    why = ""
    if previous is not None and previous.manifest.embedder != embedder:
        why = f"the embedder changed ({previous.manifest.embedder} -> {embedder})"
    elif previous is not None and previous.manifest.chunking != chunking:
        why = "the passage and sentence rules changed"
    if why:
        logger.info("%s: re-embedding all", why)
        return None, why
    return previous, why


def _live_manifest(index: str | Path) -> Manifest | None:
    try:
        return _store(index).load_manifest(index, REUSABLE_FORMATS)[1]
    except IndexStoreError:
        return None


def _same_chunks(
    doc: Document, previous: IndexData, kept: list[int], chunk_args: dict[str, int]
) -> list[int]:
    """``kept`` when the document chunks as it did in the previous index's older format
    (same passages, same sentences: their vectors still hold), else [] (embed it again)."""
    fresh = chunk_document(doc, **chunk_args)
    old = [previous.chunks[i] for i in kept]
    same = [(c.id, c.sentences) for c in fresh] == [(c.id, c.sentences) for c in old]
    return kept if same else []


def _live_index(index: str | Path) -> IndexData | None:
    try:
        return _store(index).load_index(index, REUSABLE_FORMATS)
    except IndexStoreError as exc:
        logger.info("building from scratch: %s", exc)
        return None


def _wanted_embedder(embedder: Embedder | str | None, live: Manifest | None) -> str:
    """An explicit embedder, else ``RAG_EMBEDDER``, else the live index's, else the default."""
    if embedder is not None and not isinstance(embedder, str):
        return embedder.name
    if embedder is None and live is not None and not os.environ.get("RAG_EMBEDDER"):
        return live.embedder
    return canonical_name(config.embedder_name(embedder))


def _store(index: str | Path) -> ModuleType:
    """Where ``index`` is kept: rag.store for a folder, rag.milvus_store for a Milvus URI
    (the same functions: build_lock, load_manifest, load_index, save_index)."""
    return milvus_store if milvus_store.is_store_uri(index) else store
