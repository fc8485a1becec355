"""What kind of answer a question asks for, and whether a sentence holds one.

"When", "how many" and "where" questions ask for a date, a count or a place ("how
much money", "how many people", "which year" and "what share" for a sum, a head count,
a year, a percentage); "who wrote this" asks for a byline, "who chaired" for a
sentence saying who chairs, "what did Biden say" for reported words, "what was the
outcome" or "what recommendations" for a decision or finding, and a question that
names a number of things ("哪六個", "the three priorities") for a list of them. A
sentence that answers one holds such an expression: "將於11月15日至17日", "超過40場",
"於舊金山的莫斯科康會議中心", "70%", "表示", "達成共識", or a list. The answerer
prefers sentences that hold the kind of answer asked for, and declines when none of
the sentences it would quote does: a passage about the food security ministers'
meeting that gives no date does not answer "糧食安全部長會議是哪一天召開的？", and
one saying that Biden is to give a speech does not say what he said. Sentences about
another of a numbered series than the question's (SOM3 for SOM1) do not answer it either.
"""

from __future__ import annotations

import re
from typing import Literal

from rag.lexical import tag

AnswerKind = Literal[
    "author",
    "chair",
    "money",
    "people",
    "year",
    "date",
    "share",
    "count",
    "place",
    "statement",
    "outcome",
    "items",
]

# Checked in this order: the first kind a question matches is the one it asks for.
_ASKS: dict[AnswerKind, re.Pattern[str]] = {
    "author": re.compile(
        r"誰寫|谁写|作者是|(?:撰寫|撰写)(?:者|人)|\bwho (?:wrote|authored)\b|\bthe author\b", re.I
    ),
    "chair": re.compile(  # who chairs or chaired a meeting
        r"主席|主持|(?:誰|谁)(?:擔任|担任)"
        r"|\bwho (?:will )?(?:chair|chaired|chairs|presided|presides|headed)\b"
        r"|\bchair(?:ed|s|man|woman|person)?\b",
        re.I,
    ),
    "money": re.compile(
        r"多少錢|多少钱|經費|经费|預算|预算|花了多少|\bhow much (?:money|did|does|will)\b"
        r"|\b(?:cost|budget|spend|spent|funding)\b",
        re.I,
    ),
    "people": re.compile(
        r"多少(?:個人|个人|人|位|名)|(?<!第)[幾几](?:個人|个人|人|位|名)"
        r"|\bhow many (?:people|participants|attendees|delegates)\b",
        re.I,
    ),
    "year": re.compile(r"哪一?年|\b(?:what|which) year\b|\bin what year\b", re.I),
    "date": re.compile(
        r"什麼時候|什么时候|何時|何时|哪一?天|哪一?日|幾號|几号|幾月|几月|日期|多久|多長時間|多长时间"
        r"|^\W*(?:\w+\W+){0,3}?when\b|\bhow long (?:ago|did|does|do|has|have|had|will|was|were)\b"
        r"|\b(?:what|which)\s+(?:date|day|month|time|century|period)\b",
        re.I,
    ),
    "share": re.compile(
        r"多少比例|百分之幾|百分之几|\bwhat (?:percentage|proportion|share)\b", re.I
    ),
    "count": re.compile(
        r"多少|(?<!哪)[幾几](?:個|个|場|场|項|项|家|國|国|次|種|种|大)"
        r"|\bhow (?:many|much)\b|\bnumber of\b",
        re.I,
    ),
    "place": re.compile(
        # not "聚焦在哪些議題上" nor "重點放在哪裡" (on which topics)
        r"(?<!放在)(?:哪裡|哪里|哪兒|哪儿)|(?<!放)在哪(?!些)"
        r"|哪[個个座]?(?:城市|州|國家|国家|地方|場地|场地|地點|地点)"
        r"|哪(?:些|[幾几一]?[個个])?(?:會員)?(?:經濟體|经济体)"  # economies are named by place
        r"|\bwhere\b|\b(?:which|what)\s+(?:city|state|country|countries|econom(?:y|ies)"
        r"|venue|place|location)\b",
        re.I,
    ),
    "statement": re.compile(  # what someone said
        r"(?<!文章|文件|報告|报告|本文|作者|全文)(?:說|说|講|讲)了?(?:什麼|什么|哪些)"
        r"|(?:演講|演讲|講話|讲话|致詞|致词)的?(?:內容|内容)"
        # not what a text says ("What does the energy ministers' target say?")
        r"|\bwhat (?:did|does|will) (?!(?:the|this) (?:article|document|text|report|author)\b)"
        r"(?:(?!\b(?:targets?|goals?|reports?|agendas?|plans?|principles?|documents?|roadmaps?"
        r"|blueprints?|rules?|declarations?|statements?|texts?|articles?)\b)[\w' ]){1,40}"
        r"\b(?:say|tell)\b|\bwhat was said\b",
        re.I,
    ),
    "outcome": re.compile(
        r"結論|结论|(?:通過|通过|達成|达成|產出|产出|簽署|签署)了?(?:什麼|什么|哪)"
        r"|(?:什麼|什么|哪些|哪項|哪项)(?:具體|具体)?的?(?:建議|建议)"
        r"|\b(?:outcomes?|conclusions?|results? of|recommendations?)\b",
        re.I,
    ),
    "items": re.compile(  # "哪六個", "三大優先領域是什麼", "the six focus areas"
        r"(?<![第\d])(?:[2-9]|[二兩两三四五六七八九十])\s*(?:大|項|项|個|个|份|條|条|種|种)"
        r"|\b(?:two|three|four|five|six|seven|eight|nine|ten)\s+[a-z]",
        re.I,
    ),
}

