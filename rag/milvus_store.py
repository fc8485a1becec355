"""The index in Milvus: passages, dense vectors and BM25 sparse vectors in collections.

A store is named by a URI:

- ``milvus://host:port/collection`` a Milvus standalone or distributed cluster
  (``milvus+https://`` over TLS; ``?db=name`` for a database other than the default;
  the token, ``user:password`` or an API key, in ``RAG_MILVUS_TOKEN``);
- ``milvus-lite://path/to/file.db`` or ``milvus-lite://path/to/file.db/collection``
  (``milvus-lite:///abs/path.db`` for an absolute path) embedded Milvus Lite, in this process.

A build writes one version as three collections, ``<name>__<version>`` (one row per
passage: its chunk, language, passage vector and BM25 sparse vector),
``<name>__<version>_sentences`` (one row per sentence: its passage and vector) and
``<name>__<version>_meta`` (manifest, glossary, BM25 vocabulary), then points the
alias ``<name>`` at the first: the switch is atomic, a reader never sees half a
version, and older versions are dropped after it. Every build writes a whole new
version (BM25 weights depend on every passage); vectors of unchanged sources are read
back and reused, not embedded again (see rag.build).

BM25 is held as sparse vectors whose inner product is the BM25 score (rag.milvus_bm25).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from rag import multilingual
from rag.chunking import Chunk
from rag.language import is_chinese
from rag.milvus_bm25 import Vocabulary, sparse_rows
from rag.settings import DEFAULT_MILVUS, MilvusParams
from rag.store import FORMAT_VERSION, REUSABLE_FORMATS, IndexData, IndexStoreError, Manifest

logger = logging.getLogger(__name__)

SCHEMES = ("milvus://", "milvus+https://", "milvus-lite://")
TOKEN_ENV = "RAG_MILVUS_TOKEN"
DEFAULT_COLLECTION = "rag"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,180}")
_TEXT = 16_000  # characters per meta row (VARCHAR holds 65,535 bytes; CJK takes 3 each)
_INSTALL = "pip install -e '.[milvus]' (pymilvus, and milvus-lite for milvus-lite:// stores)"


def is_store_uri(index: object) -> bool:
    """Does ``index`` name a Milvus store rather than an index folder?"""
    return isinstance(index, str) and index.startswith(SCHEMES)


@dataclass(frozen=True)
class StoreURI:
    """Where a Milvus store is: the client's address, database and the collection name."""

    uri: str  # what pymilvus connects to: http(s)://host:port or a .db path
    collection: str
    db: str = ""
    lite: bool = False
    # user:password from the URI, else RAG_MILVUS_TOKEN (user:password or an API key)
    token: str = field(default="", repr=False)

    @classmethod
    def parse(cls, text: str) -> StoreURI:
        if text.startswith("milvus-lite://"):
            rest = text[len("milvus-lite://") :]
            path, sep, name = rest.partition(".db/")
            path = path + ".db" if sep else path
            if not path.endswith(".db"):
                raise IndexStoreError(
                    f"{text!r}: a milvus-lite store is a .db path, e.g. milvus-lite://index.db "
                    "or milvus-lite:///data/rag.db/docs"
                )
            name = _collection(name or DEFAULT_COLLECTION)
            return cls(str(Path(path).resolve()), name, lite=True)
        parts = urlsplit(text)
        if not parts.hostname:
            raise IndexStoreError(
                f"{text!r}: a Milvus store is milvus://host:port/collection "
                "(or milvus-lite://path/to/file.db for embedded Milvus Lite)"
            )
        scheme = "https" if parts.scheme == "milvus+https" else "http"
        uri = f"{scheme}://{parts.hostname}:{parts.port or 19530}"
        db = parse_qs(parts.query).get("db", [""])[0]
        token = os.environ.get(TOKEN_ENV, "")
        if parts.username:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        name = _collection(parts.path.strip("/") or DEFAULT_COLLECTION)
        return cls(uri, name, db, token=token)


