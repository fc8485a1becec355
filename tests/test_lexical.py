"""BM25 over script-folded, segmented text."""

from __future__ import annotations

import numpy as np
import pytest

from rag.lexical import BM25, normalise, tokenize

DOCS = [
    "美國希望彙編避免未來APEC供應鏈因全球或區域危機而遭遇瓶頸的工具手冊，強化供應鏈韌性。",
    "眾所矚目的APEC經濟領袖會議將於11月15日至17日，於舊金山的莫斯科康會議中心隆重舉行。",
    "糧食安全部長會議通過了透過永續農糧體系以達成APEC區域糧食安全之原則。",
    "Green tea grows best on misty hillsides in the mountains of Taiwan.",
]


@pytest.fixture(scope="module")
def bm25() -> BM25:
    return BM25([tokenize(d) for d in DOCS])


def test_traditional_and_simplified_give_the_same_terms() -> None:
    traditional = tokenize("供應鏈韌性")
    assert traditional == tokenize("供应链韧性")
    assert "供应链" in traditional and "韧性" in traditional
    assert tokenize("領袖會議在哪裡舉行") == tokenize("领袖会议在哪里举行")


def test_full_width_forms_fold_to_half_width() -> None:
    assert tokenize("ＡＰＥＣ　２０２３") == ["apec", "2023"]
    assert normalise("ＡＰＥＣ") == "apec"


def test_english_words_are_lowercased_and_stopwords_dropped() -> None:
    assert tokenize("Where is the Supply CHAIN Resilience?") == ["supply", "chain", "resilience"]


def test_chinese_stopwords_dropped() -> None:
    terms = tokenize("會議的地點是在哪裡")
    assert "的" not in terms and "是" not in terms and "在" not in terms
    assert "会议" in terms


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("供應鏈韌性", 0),
        ("供应链韧性", 0),
        ("領袖會議在哪裡舉行？", 1),
        ("领袖会议在哪里举行？", 1),
        ("糧食安全", 2),
        ("粮食安全", 2),
        ("TEA on the HILLSIDES", 3),
    ],
)
def test_bm25_ranks_the_right_document_first(bm25: BM25, query: str, expected: int) -> None:
    top = bm25.top(tokenize(query), 4)
    assert top[0][0] == expected
    assert all(score > 0 for _, score in top)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    scores = bm25.scores(tokenize(query))
    assert int(np.argmax(scores)) == expected


def test_empty_query_scores_zero(bm25: BM25) -> None:
    assert tokenize("") == []
    assert tokenize("   ？！ the of ") == []
    scores = bm25.scores([])
    assert scores.shape == (len(DOCS),)
    assert not scores.any()
    assert bm25.top([], 3) == []
    assert bm25.top(["nowhere-to-be-found"], 3) == []


def test_top_respects_k_and_skips_non_matching(bm25: BM25) -> None:
    terms = tokenize("APEC")
    assert [i for i, _ in bm25.top(terms, 10)] != []
    assert len(bm25.top(terms, 2)) == 2
    assert 3 not in [i for i, _ in bm25.top(terms, 10)]  # the tea document has no "apec"
    assert bm25.top(terms, 0) == []


def test_top_keeps_to_the_allowed_documents(bm25: BM25) -> None:
    terms = tokenize("APEC")
    found = [i for i, _ in bm25.top(terms, 10)]
    allowed = np.zeros(len(DOCS), dtype=bool)
    allowed[found[-1]] = True
    assert [i for i, _ in bm25.top(terms, 10, allowed)] == [found[-1]]
    assert bm25.top(terms, 10, np.zeros(len(DOCS), dtype=bool)) == []


def test_rarer_terms_weigh_more(bm25: BM25) -> None:
    assert bm25.idf("莫斯科") > bm25.idf("apec")


def test_empty_corpus() -> None:
    empty = BM25([])
    assert empty.top(tokenize("供應鏈"), 5) == []
