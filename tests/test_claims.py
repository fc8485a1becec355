"""The claim checker: sentences, markers kept or dropped, attribution, wrong answers removed."""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.claims import ClaimChecker, Source, answers_kind, beyond_question, split_claims
from tests.conftest import REAL_SEEDS, SEED_NAME

GLOSSARY = {"seattle washington": ["西雅图"], "san francisco": ["旧金山"], "thailand": ["泰国"]}
SOM3 = "2023年APEC第三次資深官員大會(SOM3)暨相關會議，7月29日至8月21日於美國華盛頓州西雅圖市召開。"
LEADERS = (
    "眾所矚目的APEC經濟領袖會議將於11月15日至17日，於舊金山的莫斯科康會議中心(Moscone Center)"
    "隆重舉行。此外，14日至16日將在該會議中心舉行企業界的重大活動—"
    "APEC企業領袖高峰會(APEC CEO Summit)，"
    "美國總統喬·拜登(Joe Biden)預計將出席高峰會發表演說。"
)
TEA = "Green tea grows best on misty hillsides in the mountains of Taiwan."


def test_split_keeps_markers_with_their_sentence() -> None:
    pieces = split_claims("SOM3 was in Seattle. [2] It ran for weeks [1][3].\n- 第一項。[1]")
    assert [p.text for p in pieces] == ["SOM3 was in Seattle.", "It ran for weeks.", "- 第一項。"]
    assert [p.markers for p in pieces] == [(2,), (1, 3), (1,)]
    assert [p.gap for p in pieces] == [" ", "\n", " "]
    assert split_claims("   ") == [] and split_claims("** --") == []
    sung = split_claims("第一次演唱是在《CDTV×Sacas！》節目中[1]。")
    assert [p.text for p in sung] == ["第一次演唱是在《CDTV×Sacas！》節目中。"]
    listed = split_claims("1. SOM3 was in Seattle [1].\n2. It ended on August 21 [1].")
    assert [p.text for p in listed] == ["1. SOM3 was in Seattle.", "2. It ended on August 21."]


def test_a_supported_marker_is_kept_where_it_was_written() -> None:
    checker = ClaimChecker(glossary=GLOSSARY)
    result = checker.check("SOM3 was held in Seattle [2] from July 29 to August 21.", [TEA, SOM3])
    [claim] = result.claims
    assert claim.cited == (2,) and not claim.attributed
    assert result.text == "SOM3 was held in Seattle [2] from July 29 to August 21."


def test_a_sentence_without_a_marker_is_attributed_to_its_passage() -> None:
    checker = ClaimChecker(glossary=GLOSSARY)
    result = checker.check("第三次資深官員大會7月29日至8月21日於西雅圖召開。", [TEA, LEADERS, SOM3])
    [claim] = result.claims
    assert claim.cited == (3,) and claim.attributed
    assert result.text == "第三次資深官員大會7月29日至8月21日於西雅圖召開[3]。"


def test_a_wrong_marker_is_moved_to_the_passage_that_holds_the_facts() -> None:
    checker = ClaimChecker(glossary=GLOSSARY)
    reply = "Leaders meet on November 15-17 at the Moscone Center [1]."
    result = checker.check(reply, [SOM3, LEADERS])
    assert result.claims[0].cited == (2,) and result.claims[0].attributed
    assert result.text == "Leaders meet on November 15-17 at the Moscone Center [2]."


def test_only_the_unsupported_sentence_is_removed() -> None:
    checker = ClaimChecker(glossary=GLOSSARY)
    text = "SOM3 was held in Seattle [1]. It drew 900 delegates from Thailand [1]."
    result = checker.check(text, [SOM3, LEADERS])
    assert [c.kept for c in result.claims] == [True, False]
    assert set(result.dropped[0].missing) >= {"900", "Thailand"}
    assert result.text == "SOM3 was held in Seattle [1]."


def test_facts_stated_together_must_be_stated_together_in_the_passage() -> None:
    passage = (
        "泰國於2022年提出曼谷目標(Bangkok Goals)。數位月聚集超過40場技術會議。"
        "會議討論數位貿易與資料隱私。美國總統喬·拜登(Joe Biden)預計將出席高峰會發表演說。"
    )
    checker = ClaimChecker(glossary=GLOSSARY)
    result = checker.check(
        "Joe Biden proposed the Bangkok Goals [1]. 泰國提出曼谷目標 [1]。", [passage]
    )
    assert [c.kept for c in result.claims] == [False, True]
    assert result.dropped[0].missing  # each name is in the passage, never both near each other


