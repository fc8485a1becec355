"""The features the learned decision sees, one test each, on the small seeds."""

from __future__ import annotations

import math

from rag import background
from rag.features import FEATURES, _translated_share, candidates, list_items, missing_specifics
from rag.query import analyse
from rag.settings import DEFAULT_FUSION


def _candidates(retriever, question: str):  # type: ignore[no-untyped-def]
    query = analyse(question, [], retriever)
    hits = retriever.search_hits(query.search_text, 5, prefer_answer_kind=False)
    return query, hits, candidates(query, hits, retriever)


def _text(hits, c) -> str:  # type: ignore[no-untyped-def]
    return hits[c.hit].chunk.text[c.span[0] : c.span[1]]


def test_every_sentence_of_every_hit_is_a_candidate(small_retriever) -> None:  # type: ignore[no-untyped-def]
    _, hits, found = _candidates(small_retriever, "領袖會議在哪裡舉行？")
    assert len(found) == sum(len(h.sentence_scores) for h in hits)
    assert all(len(c.values) == len(FEATURES) for c in found)
    best = max(c.feature("cos") for c in found)
    assert max(c.feature("cos_gap") for c in found) == 0.0
    assert all(abs(c.feature("cos") - best - c.feature("cos_gap")) < 1e-9 for c in found)


def test_overlap_counts_the_question_words_a_sentence_holds(small_retriever) -> None:  # type: ignore[no-untyped-def]
    _, hits, found = _candidates(small_retriever, "莫斯科康會議中心在哪個城市？")
    by_text = {_text(hits, c): c for c in found}
    venue = next(c for t, c in by_text.items() if "莫斯科康" in t)
    tea = [c for t, c in by_text.items() if "tea" in t]
    assert venue.feature("overlap") > 0.5
    assert all(c.feature("overlap") == 0 for c in tea)
    assert venue.feature("novelty") > 0  # it says more than the question


def test_kind_held_is_a_feature_of_the_sentence_holding_a_date(small_retriever) -> None:  # type: ignore[no-untyped-def]
    _, hits, found = _candidates(small_retriever, "When does the harvest begin?")
    assert all(c.feature("kind_asked") == 1 for c in found)
    spring = next(c for c in found if "harvest" in _text(hits, c))
    assert spring.feature("kind_held") == 0  # "early spring" names no date
    _, hits, found = _candidates(small_retriever, "領袖會議什麼時候舉行？")
    november = next(c for c in found if "十一月" in _text(hits, c))
    assert november.feature("kind_held") == 1


def test_list_items_follow_a_lead_in() -> None:
    text = "會議確定了下列兩大重點工作：\n- 強化供應鏈韌性\n- 提升反貪腐成效"
    sentences = [(0, 14), (15, 24), (25, 34)]
    assert list_items(text, sentences, 0) == [(15, 24), (25, 34)]
    assert list_items(text, sentences, 1) == []


def test_question_level_features(small_retriever) -> None:  # type: ignore[no-untyped-def]
    _, _, known = _candidates(small_retriever, "Where does green tea grow best?")
    _, _, unknown = _candidates(small_retriever, "Who won the 1986 football world cup?")
    assert known[0].feature("coverage") > unknown[0].feature("coverage")
    assert unknown[0].feature("missing") == 1 and known[0].feature("missing") == 0
    assert known[0].feature("english") == 1
    assert missing_specifics("What did ABAC say in 1986?", small_retriever) == ["1986", "ABAC"]


def test_rank_length_and_passage_features(small_retriever) -> None:  # type: ignore[no-untyped-def]
    _, hits, found = _candidates(small_retriever, "領袖會議在哪裡舉行？")
    for c in found:
        assert c.feature("rank") == 1.0 / (1 + c.hit)
        offset = DEFAULT_FUSION.cross_lingual_offset if c.feature("cross") else 0.0
        assert abs(c.feature("passage_cos") - hits[c.hit].dense - offset) < 1e-9
        text = _text(hits, c).strip()
        assert abs(c.feature("length") - math.log1p(len(text)) / 5) < 1e-9
    assert {c.feature("rank") for c in found} >= {1.0, 0.5}


