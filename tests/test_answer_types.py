"""Answer kinds: what a question asks for, and whether a sentence holds it."""

from __future__ import annotations

import pytest

from rag.answer_types import another_of_series, another_year, asked_kind, holds


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("APEC經濟領袖會議什麼時候舉行？", "date"),
        ("西雅图会议开了多久？", "date"),
        ("When is the leaders' meeting?", "date"),
        ("APEC是哪一年成立的？", "year"),
        ("In what year was APEC founded?", "year"),
        ("數位月辦了幾場技術會議？", "count"),
        ("How many workshops were held?", "count"),
        ("西雅图这次会议一共有多少人参加？", "people"),
        ("數位月的預算總共多少錢？", "money"),
        ("How much money was spent on digital month?", "money"),
        ("領袖會議在哪裡舉行？", "place"),
        ("SOM1是在哪个城市召开的？", "place"),
        ("卫生与经济高阶会议聚焦在哪些议题上？", None),  # on which topics, not where
        ("对话会议把讨论重点放在哪里？", None),
        ("這篇文章是誰寫的？", "author"),
        ("Who wrote this article?", "author"),
        ("Where will the CEO Summit be held?", "place"),
        ("是哪幾個經濟體反對這個目標？", "place"),  # named by place, not "how many"
        ("Which economy will host APEC next year?", "place"),
        ("APEC有幾個會員經濟體？", "count"),
        ("糧食安全部長會議通過了什麼原則？", "outcome"),
        ("拜登在高峰會的演講講了什麼？", "statement"),
        ("What did Biden say in his speech?", "statement"),
        ("What does the energy ministers' target say?", None),  # what a text says
        ("What did the ministers' joint statement say?", None),
        ("What does the article say about Seattle?", None),  # about the text itself
        ("這篇文章說了什麼？", None),
        ("聽說拜登會上台致詞，是哪一個活動？", None),  # which event, not what was said
        ("What was the outcome of the leaders' meeting?", "outcome"),
        ("災害管理論壇最後通過了哪份文件？", "outcome"),
        ("能源目標要讓多少比例的電力來自無碳來源？", "share"),
        ("是哪些經濟體反對了70%的電力目標？", "place"),  # names a share, asks for economies
        ("會議有多少位代表出席？", "people"),
        ("经济政策报告的主要结论是什么？", "outcome"),
        ("灣區議程的六大執行領域是哪六個？", "items"),
        ("糧食安全的4項原則內容分別是什麼？", "items"),
        ("What are the three priorities of the US APEC year?", "items"),
        ("糧食安全部長會議通過了哪一份原則文件？", "outcome"),  # one thing: no list
        ("第三次资深官员会议是由谁担任主席的？", "chair"),
        ("Which US official chaired the third Senior Officials' Meeting?", "chair"),
        ("Who will chair next year's meetings?", "chair"),
        ("What recommendations did the steering committee issue?", "outcome"),
        ("衛生會議提出了哪些具體建議？", "outcome"),
    ],
)
def test_asked_kind(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    ("sentence", "kind", "expected"),
    [
        ("領袖會議將於11月15日至17日舉行。", "date", True),
        ("本次資深官員會議持續逾三週進行。", "date", True),
        ("The summit runs from November 14 to 16.", "date", True),
        ("美國將在舊金山舉辦「2023 APEC多方利害關係人論壇」。", "date", False),
        # a number in a quoted or bracketed name is part of the name
        ("美國將在舊金山舉辦「2023 APEC多方利害關係人論壇」。", "year", False),
        ("the forum (2023 APEC Multistakeholder Forum) opens", "year", False),
        ("APEC was founded in Canberra (1989).", "year", True),
        ("他表示：「論壇將於2023年舉行，歡迎參加」", "year", True),  # a quote, not a name
        ("舉行超過40場技術會議。", "count", True),
        ("將APEC區域70%的電力由無碳來源發電。", "count", False),  # a share is no count
        ("將APEC區域70%的電力由無碳來源發電。", "share", True),
        ("about 40 percent of power", "share", True),
        ("2023年APEC第三次資深官員大會。", "count", False),  # an ordinal is no count
        ("(the third Senior Officials' Meeting, SOM3)", "count", False),  # nor a name
        ("因應未來如COVID-19等大規模疫情", "count", False),
        ("2023 APEC Multistakeholder Forum", "count", False),  # nor a year
        ("發展4項主要原則。", "count", True),
        ("about twelve economies", "count", True),
        ("2023年於西雅圖召開。", "count", False),  # a year is no count
        ("西雅圖是美國最具活力的科技中心之一。", "count", False),  # 之一 is no count
        ("「灣區議程」著重於下列六大領域。", "count", True),
        ("第一胎平均為13小時。", "date", True),  # how long: a length of time
        ("有性生殖在十億年前就已出現。", "date", True),  # how long ago
        ("早在八千多年前，淮河兩岸就出現了農業。", "date", True),
        ("Labour lasts about thirteen hours on average.", "date", True),
        ("The choir has thirteen singers.", "date", False),
        ("夜裡10點至翌日凌晨6點間", "date", True),  # a time of day
        ("The museum opens at 9 a.m.", "date", True),
        ("該館擁有的標本約七千萬件。", "count", True),
        ("raised a corps of 150,000 black slaves", "people", True),
        ("共有300名代表出席。", "people", True),
        ("舉行超過40場技術會議。", "people", False),
        ("預算為500萬美元。", "money", True),
        ("舉行超過40場技術會議。", "money", False),
        ("於舊金山的莫斯科康會議中心隆重舉行。", "place", True),
        ("The leaders will meet in San Francisco.", "place", True),
        ("經濟體通過了糧食安全原則。", "place", False),
        ("APEC研究中心助理研究員 王薊暄", "author", True),  # a byline
        ("記者 陳小明 報導", "author", True),
        ("美國總統喬·拜登預計將出席高峰會發表演說，並與各經濟體領袖會談。", "author", False),
        ("拜登預計將出席高峰會發表演說。", "statement", False),  # a speech, not its words
        ("拜登表示：「供應鏈必須更有韌性。」", "statement", True),
        ("Biden said supply chains must be resilient.", "statement", True),
        ("拜登預計將出席高峰會發表演說。", "outcome", False),
        ("惜該目標未獲所有經濟體的共識。", "outcome", True),
        ("The ministers adopted four principles.", "outcome", True),
        ("專業部長會議所達成的建議將提交經濟領袖會議參考。", "outcome", True),
        ("會議聚焦於永續健康融資、大流行整備等議題。", "outcome", False),
        ("2023年第三次資深官員大會於美國華盛頓州西雅圖市召開。", "chair", False),
        ("會議由美國資深官員擔任主席。", "chair", True),
        ("The meeting was chaired by Matt Murray.", "chair", True),
        ("對應三大優先領域「互連」、「創新」與「包容」。", "items", True),
        ("著重於下列六大領域的執行工作：\n強化供應鏈韌性\n提升反貪腐成效", "items", True),
        ("priorities: connectivity, innovation and inclusion", "items", True),
        ("通過了「糧食安全原則」，發展4項主要原則。", "items", False),
    ],
)
def test_holds(sentence: str, kind: str, expected: bool) -> None:
    assert holds(sentence, kind) is expected  # type: ignore[arg-type]


