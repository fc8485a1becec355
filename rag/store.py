"""The index on disk: versioned folders, one manifest, atomic switch-over.

Layout of an index folder (format 4)::

    index/
      CURRENT                  name of the live version (replaced atomically)
      v<ms>-<pid>/
        manifest.json          format, embedder, chunking, sources, counts, file sizes and hashes
        passages.jsonl         one chunk a line, with its sentence spans
        offsets.npy            where each line of passages.jsonl starts (rows read on demand)
        vectors.npy            passage vectors, (n, dim) float32
        sentence_vectors.npy   sentence vectors, passage by passage, (m, dim) float32
        multilingual.npy, multilingual_sentences.npy
                               the same texts' vectors for the vote across languages
                               (rag.multilingual), float16; absent from older indexes
        sentence_rows.npy, chinese.npy, captions.npy, openings.npy
                               per-passage facts the retriever needs (rag.passage_file)
        bm25.vocabulary.json, bm25.indptr.npy, bm25.docs.npy, bm25.counts.npy, bm25.lengths.npy
                               BM25 postings as a term-major sparse matrix (rag.lexical)
        passages.ivf, sentences.ivf
                               IVF codes of a vector set too large to scan (rag.vector_index)
        glossary.json          English <-> Chinese words of the documents (cross-lingual BM25)
        texts/<n>.txt          the text extracted from each PDF, Word or HTML source: what
                               its passages' offsets point into (see :func:`stored_text`)

Loading memory-maps the arrays and the IVF codes and parses passages only when asked
for, so it takes about as long for a million passages as for ten; pages are read as
searches touch them. Every file's size is checked at load and every file up to
``LOAD_CHECKSUM_MAX_BYTES`` is checked against its SHA-256 too (all of them with
``verify=True``). Format 3 (FAISS flat files and BM25 terms inside passages.jsonl) is
still read by ``rag build``, which reuses its vectors; searching it asks for a rebuild.

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
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.chunking import Chunk
from rag.legacy_format import read_format_3
from rag.lexical import DocumentTerms, Postings, postings_of
from rag.multilingual import DIM
from rag.passage_file import ChunkFile, PassageTable, write_chunks
from rag.settings import DEFAULT_VECTOR_INDEX, LOAD_CHECKSUM_MAX_BYTES, VectorIndexSettings
from rag.vector_index import needs_codes, read_codes, train_codes, write_codes

logger = logging.getLogger(__name__)

# 2: glossary headwords normalised like the documents, both directions
# 3: every sentence keeps its span in the original file
# 4: memory-mapped arrays, BM25 postings as a sparse matrix, IVF codes for large sets
FORMAT_VERSION = 4
# formats whose vectors a build can still reuse (what changed is recomputed from the sources)
REUSABLE_FORMATS = frozenset({2, 3, 4})
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
OFFSETS = "offsets.npy"
VECTORS = "vectors.npy"
SENTENCE_VECTORS = "sentence_vectors.npy"
MULTILINGUAL = "multilingual.npy"
MULTILINGUAL_SENTENCES = "multilingual_sentences.npy"
PASSAGE_CODES = "passages.ivf"
SENTENCE_CODES = "sentences.ivf"
VOCABULARY = "bm25.vocabulary.json"
GLOSSARY = "glossary.json"
TEXTS = "texts"
_POSTINGS = ("indptr", "docs", "counts", "lengths")
_TABLE = ("sentence_rows", "chinese", "captions", "openings")
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
    sizes: dict[str, int] = field(default_factory=dict)  # file name -> bytes
    format_version: int = FORMAT_VERSION
    built_at: str = ""
    glossary: int = 1  # the rules its BM25 terms and glossary were made by (GLOSSARY_RULES)

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
    :func:`load_index`, the chunks are read on demand, the terms come from the BM25
    postings, the vectors are read-only memory maps and a large vector set comes with
    its IVF codes.
    """

    manifest: Manifest
    chunks: Sequence[Chunk]
    terms: Sequence[Sequence[str]]
    vectors: np.ndarray  # (n, dim) float32
    sentence_vectors: np.ndarray  # (m, dim) float32
    glossary: dict[str, list[str]] = field(default_factory=dict)  # see rag.translation
    version: str = ""
    texts: dict[str, str] = field(default_factory=dict)  # source -> extracted text (to save)
    table: PassageTable | None = None  # computed from the chunks when not given
    passage_codes: faiss.IndexIVF | None = None
    sentence_codes: faiss.IndexIVF | None = None
    # the passage and sentence vectors of rag.multilingual, as the e5 ones (None: not built)
    multilingual: np.ndarray | None = None
    multilingual_sentences: np.ndarray | None = None

    def passage_table(self) -> PassageTable:
        if self.table is None:
            self.table = PassageTable.of(self.chunks)
        return self.table

    @property
    def sentence_rows(self) -> np.ndarray:
        return self.passage_table().sentence_rows


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
    except NotADirectoryError:
        raise IndexStoreError(f"{index_dir} is a file, not an index folder") from None