def test_a_list_is_checked_item_by_item_and_stands_or_falls_whole() -> None:
    checker = ClaimChecker(glossary=GLOSSARY)
    reply = "1. SOM3 was held in Seattle [1].\n2. It drew 900 delegates [1]."
    result = checker.check(reply, [SOM3])
    assert [c.kept for c in result.claims] == [False, False]
    assert [c.missing for c in result.claims] == [("its list",), ("900",)]
    # the line leading in to a list goes with it; a sentence after the list stays
    reply = "The meetings were:\n1. SOM3 in Seattle [1]\n2.漢堡會議 [1]\nSOM3 was in Seattle [1]."
    result = checker.check(reply, [SOM3])
    assert [c.kept for c in result.claims] == [False, False, False, True]
    reply = "The meetings were:\n- SOM3 in Seattle [1]\n- SOM3 ran from July 29 [1]"
    assert [c.kept for c in checker.check(reply, [SOM3]).claims[1:]] == [True, True]


def test_an_answer_must_hold_what_was_asked_beyond_repeating_the_question() -> None:
    asked = "这篇关于西雅图高官会的文章作者是谁？"
    echo = "这篇关于西雅图高官会的文章作者是美国[1]。"  # a 1.5B model's answer
    assert beyond_question(echo, asked) == "美国[1]。"
    checker = ClaimChecker(glossary=GLOSSARY)
    byline = "文章的作者是APEC研究中心助理研究員王薊暄。"
    source = "APEC研究中心助理研究員王薊暄\n" + SOM3
    assert not answers_kind(checker.check(echo, [source]).kept, asked, "author")
    assert answers_kind(checker.check(byline, [source]).kept, asked, "author")
    when = "When was SOM3 held?"
    assert not answers_kind(checker.check("SOM3 was held in Seattle.", [SOM3]).kept, when, "date")
    held = checker.check("SOM3 was held in Seattle from July 29.", [SOM3]).kept
    assert held and answers_kind(held, when, "date")
    assert answers_kind(checker.check("SOM3 was held in Seattle.", [SOM3]).kept, when, None)
    claims = checker.check("第三次資深官員會議是在西雅圖市開的[1]。", [SOM3]).kept
    assert answers_kind(claims, "第三次資深官員會議是在哪個城市開的？", "place")
    claims = checker.check("會議在西雅圖召開[1]。", [SOM3]).kept
    assert answers_kind(claims, "第三次資深官員會議在哪個城市舉行？", "place")
    weeks = checker.check("SOM3 ran for three weeks.", []).claims  # kept or not
    assert answers_kind(weeks, "How long did SOM3 run?", "date")
    chaired = checker.check("SOM3 in Seattle was chaired by [1].", [SOM3]).claims
    assert not answers_kind(chaired, "Who chaired SOM3 in Seattle?", "chair")
    us = checker.check("SOM3 was chaired by the United States.", [SOM3]).claims
    assert answers_kind(us, "Who chaired SOM3?", "chair")
    listed = checker.check("六大領域是：\n1. 強化供應鏈韌性\n2. 提升反貪腐成效", [SOM3]).claims
    assert answers_kind(listed, "灣區議程著重哪六大領域？", "items")
    passed = checker.check("經濟體通過了「糧食安全之原則」。", [SOM3]).claims
    assert answers_kind(passed, "大家一起通過了哪份文件？", "outcome")


def test_a_sentence_that_denies_what_its_passage_says_or_the_reverse_is_removed() -> None:
    target = (
        "能源部長會議探討研訂新的能源目標，如2035年前將APEC區域70%的電力由無碳及碳中和來源發電，"
        "惜該目標未獲所有經濟體的共識。"
    )
    checker = ClaimChecker(glossary=GLOSSARY)
    agreed = checker.check("70%無碳電力的目標最後大家都同意了[1]。", [target])
    assert not agreed.kept and agreed.claims[0].missing == ("a denial",)
    denied = checker.check("2035年70%無碳電力的目標未獲所有經濟體的共識[1]。", [target])
    assert denied.kept
    elsewhere = checker.check("SOM3 was not held in Seattle [1].", [SOM3])
    assert not elsewhere.kept and elsewhere.claims[0].missing == ("an affirmation",)
    # compounds that only hold a negating character deny nothing: 無碳, 未來
    plain = "能源工作小組未來將執行無碳轉型。"
    assert checker.check("能源工作小組未來將執行無碳轉型[1]。", [plain]).kept