def test_another_of_series_finds_sentences_about_a_sibling() -> None:
    quoted = "2023年APEC第三次資深官員大會(the third Senior Officials' Meeting, SOM3)召開。"
    assert another_of_series("SOM1是在哪个城市召开的？", quoted) == "SOM3"
    assert another_of_series("第二次資深官員會議在哪裡？", quoted) == "第三次"
    assert another_of_series("Where was SOM3 held?", quoted) is None
    assert another_of_series("第3次資深官員會議在哪裡？", quoted) is None  # 3 is 三
    assert another_of_series("What did the APEC meeting decide?", quoted) is None
    # English ordinals name one of a series too
    first = "Fiame became Samoa's first Prime Minister in 1959."
    assert another_of_series("Who was Samoa's second Prime Minister?", first) == "first Prime"
    assert another_of_series("Who was Samoa's 1st Prime Minister?", first) is None
    kish = "Etana, 13th king of the first dynasty of Kish."
    assert another_of_series("Who was the 12th king of the first dynasty?", kish) == "13th king"
    assert another_of_series("Who was the thirteenth king?", kish) is None
    assert another_of_series("Who was the second king?", "The second album sold well.") is None


@pytest.mark.parametrize(
    ("question", "quoted", "other"),
    [
        ("How many visitors did the zoo have in 2009?", "In 2010 the zoo had 1.6 million.", "2010"),
        ("How many visitors did the zoo have in 2009?", "In 2009, the zoo had 1.6 million.", None),
        ("What did Rahmon get in the 2013 election?", "He came to power in 1992, after…", "1992"),
        ("2009年動物園有多少訪客？", "2010年動物園有160萬名訪客。", "2010"),
        ("2009年動物園有多少訪客？", "2009年，動物園有160萬名訪客。", None),
        # a span or a decade holds the years in it
        ("What was the population in the 1990 census?", "From 1955 until 1997 it grew.", None),
        ("人口在1990年是多少？", "1955年至1997年間人口增加。", None),
        ("What happened in 1995?", "In the 1990s the city grew.", None),
        # a count is no year; a question or a sentence naming no year says nothing
        ("How many visitors came in 2009?", "It had 1600 visitors.", None),
        ("How many visitors came?", "In 2010 it had 1600 visitors.", None),
        ("When was the zoo founded in 1865?", "The zoo is large.", None),
    ],
)
def test_another_year_finds_sentences_about_another_year(
    question: str, quoted: str, other: str | None
) -> None:
    assert another_year(question, quoted) == other


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When did Genghis Khan become Great Khan?", "date"),
        ("What path does a ball take when seen by an outside observer?", None),
        ("How long ago were the islands discovered?", "date"),
        ("普魯士的義務教育制度在哪一年開始?", "year"),
        ("裕仁天皇和香淳皇后的第五個孩子是誰?", None),
        ("本篤十六世是第幾位德國籍的教宗?", None),
    ],
)
def test_the_kind_asked_on_any_documents(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("In 1206 he was proclaimed Genghis Khan.", "date"),
        ("腓特烈·威廉一世於1717年頒布法令。", "year"),
        ("祭遵於建武九年（33年）去世。", "year"),
        ("The Tories regained power in 1760.", "year"),
        ("Non-avian dinosaurs died out 66 million years ago.", "date"),
        ("Support for the opposition peaked in the 1920s.", "date"),
        ("The idea came from Halford Mackinder of Britain.", "place"),
    ],
)
def test_any_era_and_place_is_held(sentence: str, kind: str) -> None:
    assert holds(sentence, kind)
