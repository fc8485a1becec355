"""BM25 over script-folded, segmented text."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from rag.lexical import BM25, DocumentTerms, Postings, normalise, postings_of, tokenize

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


def test_a_possessive_is_the_word_itself() -> None:
    assert tokenize("Who is Antigone's father?") == ["antigone", "father"]
    assert tokenize("Antigone defied Creon") == ["antigone", "defied", "creon"]
    assert tokenize("It's the leaders' meeting") == ["leaders", "meeting"]


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


def reference_scores(corpus: list[list[str]], query: list[str], k1: float = 1.2, b: float = 0.75):  # type: ignore[no-untyped-def]
    """BM25 as it was computed from Python string postings, term by term."""
    lengths = np.array([len(d) for d in corpus], dtype=np.float32)
    norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()), 1e-9))
    out = np.zeros(len(corpus), dtype=np.float32)
    for term, qtf in Counter(query).items():
        ids = np.array([i for i, d in enumerate(corpus) if term in d], dtype=np.int32)
        if not len(ids):
            continue
        tfs = np.array([corpus[i].count(term) for i in ids], dtype=np.float32)
        idf = math.log(1 + (len(corpus) - len(ids) + 0.5) / (len(ids) + 0.5))
        out[ids] += qtf * idf * tfs * (k1 + 1) / (tfs + norm[ids])
    return out


def test_sparse_postings_score_as_string_postings_did() -> None:
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(40)]
    corpus = [[words[j] for j in rng.integers(40, size=rng.integers(1, 30))] for _ in range(300)]
    corpus += [tokenize(d) for d in DOCS]
    bm25 = BM25(corpus)
    queries = [[words[j] for j in rng.integers(40, size=4)] for _ in range(20)]
    for query in [*queries, tokenize("供應鏈韌性 APEC"), ["w1", "w1", "nowhere"]]:
        np.testing.assert_array_equal(bm25.scores(query), reference_scores(corpus, query))


def test_postings_are_compact_arrays_and_give_back_each_documents_terms() -> None:
    corpus = [tokenize(d) for d in DOCS] + [[]]
    postings = Postings.from_terms(corpus)
    assert postings.docs.dtype == np.int32 and postings.counts.dtype == np.int32
    assert postings.indptr[-1] == len(postings.docs) == sum(len(set(d)) for d in corpus)
    assert list(postings.lengths) == [len(d) for d in corpus]
    terms = DocumentTerms(postings)
    assert len(terms) == len(corpus)
    assert [sorted(t) for t in terms] == [sorted(d) for d in corpus]
    assert postings_of(terms) is postings
    assert BM25(postings).scores(tokenize("APEC")).tolist() == BM25(corpus).scores(
        tokenize("APEC")
    ).tolist()
