"""The index on disk: versioned folders, one manifest, atomic switch-over.

Layout of an index folder::

    index/
      CURRENT                  name of the live version (replaced atomically)
      v<ms>-<pid>/
        manifest.json          format, embedder, chunking, sources, counts, file hashes
        passages.jsonl         one chunk a line, with its sentence spans and BM25 terms
        dense.faiss            FAISS IndexFlatIP over the passage vectors
        sentences.faiss        FAISS IndexFlatIP over the sentence vectors, passage by passage
        glossary.json          English <-> Chinese words of the documents (cross-lingual BM25)
        texts/<n>.txt          the text extracted from each PDF, Word or HTML source: what
                               its passages' offsets point into (see :func:`stored_text`)

A build writes a complete new version folder first and only then points CURRENT
at it, so a reader never sees a half-written index and a build killed halfway
leaves the previous one live. Older versions are removed after the switch.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.chunking import Chunk

logger = logging.getLogger(__name__)

# 2: glossary headwords normalised like the documents, both directions
# 3: every sentence keeps its span in the original file
FORMAT_VERSION = 3
# formats whose vectors a build can still reuse (what changed is recomputed from the sources)
REUSABLE_FORMATS = frozenset({2, 3})
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DENSE = "dense.faiss"
SENTENCES = "sentences.faiss"
GLOSSARY = "glossary.json"
TEXTS = "texts"
_FIX = "run `rag build` to rebuild it"


class IndexStoreError(RuntimeError):
    """The index is missing, corrupt or does not match; the message says how to fix it."""


@dataclass(frozen=True)
class SourceInfo:
    """One indexed source file."""

    sha256: str
    passages: int
    size: int = 0  # bytes
    added: str = ""  # when it was first indexed (ISO 8601)
    format: str = ""  # see rag.formats.FORMATS
    pages: int = 0  # PDF pages
    text: str = ""  # its extracted text in the version folder ("" for a text file)


@dataclass(frozen=True)
class Manifest:
    """Everything needed to reuse or check an index: recorded next to its files."""

    embedder: str
    dim: int
    chunking: dict[str, Any]
    sources: dict[str, SourceInfo]
    passages: int
    script: str = ""  # Chinese script of the documents ("zh-Hant", "zh-Hans" or "")
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    format_version: int = FORMAT_VERSION
    built_at: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw = json.loads(text)
        raw["sources"] = {k: SourceInfo(**v) for k, v in raw["sources"].items()}
        return cls(**raw)


@dataclass
class IndexData:
    """An index in memory: manifest, chunks with their BM25 terms, passage and sentence vectors.

    ``sentence_vectors`` holds one row per sentence of every chunk, in chunk order:
    chunk ``i`` owns rows ``sentence_rows[i]:sentence_rows[i + 1]``. As loaded by
    :func:`load_index`, both are read-only views of the FAISS indexes read from disk.
    """

    manifest: Manifest
    chunks: list[Chunk]
    terms: list[list[str]]
    vectors: np.ndarray  # (n, dim) float32
    sentence_vectors: np.ndarray  # (m, dim) float32
    glossary: dict[str, list[str]] = field(default_factory=dict)  # see rag.translation
    version: str = ""
    texts: dict[str, str] = field(default_factory=dict)  # source -> extracted text (to save)

    @property
    def sentence_rows(self) -> np.ndarray:
        counts = [len(c.sentences) for c in self.chunks]
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def current_version(index_dir: str | Path) -> str | None:
    """The live version's name, or None when there is no index (in a folder or a Milvus
    store, see rag.milvus_store)."""
    from rag import milvus_store  # which imports this module: not at the top

    if milvus_store.is_store_uri(index_dir):
        return milvus_store.current_version(index_dir)
    try:
        return (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def build_lock(index_dir: str | Path, name: str = ".lock") -> Iterator[None]:
    """One build at a time per index folder (a second one waits); another ``name`` is
    another lock (the document library's changes take ``.library.lock`` around a build)."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / name, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_index(index_dir: str | Path, data: IndexData) -> str:
    """Write ``data`` as a new version and make it live; returns the version name."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    version = f"v{int(time.time() * 1000)}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp = root / f".tmp-{version}"
    tmp.mkdir()
    with open(tmp / PASSAGES, "w", encoding="utf-8") as out:
        for chunk, terms in zip(data.chunks, data.terms, strict=True):
            row = asdict(chunk) | {"terms": terms}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    for name, vectors in ((DENSE, data.vectors), (SENTENCES, data.sentence_vectors)):
        faiss.write_index(flat_index(vectors, data.manifest.dim), str(tmp / name))
    (tmp / GLOSSARY).write_text(json.dumps(data.glossary, ensure_ascii=False), encoding="utf-8")
    sources = _write_texts(tmp, data)
    names = [PASSAGES, DENSE, SENTENCES, GLOSSARY, *(i.text for i in sources.values() if i.text)]
    files = {name: _sha256(tmp / name) for name in names}
    manifest = replace(
        data.manifest,
        sources=sources,
        files=files,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    (tmp / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    os.rename(tmp, root / version)
    pointer = root / f".{CURRENT}.{version}"
    pointer.write_text(version + "\n", encoding="utf-8")
    with open(pointer, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer, root / CURRENT)
    _fsync_dir(root)
    _prune(root, keep=version)
    logger.info("index version %s is live (%d passages)", version, manifest.passages)
    return version


def _write_texts(folder: Path, data: IndexData) -> dict[str, SourceInfo]:
    """Write each extracted text as ``texts/<n>.txt``; the sources, each naming its file."""
    sources = dict(data.manifest.sources)
    if data.texts:
        (folder / TEXTS).mkdir()
    for n, (source, text) in enumerate(sorted(data.texts.items()), 1):
        name = f"{TEXTS}/{n:05d}.txt"
        with open(folder / name, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        sources[source] = replace(sources[source], text=name)
    return sources


def stored_text(index_dir: str | Path, source: str) -> str | None:
    """The text extracted from ``source`` (a PDF, Word or HTML file) as the live index
    keeps it, or None when the index holds none for it (a plain text source)."""
    from rag import milvus_store  # which imports this module: not at the top

    if milvus_store.is_store_uri(index_dir):
        return milvus_store.stored_text(str(index_dir), source)
    root = Path(index_dir)
    version, manifest = load_manifest(root, REUSABLE_FORMATS)
    info = manifest.sources.get(source)
    if info is None or not info.text:
        return None
    try:
        with open(root / version / info.text, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        path = root / version / info.text
        raise IndexStoreError(f"index file {path} is missing: {_FIX}") from exc


def _prune(root: Path, keep: str) -> None:
    """Remove older versions and what killed builds left behind."""
    for child in root.iterdir():
        if child.name == keep:
            continue
        if child.is_dir() and (child.name.startswith("v") or child.name.startswith(".tmp-")):
            shutil.rmtree(child, ignore_errors=True)
        elif child.is_file() and child.name.startswith(f".{CURRENT}."):
            child.unlink(missing_ok=True)


def load_manifest(
    index_dir: str | Path, formats: frozenset[int] = frozenset({FORMAT_VERSION})
) -> tuple[str, Manifest]:
    """The live version's name and manifest; a clear :class:`IndexStoreError` otherwise.

    An index in a format not in ``formats`` is refused. ``index_dir`` may name a Milvus
    store (rag.milvus_store)."""
    from rag import milvus_store  # which imports this module: not at the top

    if milvus_store.is_store_uri(index_dir):
        return milvus_store.load_manifest(str(index_dir), formats)
    root = Path(index_dir)
    version = current_version(root)
    if version is None:
        raise IndexStoreError(f"no index in {root}: run `rag build` to build it")
    path = root / version / MANIFEST
    try:
        manifest = Manifest.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexStoreError(f"index in {root} is incomplete ({path} is missing): {_FIX}") from exc
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexStoreError(f"index manifest {path} is corrupt ({exc}): {_FIX}") from exc
    if manifest.format_version not in formats:
        raise IndexStoreError(
            f"index in {root} has format {manifest.format_version}, this version reads "
            f"{FORMAT_VERSION}: run `rag build` to "
            + ("upgrade it" if manifest.format_version in REUSABLE_FORMATS else "rebuild it")
        )
    return version, manifest


def load_index(
    index_dir: str | Path, formats: frozenset[int] = frozenset({FORMAT_VERSION})
) -> IndexData:
    """Read the live index, checking every file against the manifest."""
    root = Path(index_dir)
    version, manifest = load_manifest(root, formats)
    folder = root / version
    for name, digest in manifest.files.items():
        path = folder / name
        if not path.exists():
            raise IndexStoreError(f"index file {path} is missing: {_FIX}")
        if _sha256(path) != digest:
            raise IndexStoreError(f"index file {path} is corrupt (checksum mismatch): {_FIX}")
    chunks: list[Chunk] = []
    terms: list[list[str]] = []
    try:
        with open(folder / PASSAGES, encoding="utf-8") as rows:
            for line in rows:
                row = json.loads(line)
                terms.append(row.pop("terms"))
                row["sentences"] = tuple(tuple(span) for span in row["sentences"])
                row["origins"] = tuple(tuple(span) for span in row.get("origins", ()))
                chunks.append(Chunk(**row))
        vectors = _read_vectors(folder / DENSE, manifest.dim)
        sentence_vectors = _read_vectors(folder / SENTENCES, manifest.dim)
        glossary = json.loads((folder / GLOSSARY).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexStoreError(f"index in {folder} is incomplete ({exc}): {_FIX} --full") from exc
    except (ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexStoreError(f"index in {folder} is corrupt ({exc}): {_FIX}") from exc
    n_sentences = sum(len(c.sentences) for c in chunks)
    if not (len(chunks) == len(vectors) == manifest.passages) or n_sentences != len(
        sentence_vectors
    ):
        raise IndexStoreError(
            f"index in {folder} is inconsistent ({len(chunks)} passages, {len(vectors)} vectors, "
            f"manifest says {manifest.passages}): {_FIX}"
        )
    return IndexData(manifest, chunks, terms, vectors, sentence_vectors, glossary, version)


def _read_vectors(path: Path, dim: int) -> np.ndarray:
    index = faiss.read_index(str(path))
    if not isinstance(index, faiss.IndexFlatIP) or index.d != dim:
        raise ValueError(f"{path.name} is not a flat index of {dim}-d vectors")
    return vectors_of(index)


class _Owner:
    """Keeps a flat FAISS index alive while an array over its memory exists."""

    def __init__(self, index: faiss.IndexFlatIP) -> None:
        self.index = index
        memory = faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d)
        self.__array_interface__ = memory.__array_interface__


def vectors_of(index: faiss.IndexFlatIP) -> np.ndarray:
    """The vectors of a flat FAISS index as a read-only (n, dim) array over the index's own
    memory: no copy, and the array keeps the index alive. Nothing may be added to it."""
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    vectors = np.asarray(_Owner(index)).reshape(index.ntotal, index.d)
    vectors.flags.writeable = False
    return vectors


def flat_index(vectors: np.ndarray, dim: int) -> faiss.IndexFlatIP:
    """A FAISS inner-product index over ``vectors``: the one they are the whole of (see
    :func:`vectors_of`: a loaded index is searched where it was read, not copied), else a
    new one."""
    base = vectors
    while isinstance(base, np.ndarray):
        base = base.base
    whole = isinstance(base, _Owner) and vectors.shape == (base.index.ntotal, base.index.d)
    if whole and vectors.ctypes.data == base.__array_interface__["data"][0]:
        return base.index
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index