def test_cross_marks_sentences_in_the_other_language(small_retriever) -> None:  # type: ignore[no-untyped-def]
    _, hits, found = _candidates(small_retriever, "Where does green tea grow best?")
    for c in found:
        assert c.feature("cross") == float(hits[c.hit].chinese)
    assert any(c.feature("cross") == 1 for c in found)
    assert any(c.feature("cross") == 0 for c in found)


def test_everyday_gap_is_the_everyday_phrase_against_the_best_sentence(small_retriever) -> None:  # type: ignore[no-untyped-def]
    query, _, found = _candidates(small_retriever, "Where does green tea grow best?")
    best = max(c.feature("cos") for c in found)
    vector = small_retriever.query_vector(query.search_text)
    everyday = background.closest(small_retriever.embedder, vector)
    assert all(abs(c.feature("everyday_gap") - (everyday - best)) < 1e-9 for c in found)


def test_ungrounded_counts_chinese_nouns_the_documents_never_mention(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import rag
    from tests.conftest import FakeEmbedder, write_seeds

    seeds = write_seeds(
        tmp_path / "seeds", {"a.md": "領袖會議將在舊金山舉行，總統將出席並發表演說。\n"}
    )
    rag.build_index(seeds, tmp_path / "index", embedder=FakeEmbedder())
    retriever = rag.Retriever.load(tmp_path / "index", embedder=FakeEmbedder())
    _, _, known = _candidates(retriever, "領袖會議在哪裡舉行？")
    _, _, unknown = _candidates(retriever, "秘書處在哪裡？")
    assert known[0].feature("ungrounded") == 0
    assert unknown[0].feature("ungrounded") == 1
    _, _, english = _candidates(retriever, "Where is the secretariat?")
    assert english[0].feature("ungrounded") == 0  # checked for Chinese questions only


def test_a_candidate_knows_its_language_length_and_whether_it_goes_on(small_retriever) -> None:  # type: ignore[no-untyped-def]
    _, hits, found = _candidates(small_retriever, "領袖會議在哪裡舉行？")
    for c in found:
        text = _text(hits, c)
        assert c.chinese == hits[c.hit].chinese
        assert c.chars == len(text) + sum(y - x for x, y in c.items)
        assert c.unfinished == (text.rstrip()[-1:] in "；;，、,")


def test_across_languages_a_name_the_dictionary_lacks_is_not_counted_missing() -> None:
    translations = {
        "population": ("population", "人口"),
        "tomsk": ("tomsk",),  # CC-CEDICT has no Tomsk: written 托木斯克, unseen by words
        "weather": ("weather",),  # CC-CEDICT has it; the documents hold none of its words
    }
    assert _translated_share(translations, frozenset({"人口"})) == 0.5
    assert _translated_share(translations, frozenset({"人口", "tomsk"})) == 2 / 3
    assert _translated_share({"tomsk": ("tomsk",)}, frozenset({"人口"})) == 0.0
    # a number is written alike in both languages: its absence counts
    population_in_1846 = {"population": ("population", "人口"), "1846": ("1846",)}
    assert _translated_share(population_in_1846, frozenset({"人口"})) == 0.5


def test_a_roman_numeral_is_missing_only_as_a_number_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import rag
    from tests.conftest import FakeEmbedder, write_seeds

    seeds = write_seeds(tmp_path / "seeds", {"a.md": "本篤十六世於2013年辭職。\n"})
    rag.build_index(seeds, tmp_path / "index", embedder=FakeEmbedder())
    retriever = rag.Retriever.load(tmp_path / "index", embedder=FakeEmbedder())
    assert missing_specifics("When did Benedict XVI resign?", retriever) == []  # 十六
    assert missing_specifics("When did Benedict XXXVII resign?", retriever) == ["XXXVII"]
    assert missing_specifics("What did ABAC say?", retriever) == ["ABAC"]