_NUMERAL = r"(?:\d+(?:[.,]\d+)?|[一二兩两三四五六七八九十百千萬万億亿]+)"
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_NUMBER_WORDS = (  # English numbers in words: "forty-two", "six million"
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|\w+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen)(?:-\w+)?"
    r"(?:\s+(?:hundred|thousand|million|billion))?"
)
_WORDS = rf"(?:\d+(?:[.,]\d+)?(?:\s+(?:hundred|thousand|million|billion))?|{_NUMBER_WORDS})"
_HOLDS: dict[AnswerKind, re.Pattern[str]] = {
    "author": re.compile(r"作者|記者|记者|撰文|文[／/]|研究員|研究员|\b[Bb]y [A-Z][a-z]+"),
    "chair": re.compile(r"主席|主持|擔任|担任|\bchair|\bpresid(?:ed|es|ing)\b|\bled by\b", re.I),
    "money": re.compile(
        rf"{_NUMERAL}\s*(?:[萬万億亿]?(?:元|美元|美金|圓))|[$＄]\s*\d"
        rf"|\b{_WORDS}\s+(?:dollars|euros|pounds|yuan|yen|USD)\b",
        re.I,
    ),
    "people": re.compile(
        rf"{_NUMERAL}\s*(?:人|名|位)|\b{_WORDS}\s+(?:\w+\s+)?(?:people|participants|delegates"
        r"|members|farmers|attendees|visitors)\b",
        re.I,
    ),
    "year": re.compile(
        r"\d{1,4}\s*年|[〇零一二三四五六七八九十百千]+年|\b\d{3,4}\b|\b(?:BC|AD|BCE|CE)\b"
        r"|(?:世紀|世纪|年代|century|centuries)"
    ),
    "date": re.compile(
        rf"{_NUMERAL}\s*(?:月|日|號|号|週|周|星期|天)|\b(?:{_MONTHS})\b"
        r"|\b\d+\s*(?:days?|weeks?|months?)\b",
        re.I,
    ),
    "share": re.compile(r"\d+(?:\.\d+)?\s*(?:[%％]|percent\b)|百分之|[一二兩两三四五六七八九]成"),
    "count": re.compile(  # not a share, a year ("2023 APEC…") or in a name ("SOM3", "COVID-19")
        r"(?<![A-Za-z\d.])(?<![A-Za-z]-)(?!(?:19|20)\d\d(?![\d.]))\d+(?:\.\d+)?(?!\s*[年月日號号\d/.,%％])"
        r"|(?<![第一二兩两三四五六七八九十百千萬万億亿])"  # nor an ordinal ("第三次")
        r"[一二兩两三四五六七八九十百千萬万億亿]+\s*[個个場场項项位名家國国次種种大份週周倍成]"
        rf"|\b{_NUMBER_WORDS}\b",
        re.I,
    ),
    "place": re.compile(
        r"會議中心|会议中心|飯店|饭店|會場|会场"
        r"|\b(?:in|at|of|from|near|on|to)\s+(?:the\s+)?[A-Z][a-z]+"
    ),
    "statement": re.compile(  # reported speech; 演說 (a speech) is not
        r"表示|指出|強調|强调|宣布|宣佈|提到|呼籲|呼吁|(?<!演)(?:說|说)(?!明)|[：:]\s*[「“\"]"
        r"|\b(?:said|says|stated|told|announced|noted|stressed|urged|declared)\b",
        re.I,
    ),
    "outcome": re.compile(  # a decision, an agreement, a finding
        r"通過|通过|達成|达成|產出|产出|發表(?!演)|发表(?!演)|簽署|签署|同意|共識|共识|決定|决定|結論|结论"
        r"|建議|建议|\brecommend"
        r"|顯示|显示|\b(?:agreed|adopted|concluded|decided|signed|issued|endorsed|approved"
        r"|found|showed|resulted)\b",
        re.I,
    ),
}