@contextlib.contextmanager
def build_lock(index_dir: str | Path, name: str = ".lock") -> Iterator[None]:
    """One build at a time per index folder (a second one waits); another ``name`` is
    another lock (the document library's changes take ``.library.lock`` around a build)."""
    root = Path(index_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise IndexStoreError(f"{root} is a file, not an index folder") from None
    except OSError as exc:
        raise IndexStoreError(f"cannot create the index folder {root}: {exc.strerror}") from exc
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


def save_index(
    index_dir: str | Path, data: IndexData, settings: VectorIndexSettings = DEFAULT_VECTOR_INDEX
) -> str:
    """Write ``data`` as a new version and make it live; returns the version name. A vector
    set too large to scan gets its IVF codes (``settings``)."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    version = f"v{int(time.time() * 1000)}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp = root / f".tmp-{version}"
    tmp.mkdir()
    _write_files(tmp, data, settings)
    sources = _write_texts(tmp, data)
    names = sorted(p.name for p in tmp.iterdir() if p.is_file())
    names += sorted(i.text for i in sources.values() if i.text)
    files = {name: _sha256(tmp / name) for name in names}
    sizes = {name: (tmp / name).stat().st_size for name in names}
    manifest = replace(
        data.manifest,
        sources=sources,
        files=files,
        sizes=sizes,
        format_version=FORMAT_VERSION,
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


def _save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as out:
        np.save(out, np.ascontiguousarray(array))
        out.flush()
        os.fsync(out.fileno())


def _write_files(folder: Path, data: IndexData, settings: VectorIndexSettings) -> None:
    """Every file of a version but the manifest."""
    dim = data.manifest.dim
    _save_array(folder / OFFSETS, write_chunks(folder / PASSAGES, data.chunks))
    for name, vectors, codes in (
        (VECTORS, data.vectors, PASSAGE_CODES),
        (SENTENCE_VECTORS, data.sentence_vectors, SENTENCE_CODES),
    ):
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
        _save_array(folder / name, vectors)
        if needs_codes(len(vectors), settings):
            write_codes(train_codes(vectors, settings), folder / codes)
    for name, array in data.passage_table().arrays().items():
        _save_array(folder / f"{name}.npy", array)
    postings = postings_of(data.terms)
    for name in _POSTINGS:
        _save_array(folder / f"bm25.{name}.npy", getattr(postings, name))
    (folder / VOCABULARY).write_text(json.dumps(postings.vocabulary, ensure_ascii=False), "utf-8")
    (folder / GLOSSARY).write_text(json.dumps(data.glossary, ensure_ascii=False), "utf-8")
    if data.multilingual is not None and data.multilingual_sentences is not None:
        _save_array(folder / MULTILINGUAL, np.asarray(data.multilingual, dtype=np.float16))
        sentences = np.asarray(data.multilingual_sentences, dtype=np.float16)
        _save_array(folder / MULTILINGUAL_SENTENCES, sentences)


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
    index_dir: str | Path,
    formats: frozenset[int] = frozenset({FORMAT_VERSION}),
    *,
    verify: bool = False,
) -> IndexData:
    """Read the live index, checking its files against the manifest (see the module
    docstring; ``verify=True`` checks every file's SHA-256)."""
    root = Path(index_dir)
    version, manifest = load_manifest(root, formats)
    folder = root / version
    _check_files(folder, manifest, verify)
    try:
        if manifest.format_version < 4:
            data = read_format_3(folder, manifest)
        else:
            data = _read_files(folder, manifest)
    except FileNotFoundError as exc:
        raise IndexStoreError(f"index in {folder} is incomplete ({exc}): {_FIX} --full") from exc
    except (ValueError, TypeError, KeyError, RuntimeError, IndexError) as exc:
        raise IndexStoreError(f"index in {folder} is corrupt ({exc}): {_FIX}") from exc
    rows = data.sentence_rows
    if not (len(data.chunks) == len(data.vectors) == len(data.terms) == manifest.passages) or (
        rows[-1] != len(data.sentence_vectors)
    ):
        raise IndexStoreError(
            f"index in {folder} is inconsistent ({len(data.chunks)} passages, "
            f"{len(data.vectors)} vectors, manifest says {manifest.passages}): {_FIX}"
        )
    return replace(data, version=version)


def _check_files(folder: Path, manifest: Manifest, verify: bool) -> None:
    for name, digest in manifest.files.items():
        path = folder / name
        if not path.exists():
            raise IndexStoreError(f"index file {path} is missing: {_FIX}")
        size = path.stat().st_size
        if name in manifest.sizes and size != manifest.sizes[name]:
            raise IndexStoreError(
                f"index file {path} is corrupt ({size} bytes, manifest says "
                f"{manifest.sizes[name]}): {_FIX}"
            )
        if (verify or size <= LOAD_CHECKSUM_MAX_BYTES) and _sha256(path) != digest:
            raise IndexStoreError(f"index file {path} is corrupt (checksum mismatch): {_FIX}")


def _read_array(path: Path, dtype: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A read-only memory map of a .npy file, checked for its type (and shape)."""
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    if array.dtype != np.dtype(dtype) or (shape is not None and array.shape != shape):
        raise ValueError(f"{path.name} holds {array.dtype} {array.shape}, not {dtype} {shape}")
    return array


def _read_files(folder: Path, manifest: Manifest) -> IndexData:
    n, dim = manifest.passages, manifest.dim
    chunks = ChunkFile(folder / PASSAGES, np.load(folder / OFFSETS, allow_pickle=False))
    table = PassageTable(
        sentence_rows=np.array(_read_array(folder / "sentence_rows.npy", "int64", (n + 1,))),
        chinese=np.array(_read_array(folder / "chinese.npy", "bool", (n,))),
        captions=np.array(_read_array(folder / "captions.npy", "bool", (n,))),
        openings=np.array(_read_array(folder / "openings.npy", "int64")),
    )
    m = int(table.sentence_rows[-1])
    vocabulary = json.loads((folder / VOCABULARY).read_text(encoding="utf-8"))
    postings = Postings(
        vocabulary=vocabulary,
        indptr=np.array(_read_array(folder / "bm25.indptr.npy", "int64", (len(vocabulary) + 1,))),
        docs=_read_array(folder / "bm25.docs.npy", "int32"),
        counts=_read_array(folder / "bm25.counts.npy", "int32"),
        lengths=np.array(_read_array(folder / "bm25.lengths.npy", "int32", (n,))),
    )
    codes = {
        name: read_codes(folder / name) if name in manifest.files else None
        for name in (PASSAGE_CODES, SENTENCE_CODES)
    }
    multilingual = None, None
    if MULTILINGUAL in manifest.files:
        multilingual = (
            _read_array(folder / MULTILINGUAL, "float16", (n, DIM)),
            _read_array(folder / MULTILINGUAL_SENTENCES, "float16", (m, DIM)),
        )
    return IndexData(
        manifest,
        chunks,
        DocumentTerms(postings),
        _read_array(folder / VECTORS, "float32", (n, dim)),
        _read_array(folder / SENTENCE_VECTORS, "float32", (m, dim)),
        json.loads((folder / GLOSSARY).read_text(encoding="utf-8")),
        table=table,
        passage_codes=codes[PASSAGE_CODES],
        sentence_codes=codes[SENTENCE_CODES],
        multilingual=multilingual[0],
        multilingual_sentences=multilingual[1],
    )