def test_nothing_to_cite_keeps_nothing() -> None:
    checker = ClaimChecker(glossary=GLOSSARY)
    assert checker.check("SOM3 was held in Seattle.", []).kept == []
    assert checker.check("", [SOM3]).claims == ()


def test_sources_may_carry_their_sentences_and_vectors(fake) -> None:  # type: ignore[no-untyped-def]
    spans = ((0, 27), (27, len(SOM3)))
    source = Source(SOM3, spans, fake.embed_passages([SOM3[a:b] for a, b in spans]))
    result = ClaimChecker(fake, GLOSSARY).check("會議於7月29日至8月21日召開。", [source])
    assert result.claims[0].cited == (1,)


# ------------------------------------------------- the wrong answers of a real 1.5B model


@pytest.fixture(scope="module")
def retriever(real_index: Path) -> rag.Retriever:
    return rag.Retriever.load(real_index)


@pytest.fixture(scope="module")
def checker(retriever: rag.Retriever) -> ClaimChecker:
    return ClaimChecker(retriever.embedder, retriever.data.glossary)


def _passage_with(retriever: rag.Retriever, needle: str) -> str:
    return next(c.text for c in retriever.data.chunks if needle in c.text)


WRONG = [  # (question, the model's answer, what [1] pointed at)
    (
        "When and where was SOM3 held?",
        "SOM3 was held in the 11th month of 2023, at the Moscow Convergence Center "
        "(Moscone Center) in San Francisco.",
        None,
    ),
    (
        "Who will speak at the APEC CEO Summit and when?",
        "The APEC CEO Summit will be held on November 15-17, 2023, in the Moscow Con "
        "Convention Center. [1]",
        "數位月聚集",
    ),
    (
        "What did Chinese Taipei propose during SOM3?",
        "Chinese Taipei proposed the Bangkok Goals on Bio-Circular-Green (BCG) Economy. [1]",
        "曼谷目標",
    ),
]


@pytest.mark.parametrize(("question", "reply", "first"), WRONG)
def test_the_wrong_answers_of_a_small_model_are_removed(
    retriever: rag.Retriever, checker: ClaimChecker, question: str, reply: str, first: str | None
) -> None:
    passages = [p.text for p in retriever.search(question, k=5)]
    if first:
        passages = [_passage_with(retriever, first), *passages]
    result = checker.check(reply, passages)
    assert result.kept == [], result.claims
    assert result.dropped[0].missing


RIGHT = [
    ("When and where was SOM3 held?", "SOM3 was held from July 29 to August 21, 2023, in Seattle."),
    (
        "Who will speak at the APEC CEO Summit and when?",
        "US President Joe Biden is expected to speak at the APEC CEO Summit, held on "
        "November 14–16 at the Moscone Center in San Francisco.",
    ),
    ("What did Thailand propose?", "In 2022 Thailand proposed the Bangkok Goals [2]."),
    ("第三次資深官員會議在哪裡舉行？", "第三次資深官員會議於7月29日至8月21日在西雅圖召開。"),
    ("第三次资深官员会议在哪里举行？", "第三次资深官员会议在美国西雅图召开。"),
]


@pytest.mark.parametrize(("question", "reply"), RIGHT)
def test_right_answers_are_kept_and_cited(
    retriever: rag.Retriever, checker: ClaimChecker, question: str, reply: str
) -> None:
    hits = retriever.search(question, k=5)
    result = checker.check(reply, [p.text for p in hits])
    assert len(result.kept) == len(result.claims) == 1, result.claims
    cited = hits[result.kept[0].cited[0] - 1].text
    assert any(word in cited for word in ("西雅圖", "舊金山", "曼谷目標"))


def test_the_real_seed_is_what_the_wrong_answers_contradict(real_original: str) -> None:
    assert (REAL_SEEDS / SEED_NAME).exists()
    assert "7月29日至8月21日" in real_original and "14日至16日" in real_original
    assert "泰國提出" in real_original