# A name: a short quoted title with no clause punctuation, or bracketed words that start
# with capitals ("(2023 APEC Multistakeholder Forum)", not "(held in 1989)" or "(1989)").
_NAME = re.compile(
    r"[「『“\"][^「」『』“”\"，。！？,.!?]{1,40}[」』”\"]"
    r"|[(（](?=[^()（）]*[A-Z])(?:[\dA-Z][\w.&'’-]*[\s,]*)+[)）]"
)


def _enumerated(text: str) -> int:
    """How many things ``text`` lists: lines, quoted names, or parts between 、 or commas."""
    lines = len([line for line in text.splitlines() if line.strip()])
    quoted = len(re.findall(r"「[^」]+」|“[^”]+”", text))
    listed = text.count("、") + 1
    commas = text.count(",") + 1 if re.search(r"\b(?:and|or)\b", text) else 1
    return max(lines, quoted, listed, commas)


def asked_kind(question: str) -> AnswerKind | None:
    """The kind of answer ``question`` asks for: a sum of money, a number of people, a
    year, a date or duration, another count, or a place; None for any other question."""
    for kind, pattern in _ASKS.items():
        if pattern.search(question):
            return kind
    return None


def holds(sentence: str, kind: AnswerKind) -> bool:
    """Does ``sentence`` hold an expression of that kind (a sum, a date, a place, …)?

    A number inside a quoted or bracketed name («「2023 APEC多方利害關係人論壇」»)
    is part of the name: it says nothing about when, how many or how much.
    """
    if kind == "items":
        return _enumerated(sentence) >= 2
    if kind != "place":
        sentence = _NAME.sub(" ", sentence)
    if _HOLDS[kind].search(sentence):
        return True
    if kind == "date" and _HOLDS["year"].search(sentence):  # "when?" "In 1206."
        return True
    if kind == "place":  # a place name, as jieba tags them (西雅图, 旧金山)
        return any(flag == "ns" for _, flag in tag(sentence))
    if kind == "author":  # a byline: a short line, no clauses, with a person's name (王薊暄)
        if len(sentence) > 40 or re.search(r"[，。；！？,;!?]", sentence.strip()[:-1]):
            return False
        return any(flag == "nr" for _, flag in tag(sentence))
    return False


_SERIES_NUMBER = r"\d+|[一二三四五六七八九十]+"
_SERIES = re.compile(  # a numbered name: SOM1, 第三次, 第2屆 as (prefix, number, suffix)
    r"(?<![A-Za-z])([A-Za-z]{2,})(\d{1,2})()(?!\d)"
    rf"|(第)({_SERIES_NUMBER})([次屆届])"
)


def another_of_series(question: str, quoted: str) -> str | None:
    """A numbered name in ``quoted`` of the same series as one in ``question`` when the
    question's own is missing there: the sentences that would answer "SOM1是在哪个城市
    召开的？" are about SOM3 (or 第三次 for 第一次), so they do not answer it."""
    for match in _SERIES.finditer(question):
        prefix, number, suffix = (g for g in match.groups() if g is not None)
        lead = r"(?<![A-Za-z])" if prefix.isascii() else ""
        series = re.compile(
            rf"{lead}{re.escape(prefix)}({_SERIES_NUMBER}){re.escape(suffix)}", re.I
        )
        numbers = {_number_value(n): n for n in series.findall(quoted)}
        if numbers and _number_value(number) not in numbers:
            return f"{prefix}{next(iter(numbers.values()))}{suffix}"
    return None


def _number_value(number: str) -> str:
    """A number of a series as digits: "三" and "3" are the same, so are "十二" and "12"."""
    digits = "一二三四五六七八九"
    if not number or number.isascii():
        return number.lower()
    if "十" not in number:
        return "".join(str(digits.index(c) + 1) if c in digits else c for c in number)
    tens, _, ones = number.partition("十")
    value = (digits.index(tens) + 1 if tens in digits and tens else 1) * 10
    return str(value + (digits.index(ones) + 1 if ones and ones in digits else 0))
