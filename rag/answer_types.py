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
another of a numbered series than the question's (SOM3 for SOM1, the first Prime Minister
for the second), or about another year (2010 for 2009), do not answer it either.
"""

from __future__ import annotations

import re

from rag.languages import ASKS, DECADE, HOLDS, ORDINAL, ORDINAL_WORDS, YEAR, YEAR_SPAN, AnswerKind
from rag.lexical import tag

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


# kinds a question asks one of: a second sentence holding another date for "when" gives
# another event's date, not more of the answer (a list or an outcome may take several)
ONE_VALUE: frozenset[AnswerKind] = frozenset(
    ("money", "people", "year", "date", "share", "count", "place", "chair")
)


def asked_kind(question: str) -> AnswerKind | None:
    """The kind of answer ``question`` asks for: a sum of money, a number of people, a
    year, a date or duration, another count, or a place; None for any other question."""
    for kind, pattern in ASKS.items():
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
    if HOLDS[kind].search(sentence):
        return True
    if kind == "date" and HOLDS["year"].search(sentence):  # "when?" "In 1206."
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
    召开的？" are about SOM3 (or 第三次 for 第一次, "13th king" for "12th king"), so they do
    not answer it."""
    for match in _SERIES.finditer(question):
        prefix, number, suffix = (g for g in match.groups() if g is not None)
        lead = r"(?<![A-Za-z])" if prefix.isascii() else ""
        series = re.compile(
            rf"{lead}{re.escape(prefix)}({_SERIES_NUMBER}){re.escape(suffix)}", re.I
        )
        numbers = {_number_value(n): n for n in series.findall(quoted)}
        if numbers and _number_value(number) not in numbers:
            return f"{prefix}{next(iter(numbers.values()))}{suffix}"
    for ordinal, word in ORDINAL.findall(question):  # "the 12th king": "the 13th king"
        held = {_ordinal(o): o for o, w in ORDINAL.findall(quoted) if w.lower() == word.lower()}
        if held and _ordinal(ordinal) not in held:
            return f"{next(iter(held.values()))} {word}"
    return None


def _ordinal(ordinal: str) -> int:
    """The number of an English ordinal: "second" and "2nd" are 2."""
    word = ordinal.lower()
    return ORDINAL_WORDS.index(word) + 1 if word in ORDINAL_WORDS else int(word[:-2])


def another_year(question: str, quoted: str) -> str | None:
    """A year ``quoted`` names when it names none of the years ``question`` asks about
    (a span or a decade holds the years in it): "How many visitors did the zoo have in
    2009?" is not answered by "In 2010 the zoo had 1.6 million visitors."
    """
    asked, held = _years(question), _years(quoted)
    if not asked or not held:
        return None
    if any(a <= d and c <= b for a, b in asked for c, d in held):
        return None
    return str(held[0][0])


def _years(text: str) -> list[tuple[int, int]]:
    """The years ``text`` names, each as (first, last): spans, decades and single years."""
    spans = [(int(a), int(b)) for a, b in YEAR_SPAN.findall(text)]
    decades = [(int(d), int(d) + 9) for d in DECADE.findall(text)]
    return spans + decades + [(int(a or b), int(a or b)) for a, b in YEAR.findall(text)]


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