def _collection(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise IndexStoreError(
            f"{name!r} is not a Milvus collection name: use letters, digits and underscores, "
            "starting with a letter"
        )
    return name


@dataclass(frozen=True)
class Names:
    """The three collections of one version."""

    passages: str

    @property
    def sentences(self) -> str:
        return f"{self.passages}_sentences"

    @property
    def meta(self) -> str:
        return f"{self.passages}_meta"

    @property
    def all(self) -> tuple[str, str, str]:
        return (self.passages, self.sentences, self.meta)


_clients: dict[tuple[str, str], Any] = {}


def connect(store: str) -> tuple[Any, StoreURI]:
    """A pymilvus client for ``store`` (one per address in a process) and the parsed URI."""
    where = StoreURI.parse(store)
    key = (where.uri, where.db)
    if key in _clients:
        return _clients[key], where
    try:
        from pymilvus import MilvusClient

        if where.lite:
            import milvus_lite  # noqa: F401
    except ImportError as exc:
        raise IndexStoreError(f"the Milvus store needs {exc.name}: {_INSTALL}") from exc
    if where.lite:
        Path(where.uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        client = MilvusClient(uri=where.uri, token=where.token, db_name=where.db)
    except Exception as exc:
        raise IndexStoreError(
            f"cannot reach Milvus at {where.uri} ({exc}): check the URI, that the server "
            f"runs, and the token in {TOKEN_ENV}"
        ) from exc
    _clients[key] = client
    return client, where


def live_names(client: Any, where: StoreURI) -> Names | None:
    """The collections of the live version, or None when the store has none."""
    if where.collection not in client.list_aliases().get("aliases", []):
        return None
    return Names(client.describe_alias(where.collection)["collection_name"])


def current_version(store: str) -> str | None:
    """The live version's name, or None when there is none."""
    client, where = connect(store)
    names = live_names(client, where)
    return names.passages.rpartition("__")[2] if names else None


@contextlib.contextmanager
def build_lock(store: str) -> Iterator[None]:
    """One build at a time per store from this machine (a second one waits). Builds from
    two machines do not corrupt the store: the last alias switch wins."""
    _, where = connect(store)  # an unreachable store fails now, not after embedding
    digest = hashlib.sha256(f"{where.uri}/{where.db}/{where.collection}".encode()).hexdigest()
    path = Path(tempfile.gettempdir()) / f"rag-milvus-{digest[:16]}.lock"
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_meta(client: Any, names: Names, docs: Sequence[str]) -> dict[str, Any]:
    """The JSON documents ``docs`` of a version's meta collection, by name."""
    client.load_collection(names.meta)
    rows = client.query(
        names.meta, filter=f"doc in {json.dumps(list(docs))}", output_fields=["doc", "part", "text"]
    )
    pieces: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        pieces.setdefault(row["doc"], []).append((row["part"], row["text"]))
    return {doc: json.loads("".join(t for _, t in sorted(parts))) for doc, parts in pieces.items()}


def load_manifest(
    store: str, formats: frozenset[int] = frozenset({FORMAT_VERSION})
) -> tuple[str, Manifest]:
    """The live version's name and manifest; a clear :class:`IndexStoreError` otherwise."""
    client, where = connect(store)
    names = live_names(client, where)
    if names is None:
        raise IndexStoreError(f"no index in {store}: run `rag build --store {store}` to build it")
    try:
        manifest = Manifest.from_json(
            json.dumps(read_meta(client, names, ["manifest"])["manifest"])
        )
    except Exception as exc:
        raise IndexStoreError(
            f"index in {store} is incomplete or corrupt ({exc}): run `rag build --store "
            f"{store} --full` to rebuild it"
        ) from exc
    if manifest.format_version not in formats:
        raise IndexStoreError(
            f"index in {store} has format {manifest.format_version}, this version reads "
            f"{FORMAT_VERSION}: run `rag build --store {store}` to rebuild it"
        )
    return names.passages.rpartition("__")[2], manifest


def chunk_row(chunk: Chunk) -> dict[str, Any]:
    return asdict(chunk)


def row_chunk(row: dict[str, Any]) -> Chunk:
    row = dict(row)
    row["sentences"] = tuple(tuple(span) for span in row["sentences"])
    row["origins"] = tuple(tuple(span) for span in row.get("origins", ()))
    return Chunk(**row)


def _read(client: Any, collection: str, fields: list[str], count: int, batch: int) -> list[dict]:
    """Rows ``0 .. count - 1`` of ``collection`` (``fields`` of them), in order, read
    ``batch`` at a time."""
    client.load_collection(collection)
    rows: list[dict] = []
    for start in range(0, count, batch):
        where = f"row >= {start} and row < {start + batch}"
        rows += sorted(
            client.query(collection, filter=where, output_fields=fields), key=lambda r: r["row"]
        )
    return rows


def load_index(
    store: str,
    formats: frozenset[int] = frozenset({FORMAT_VERSION}),
    params: MilvusParams = DEFAULT_MILVUS,
) -> IndexData:
    """Read the live version whole, vectors and BM25 terms included (what a build reuses)."""
    return load_version(store, formats, vectors=True, params=params)[0]


def load_version(
    store: str,
    formats: frozenset[int] = frozenset({FORMAT_VERSION}),
    *,
    vectors: bool,
    params: MilvusParams = DEFAULT_MILVUS,
) -> tuple[IndexData, dict[str, Any]]:
    """The live version and its meta documents. Without ``vectors``, passages only: the
    vector arrays and BM25 terms are then empty (searching reads them from Milvus)."""
    version, manifest = load_manifest(store, formats)
    client, where = connect(store)
    names = Names(f"{where.collection}__{version}")
    meta = read_meta(client, names, ["glossary", "vocabulary", "indexes", "multilingual"])
    second = ["multilingual"] if meta.get("multilingual") else []  # absent before they were
    fields = ["row", "chunk"] + (["terms", "vector", *second] if vectors else [])
    rows = _read(client, names.passages, fields, manifest.passages, params.batch)
    chunks = [row_chunk(r["chunk"]) for r in rows]
    if len(chunks) != manifest.passages:
        raise IndexStoreError(
            f"index in {store} is inconsistent ({len(chunks)} passages, manifest says "
            f"{manifest.passages}): run `rag build --store {store} --full` to rebuild it"
        )
    empty = np.zeros((0, manifest.dim), dtype=np.float32)
    data = IndexData(manifest, chunks, [], empty, empty, meta["glossary"], version)
    if not vectors:
        return data, meta
    n_sentences = sum(len(c.sentences) for c in chunks)
    sentence_fields = ["row", "vector", *second]
    sentence_rows = _read(client, names.sentences, sentence_fields, n_sentences, params.batch)
    if len(sentence_rows) != n_sentences:
        raise IndexStoreError(
            f"index in {store} is inconsistent ({len(sentence_rows)} sentence vectors): "
            f"run `rag build --store {store} --full` to rebuild it"
        )
    data = replace(
        data,
        terms=[list(r["terms"]) for r in rows],
        vectors=_matrix([r["vector"] for r in rows], manifest.dim),
        sentence_vectors=_matrix([r["vector"] for r in sentence_rows], manifest.dim),
    )
    if second:
        data = replace(
            data,
            multilingual=_matrix([r["multilingual"] for r in rows], multilingual.DIM),
            multilingual_sentences=_matrix(
                [r["multilingual"] for r in sentence_rows], multilingual.DIM
            ),
        )
    return data, meta


def _matrix(rows: list[list[float]], dim: int) -> np.ndarray:
    return np.array(rows, dtype=np.float32).reshape(-1, dim)


def save_index(store: str, data: IndexData, params: MilvusParams = DEFAULT_MILVUS) -> str:
    """Write ``data`` as a new version and make it live; returns the version name."""
    from rag.milvus_write import write_version

    client, where = connect(store)
    version = f"v{int(time.time() * 1000)}_{os.getpid()}"
    names = Names(f"{where.collection}__{version}")
    # each extracted text (PDF, Word, HTML) is a meta document its source names
    texts = {
        f"texts/{n:05d}": (source, text)
        for n, (source, text) in enumerate(sorted(data.texts.items()), 1)
    }
    sources = dict(data.manifest.sources)
    for doc, (source, _) in texts.items():
        sources[source] = replace(sources[source], text=doc)
    built = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    manifest = replace(data.manifest, sources=sources, built_at=built)
    chinese = [is_chinese(c.text) for c in data.chunks]
    vocabulary = Vocabulary.of(data.terms, chinese)
    meta = {
        "manifest": json.loads(manifest.to_json()),
        "glossary": data.glossary,
        "vocabulary": {
            "terms": list(vocabulary.ids),
            "df": vocabulary.df,
            "chinese_df": vocabulary.chinese_df,
        },
        "multilingual": True,
    } | {doc: text for doc, (_, text) in texts.items()}
    write_version(
        client,
        names,
        replace(data, manifest=manifest),
        chinese,
        sparse_rows(data.terms, vocabulary),
        meta,
        params,
    )
    old = live_names(client, where)
    if old is None:
        client.create_alias(names.passages, where.collection)
    else:
        client.alter_alias(names.passages, where.collection)
    _prune(client, where, keep=names)
    logger.info("Milvus version %s is live (%d passages)", version, manifest.passages)
    return version


def _prune(client: Any, where: StoreURI, keep: Names) -> None:
    """Drop older versions and what killed builds left behind."""
    prefix = f"{where.collection}__v"
    for name in client.list_collections():
        if name.startswith(prefix) and name not in keep.all:
            client.drop_collection(name)


def meta_rows(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The meta documents as rows of at most ``_TEXT`` characters each."""
    rows = []
    for doc, value in meta.items():
        text = json.dumps(value, ensure_ascii=False)
        for part, pos in enumerate(range(0, max(len(text), 1), _TEXT)):
            row = {"key": f"{doc}#{part}", "doc": doc, "part": part}
            rows.append(row | {"text": text[pos : pos + _TEXT]})
    return rows


def stored_text(store: str, source: str) -> str | None:
    """The text extracted from ``source`` (a PDF, Word or HTML file) as the live version
    keeps it, or None when it holds none for it (a plain text source)."""
    version, manifest = load_manifest(store, REUSABLE_FORMATS)
    info = manifest.sources.get(source)
    if info is None or not info.text:
        return None
    client, where = connect(store)
    return read_meta(client, Names(f"{where.collection}__{version}"), [info.text]).get(info.text)


__all__ = [
    "REUSABLE_FORMATS",
    "Names",
    "StoreURI",
    "build_lock",
    "connect",
    "current_version",
    "is_store_uri",
    "load_index",
    "load_manifest",
    "load_version",
    "save_index",
    "stored_text",
]
