"""The facts of a sentence and whether a passage holds them, across scripts and languages."""

from __future__ import annotations

from rag.facts import evidence_of, facts_of, latin_names, missing, name_found

# a glossary as rag.translation builds one: English keys to the documents' words
GLOSSARY = {
    "seattle washington": ["西雅图"],
    "san francisco": ["旧金山"],
    "thailand": ["泰国"],
    "center": ["中心"],
}
LEADERS = (
    "眾所矚目的APEC經濟領袖會議將於11月15日至17日，於舊金山的莫斯科康會議中心(Moscone Center)"
    "隆重舉行。此外，14日至16日將在該會議中心舉行企業界的重大活動—"
    "APEC企業領袖高峰會(APEC CEO Summit)。"
)
SOM3 = "2023年APEC第三次資深官員大會(SOM3)暨相關會議，7月29日至8月21日於美國華盛頓州西雅圖市召開。"


def _missing(sentence: str, passage: str) -> list[str]:
    return missing(facts_of(sentence), evidence_of(passage), GLOSSARY)


def test_dates_match_across_languages_and_carry_their_month() -> None:
    assert facts_of("November 15–17").dates == {(11, 15), (11, 17)}
    assert facts_of("15-17 November 2023").dates == {(11, 15), (11, 17)}
    assert facts_of("from July 29 to August 21").dates == {(7, 29), (8, 21)}
    assert evidence_of(LEADERS).dates >= {(11, 15), (11, 17), (11, 14), (11, 16)}
    assert _missing("The meeting is on November 15-17.", LEADERS) == []
    assert _missing("領袖會議於11月15日至17日舉行。", LEADERS) == []
    assert _missing("The meeting is on November 16-18.", LEADERS) == ["11/18"]
    assert _missing("SOM3 ran from July 29 to August 21.", SOM3) == []
    assert _missing("SOM3 was held in the 11th month of 2023.", SOM3) == ["11"]
    assert _missing("西雅图会议开了7天。", SOM3) == ["7"]  # 7月 is a month, no count
    assert _missing("SOM3 ended on the 21st.", SOM3) == []  # a day may be named alone
    summit = "此外，14日至16日將舉行APEC企業領袖高峰會(APEC CEO Summit)。"  # no month named
    assert _missing("The APEC CEO Summit runs on the 14th to the 16th.", summit) == []
    assert _missing("The APEC CEO Summit is on December 14-16.", summit) == ["12/14", "12/16"]


def test_a_month_is_its_name_not_a_word_it_begins() -> None:
    assert facts_of("Access to international markets improved in 2022.").months == frozenset()
    assert facts_of("The mayor made a novel decision.").months == frozenset()
    assert facts_of("It opens in March and closes on Dec. 3.").months == {3}
    assert facts_of("It runs 14-16 Sept.").dates == {(9, 14), (9, 16)}
    assert latin_names("Marvin met Janet in Junction City.") == ["Marvin", "Janet", "Junction City"]
    passage = "經濟領袖於2022年承諾改善微中小企業進入國際市場的機會。"
    assert _missing("Leaders promised access to international markets in 2022.", passage) == []


def test_numbers_are_compared_as_values() -> None:
    passage = "數位月舉行超過40場技術會議，預算為500萬美元，七成經濟體參加。"
    assert _missing("More than forty technical meetings were held.", passage) == []
    assert _missing("舉行了四十場技術會議。", passage) == []
    assert _missing("The budget was 5 million dollars.", passage) == []
    assert _missing("The budget was 50 million dollars.", passage) == ["5e+07"]
    assert _missing("More than 30 meetings were held.", passage) == ["30"]
    assert facts_of("百分之七十的經濟體").numbers == {70.0}
    assert facts_of("一系列會議之一").numbers == frozenset()  # 一 alone is no number


def test_a_number_inside_a_name_is_part_of_the_name() -> None:
    facts = facts_of("SOM3 was held; COVID-19 was discussed.")
    assert facts.numbers == frozenset()
    assert "SOM3" in facts.names and "COVID-19" in facts.names


def test_a_possessive_name_is_the_name() -> None:
    assert latin_names("Antigone's father is Oedipus.") == ["Antigone", "Oedipus"]
    assert latin_names("The University of Chicago’s rate fell.") == ["University of Chicago"]
    assert latin_names("He studied at King's College London.") == ["King's College London"]
    passage = "In the play Antigone, one of the daughters of Oedipus, defies Creon."
    assert _missing("Antigone's father is Oedipus.", passage) == []
    assert _missing("Ismene's father is Oedipus.", passage) == ["Ismene"]


