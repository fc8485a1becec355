"""Writing one version of the index into Milvus: schemas, vector indexes, batched inserts.

See rag.milvus_store for the layout. Vectors are searched exactly (FLAT) up to
``MilvusParams.exact_up_to`` rows and through HNSW above; BM25 sparse vectors through
Milvus's exact sparse inverted index.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag import multilingual
from rag.milvus_store import Names, chunk_row, meta_rows
from rag.settings import MilvusParams
from rag.store import IndexData

logger = logging.getLogger(__name__)

_SOURCE_CHARS = 1024


def dense_index(rows: int, params: MilvusParams) -> dict[str, Any]:
    """The index of a dense vector field of ``rows`` vectors."""
    if rows <= params.exact_up_to:
        return {"index_type": "FLAT", "metric_type": "IP", "params": {}}
    return {
        "index_type": "HNSW",
        "metric_type": "IP",
        "params": {"M": params.hnsw_m, "efConstruction": params.hnsw_ef_construction},
    }


def search_params(index: dict[str, Any], limit: int, params: MilvusParams) -> dict[str, Any]:
    """Search parameters for a dense field with ``index`` (as :func:`dense_index` made it)."""
    if index.get("index_type") == "HNSW":
        return {"metric_type": "IP", "params": {"ef": max(params.hnsw_ef, limit)}}
    return {"metric_type": "IP"}


def _create(client: Any, name: str, fields: list[tuple], indexes: list[tuple]) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    for field_name, kind, extra in fields:
        schema.add_field(field_name, getattr(DataType, kind), **extra)
    index_params = client.prepare_index_params()
    for field_name, spec in indexes:
        index_params.add_index(field_name, **spec)
    client.create_collection(name, schema=schema)
    # not waiting for the index here: a server builds it in the background (and searches
    # what it has not indexed yet exhaustively)
    client.create_index(name, index_params, sync=False)


def _insert(client: Any, name: str, rows: Sequence[dict[str, Any]], batch: int) -> None:
    for pos in range(0, len(rows), batch):
        client.insert(name, list(rows[pos : pos + batch]))
        logger.info("%s: %d of %d rows written", name, min(pos + batch, len(rows)), len(rows))
    client.flush(name)


# the vectors of rag.multilingual, read by id (never searched: its index is a plain scan)
_MULTILINGUAL = ("multilingual", "FLOAT_VECTOR", {"dim": multilingual.DIM})
_MULTILINGUAL_INDEX = ("multilingual", {"index_type": "FLAT", "metric_type": "IP"})


def _passage_fields(dim: int) -> list[tuple]:
    return [
        ("row", "INT64", {"is_primary": True}),
        ("source", "VARCHAR", {"max_length": _SOURCE_CHARS}),
        ("chinese", "BOOL", {}),
        ("chunk", "JSON", {}),
        ("terms", "JSON", {}),
        ("vector", "FLOAT_VECTOR", {"dim": dim}),
        ("sparse", "SPARSE_FLOAT_VECTOR", {}),
        _MULTILINGUAL,
    ]


def _sentence_fields(dim: int) -> list[tuple]:
    return [
        ("row", "INT64", {"is_primary": True}),
        ("passage", "INT64", {}),
        ("vector", "FLOAT_VECTOR", {"dim": dim}),
        _MULTILINGUAL,
    ]


_META_FIELDS = [
    ("key", "VARCHAR", {"is_primary": True, "max_length": 256}),
    ("doc", "VARCHAR", {"max_length": 256}),
    ("part", "INT64", {}),
    ("text", "VARCHAR", {"max_length": 65_535}),
    ("unused", "FLOAT_VECTOR", {"dim": 2}),  # Milvus wants a vector field in a collection
]


def write_version(
    client: Any,
    names: Names,
    data: IndexData,
    chinese: Sequence[bool],
    sparse: Sequence[dict[int, float]],
    meta: dict[str, Any],
    params: MilvusParams,
) -> None:
    """Create and fill the three collections of a version (not yet live). The dense
    indexes chosen are recorded in ``meta["indexes"]`` for searching."""
    dim = data.manifest.dim
    if data.multilingual is None or data.multilingual_sentences is None:
        raise ValueError("the index data has no multilingual vectors: build it with rag build")
    indexes = {
        "passages": dense_index(len(data.chunks), params),
        "sentences": dense_index(len(data.sentence_vectors), params),
    }
    sparse_index = {"index_type": "SPARSE_INVERTED_INDEX", "metric_type": "IP"}
    _create(
        client,
        names.passages,
        _passage_fields(dim),
        [("vector", indexes["passages"]), ("sparse", sparse_index), _MULTILINGUAL_INDEX],
    )
    _create(
        client,
        names.sentences,
        _sentence_fields(dim),
        [
            ("vector", indexes["sentences"]),
            ("passage", {"index_type": "INVERTED"}),
            _MULTILINGUAL_INDEX,
        ],
    )
    _create(
        client, names.meta, _META_FIELDS, [("unused", {"index_type": "FLAT", "metric_type": "L2"})]
    )
    passages = [
        {
            "row": i,
            "source": chunk.source[:_SOURCE_CHARS],
            "chinese": bool(chinese[i]),
            "chunk": chunk_row(chunk),
            "terms": list(terms),
            "vector": vector,
            "sparse": sparse[i],
            "multilingual": second,
        }
        for i, (chunk, terms, vector, second) in enumerate(
            zip(
                data.chunks,
                data.terms,
                _lists(data.vectors),
                _lists(data.multilingual),
                strict=True,
            )
        )
    ]
    _insert(client, names.passages, passages, params.batch)
    owners = np.repeat(np.arange(len(data.chunks)), [len(c.sentences) for c in data.chunks])
    sentences = [
        {"row": j, "passage": int(owners[j]), "vector": vector, "multilingual": second}
        for j, (vector, second) in enumerate(
            zip(_lists(data.sentence_vectors), _lists(data.multilingual_sentences), strict=True)
        )
    ]
    _insert(client, names.sentences, sentences, params.batch)
    rows = meta_rows(meta | {"indexes": indexes})
    _insert(client, names.meta, [r | {"unused": [0.0, 0.0]} for r in rows], params.batch)


def _lists(vectors: np.ndarray) -> list[list[float]]:
    return np.asarray(vectors, dtype=np.float32).tolist()
