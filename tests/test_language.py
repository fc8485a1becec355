"""Language detection and Chinese script conversion."""

from __future__ import annotations

import pytest

from rag.language import (
    detect_language,
    is_chinese,
    script_of,
    to_script,
    to_simplified,
    to_traditional,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where will the APEC leaders' meeting be held?", "en"),
        ("領袖會議在哪裡舉行？", "zh-Hant"),
        ("领袖会议在哪里举行？", "zh-Hans"),
        ("APEC經濟領袖會議在哪裡舉行？", "zh-Hant"),  # Chinese with a Latin acronym
        ("APEC经济领袖会议在哪里举行？", "zh-Hans"),
        ("What does 灣區議程 mean for APEC this year?", "en"),  # English with a Chinese term
        ("APEC 2023", "en"),
        ("", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_a_question_the_same_in_both_scripts_keeps_the_conversations() -> None:
    assert detect_language("它的首都呢？") == "zh-Hant"
    assert detect_language("它的首都呢？", ["萨摩亚什么时候独立的？"]) == "zh-Hans"
    assert detect_language("它的首都呢？", ["薩摩亞何時獨立？", "Where is it?"]) == "zh-Hant"
    assert detect_language("它的首都呢？", ["萨摩亚什么时候独立的？", "它在哪？"]) == "zh-Hans"
    assert detect_language("领袖会议在哪里？", ["領袖會議在哪裡？"]) == "zh-Hans"  # its own


def test_a_question_the_same_in_both_scripts_takes_the_documents_script() -> None:
    assert detect_language("LED的效率是多少？", documents="zh-Hans") == "zh-Hans"
    assert detect_language("LED的效率是多少？", documents="zh-Hant") == "zh-Hant"
    assert detect_language("LED的效率是多少？", documents="") == "zh-Hant"
    # the conversation comes first, and a question's own script before either
    assert detect_language("它的首都呢？", ["薩摩亞何時獨立？"], documents="zh-Hans") == "zh-Hant"
    assert detect_language("领袖会议在哪里？", documents="zh-Hant") == "zh-Hans"


def test_to_simplified() -> None:
    assert to_simplified("供應鏈韌性") == "供应链韧性"
    assert to_simplified("領袖會議在哪裡舉行？") == "领袖会议在哪里举行？"
    assert to_simplified("軟體") == "软件"  # Taiwan phrasing becomes mainland phrasing
    assert to_simplified("Hello, APEC 2023!") == "Hello, APEC 2023!"


def test_to_traditional() -> None:
    assert to_traditional("供应链韧性") == "供應鏈韌性"
    assert to_traditional("领袖会议在哪里举行？") == "領袖會議在哪裡舉行？"
    assert to_traditional("软件") == "軟體"
    assert to_traditional("Hello, APEC 2023!") == "Hello, APEC 2023!"


def test_round_trip() -> None:
    text = "美國希望透過灣區議程強化區域韌性。"
    assert to_traditional(to_simplified(text)) == text


def test_to_script() -> None:
    assert to_script("会议", "zh-Hant") == "會議"
    assert to_script("會議", "zh-Hans") == "会议"
    assert to_script("會議", "en") == "會議"
    assert to_script("會議", "") == "會議"


def test_script_of() -> None:
    assert script_of(["會議在舊金山舉行。", "领袖", "供應鏈韌性"]) == "zh-Hant"
    assert script_of(["会议在旧金山举行。", "領袖"]) == "zh-Hans"
    assert script_of(["Green tea.", "Hillsides."]) == ""
    assert script_of([]) == ""


def test_is_chinese() -> None:
    assert is_chinese("專業部長會議(Sectoral Ministerial Meetings)涵蓋教育、能源等議題。")
    assert not is_chinese("The spring harvest began on 2 April.")
    assert not is_chinese("Oolong (烏龍) made up about 70 percent of the harvest.")
    assert not is_chinese("")


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Who is 王薊暄?", "en"),  # an English question naming a Chinese name
        ("What is the goal of the 灣區議程?", "en"),
        ("Moscone Center在哪裡？", "zh-Hant"),  # a Chinese question naming an English one
        ("SOM3是在哪个城市召开的？", "zh-Hans"),
        ("APEC經濟領袖會議", "zh-Hant"),  # no frame words: the script counts decide
        ("The tea (綠茶) grows on hills.", "en"),
    ],
)
def test_a_question_mixing_scripts_is_in_the_language_of_its_frame(
    question: str, language: str
) -> None:
    assert detect_language(question) == language


def test_traditional_characters_keep_the_wording() -> None:
    from rag.language import to_traditional_characters

    assert to_traditional_characters("根据文件，会议在西雅图召开") == "根據文件，會議在西雅圖召開"
    assert to_traditional_characters("根據文件") == "根據文件"  # not the Taiwan 檔案