def test_latin_names_leave_out_sentence_starts_and_months() -> None:
    assert latin_names("The summit is at the Moscone Center in November.") == ["Moscone Center"]
    assert latin_names("During SOM3, Chinese Taipei spoke.") == ["SOM3", "Chinese Taipei"]
    assert latin_names("National Center for APEC will host it.") == ["National Center for APEC"]


def test_a_common_word_opening_a_sentence_is_no_name() -> None:
    # CC-CEDICT gives "strong", "improve", "national" as senses, never as names
    assert latin_names("Strong supply chain resilience.") == []
    assert latin_names("Improving anti-corruption effectiveness") == []
    assert latin_names("China proposed it.") == ["China"]  # 中国: a name too
    assert latin_names("National Center for APEC will host it.") == ["National Center for APEC"]
    assert latin_names("Seattle hosted SOM3.") == ["Seattle", "SOM3"]


def test_names_are_found_as_written_or_through_the_glossary() -> None:
    leaders = evidence_of(LEADERS)
    som3 = evidence_of(SOM3)
    assert name_found("Moscone Center", leaders, GLOSSARY)  # the bracketed English
    assert name_found("APEC CEO Summit", leaders, GLOSSARY)
    assert name_found("San Francisco", leaders, GLOSSARY)  # 舊金山 through the glossary
    assert name_found("Seattle", som3, GLOSSARY)  # one word of the sense "Seattle, Washington"
    assert not name_found("Seattle", leaders, GLOSSARY)
    assert not name_found("Moscow Convergence Center", leaders, GLOSSARY)
    assert not name_found("Thailand", leaders, GLOSSARY)
    seattle = evidence_of("數位城市(digital cities)會議於西雅圖(Seattle, Washington)召開。")
    assert name_found("Washington", seattle, GLOSSARY)
    assert not name_found("Washington, D.C.", seattle, GLOSSARY)  # no word "d" or "c"
    capital = GLOSSARY | {"washington d c": ["華盛頓"]}  # a sense whose Chinese is there
    assert not name_found("Washington, D.C.", evidence_of("美國華盛頓州西雅圖市"), capital)


def test_a_name_inside_a_longer_name_the_passage_glosses_is_not_found() -> None:
    glossary = GLOSSARY | {"moscow": ["莫斯科"], "business": ["企业"], "summit": ["高峰会"]}
    leaders = evidence_of(LEADERS)  # 於舊金山的莫斯科康會議中心(Moscone Center)
    assert not name_found("Moscow", leaders, glossary)  # 莫斯科 only inside 莫斯科康會議中心
    assert not name_found("Moscow Conference Center", leaders, glossary)
    assert name_found("San Francisco", leaders, glossary)  # before 的: not what is glossed
    assert name_found("Moscow", evidence_of("會議在莫斯科(Moscow)舉行。"), glossary)
    assert name_found("Moscow", evidence_of("會議在莫斯科舉行。"), glossary)  # no gloss to go by
    # a common word inside a glossed name is still found: 企業 of 企業領袖高峰會(APEC CEO Summit)
    assert name_found("Business Summit", leaders, glossary)



def test_a_name_made_of_an_adjective_is_found_through_its_noun() -> None:
    glossary = {"energy": ["能源"], "minister": ["部长"], "meeting": ["会议"]}
    energy = evidence_of("能源部長會議探討研訂新的能源目標。")
    assert name_found("Energy Ministerial Meeting", energy, glossary)
    assert not name_found("Energy Ministerial Committee", energy, glossary)

def test_chinese_entities_are_compared_in_one_script() -> None:
    assert _missing("會議在西雅圖召開。", SOM3) == []
    assert _missing("会议在西雅图召开。", SOM3) == []  # Simplified against Traditional
    assert _missing("會議在舊金山召開。", SOM3) == ["旧金山"]


def test_chinese_entities_are_found_in_english_by_their_dictionary_names() -> None:
    smog = "The 1952 London smog killed at least 4,000 people in the United States' ally."
    assert _missing("1952年倫敦煙霧事件造成至少4000人死亡。", smog) == []
    assert _missing("1952年巴黎煙霧事件造成至少4000人死亡。", smog) == ["巴黎"]
    assert _missing("美國的盟友", "Its use was usual.") == ["美国"]  # "us" only as a word
