"""The multilingual sentence encoder (the real model, numpy only)."""

from __future__ import annotations

import numpy as np

from rag import multilingual


def test_vectors_are_unit_length_half_floats() -> None:
    vectors = multilingual.embed(["西雅圖會議", "The meeting in Seattle", "x"])
    assert vectors.shape == (3, multilingual.DIM)
    assert vectors.dtype == np.float16
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)
    assert multilingual.embed([]).shape == (0, multilingual.DIM)


def test_a_translation_is_closer_than_an_unrelated_sentence() -> None:
    question = multilingual.query_vector("Where was the third Senior Officials' Meeting held?")
    answer, other = multilingual.embed(
        [
            "第三次資深官員大會於美國華盛頓州西雅圖市召開。",
            "美國也將舉辦永續未來論壇，分享如何實踐曼谷目標。",
        ]
    ).astype(np.float32)
    assert question @ answer > question @ other + 0.05


def test_a_question_is_embedded_once() -> None:
    first = multilingual.query_vector("When is the leaders' meeting?")
    assert multilingual.query_vector("When is the leaders' meeting?") is first
    assert not first.flags.writeable
