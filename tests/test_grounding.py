"""Grounding: a Chinese question's specific nouns must appear in the documents."""

from __future__ import annotations

from rag.grounding import specific_nouns, ungrounded
from rag.lexical import normalise, tokenize
from rag.translation import build_glossary

PASSAGES = [
    "APEC經濟領袖會議將於11月15日至17日在舊金山舉行。",
    "衛生與經濟高階會議討論氣候變遷對健康的影響。",
]
TEXT = normalise("\n".join(PASSAGES))


def glossary() -> dict[str, list[str]]:
    return build_glossary(
        {t for p in PASSAGES for t in tokenize(p)}, into_chinese=True, into_english=False
    )


def test_specific_nouns_leave_out_question_and_everyday_words() -> None:
    nouns = specific_nouns("APEC秘书处设在哪里？")
    assert nouns == ["秘书处"]
    assert "大家" not in specific_nouns("大家都同意這個方面的目標嗎？")
    assert "方面" not in specific_nouns("大家都同意這個方面的目標嗎？")
    assert "名字" not in specific_nouns("那個目標叫什麼名字？")


def test_a_noun_no_passage_mentions_is_ungrounded() -> None:
    assert ungrounded("APEC秘書處設在哪裡？", TEXT, glossary()) == ["秘书处"]
    assert ungrounded("領袖會議最後發表了什麼宣言？", TEXT, glossary()) == ["宣言"]


def test_nouns_found_as_written_in_parts_or_as_synonyms_are_grounded() -> None:
    g = glossary()
    assert ungrounded("領袖會議在哪裡舉行？", TEXT, g) == []  # as written
    assert ungrounded("高级别会议讨论了什么？", TEXT, g) == []  # 高级 of 高级别
    assert ungrounded("领导人会议什么时候开？", TEXT, g) == []  # 领导人 ~ 领袖: "leader"
    assert ungrounded("领导人会议什么时候开？", TEXT, {}) == ["领导人"]
    assert ungrounded("有哪些高官出席？", TEXT, {"official": ["官员"]}) == ["高官"]
    official = normalise("官員") + "\n" + TEXT
    assert ungrounded("有哪些高官出席？", official, {"official": ["官员"]}) == []  # "high official"
