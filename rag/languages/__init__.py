"""What the assistant knows of each language, in one place: one module a language
(:mod:`rag.languages.zh`, :mod:`rag.languages.en`), compiled here into what the other
modules use.

Words and patterns that frame a question (not what it is about): stop words, how a
follow-up points back, which words only ask, a greeting, a question about the document
itself, how a question asks for a kind of answer and what a sentence holding one says.
Chinese patterns match both scripts; English ones are case-insensitive unless a kind's
pattern depends on capitals (a place, a byline).
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from rag.languages import en, zh
from rag.languages.en import roman_value, stem, without_possessive
from rag.languages.zh import numeral as chinese_numeral

__all__ = [
    "ABOUT_THE_DOCUMENT",
    "ACRONYM",
    "ANSWER_KIND_NOUNS",
    "ASKS",
    "CHINESE_FRAME",
    "DECADE",
    "ENGLISH_FRAME_WORDS",
    "FOLLOW_UP",
    "GLOSS_BREAKS",
    "GREETING",
    "HAN",
    "HOLDS",
    "KINDS",
    "LIGHT_VERBS",
    "NEGATION",
    "NUMBER",
    "ORDINAL",
    "ORDINAL_WORDS",
    "PLACE_CLASSES",
    "QUESTION_WORDS",
    "STOP_WORDS",
    "SUMMARY",
    "THANKS",
    "YEAR",
    "YEAR_SPAN",
    "AnswerKind",
    "chinese_numeral",
    "roman_value",
    "stem",
    "without_possessive",
]

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
"""A Chinese (Han) character."""

NUMBER = re.compile(r"\d+(?:\.\d+)?")
ACRONYM = re.compile(r"\b[A-Z][A-Z\d]{1,9}\b")

PLACE_CLASSES = en.PLACE_CLASSES
"""The kind of place an English geographic name ends in ("Pacific Ocean"), lower case."""

STOP_WORDS = zh.STOP_WORDS | en.STOP_WORDS
"""Words too common to search for (normalised: Simplified, lower case)."""

QUESTION_WORDS = zh.QUESTION_WORDS | en.QUESTION_WORDS
"""What is left of a question such as "那是誰？" or "How many?" once stop words are out:
words that ask, not words that name (normalised, Simplified)."""

GLOSS_BREAKS = zh.GLOSS_BREAKS
"""What ends the Chinese name an English gloss in brackets follows (的 in 於舊金山的莫斯科康
會議中心(Moscone Center)), normalised."""

ANSWER_KIND_NOUNS = zh.ANSWER_KIND_NOUNS
"""Chinese nouns that name the kind of answer asked for (名字, 原因), not a topic."""

FOLLOW_UP = re.compile(f"{zh.POINTS_BACK}|{en.POINTS_BACK}", re.I)
"""A question that points back to the conversation ("那什麼時候？", "Who will speak there?")."""

FOOTNOTE_MARK = re.compile(
    rf"(?:\[(?:\d{{1,3}}|[a-z]{{1,2}}|(?i:{en.FOOTNOTE_WORDS})|{zh.FOOTNOTE_WORDS})\])+(?![(\[])"
)
"""A run of footnote marks as Wikipedia pages carry them ("[12]", "[2][3]", "[a]",
"[citation needed]", "[來源請求]"); cleaning drops them where they follow a word or a stop."""

_CLOSING = r"[\s!！。.,，~～?？呀啊哦喔啦]*"
GREETING = re.compile(rf"(?:{zh.GREETING}|{en.GREETING}){_CLOSING}", re.I)
"""A question that is only a greeting."""
THANKS = re.compile(rf"(?:{zh.THANKS}|{en.THANKS}){_CLOSING}", re.I)
"""A question that is only thanks."""

ABOUT_THE_DOCUMENT = re.compile(f"{en.ABOUT_THE_DOCUMENT}|{zh.ABOUT_THE_DOCUMENT}", re.I)
"""A question about the document itself: who wrote it, what it is about."""

SUMMARY = re.compile(f"{en.SUMMARY}|{zh.SUMMARY}", re.I)
"""Of the questions about the document, one asking what it says (with ABOUT_THE_DOCUMENT)."""

NEGATION = re.compile(f"{zh.NEGATION}|{en.NEGATION}", re.I)
"""A word that denies what its sentence says ("未獲", "not"), in either language."""

ORDINAL = re.compile(
    rf"\b({'|'.join(en.ORDINALS)}|\d{{1,3}}(?:st|nd|rd|th))\s+([A-Za-z][\w-]*)", re.I
)
"""An English ordinal and the word after it ("second Prime", "12th king"): one of a series."""
ORDINAL_WORDS = en.ORDINALS

_YEAR = r"(?<![\d,.])(1\d{3}|20\d\d)"
YEAR_SPAN = re.compile(
    rf"{_YEAR}(?:{zh.YEAR_AFTER})?\s*(?:{zh.YEARS_TO}|{en.YEARS_TO})\s*{_YEAR}(?!\d|,\d)", re.I
)
"""Two years and the time between them ("1955–1997", "1955 until 1997", "1955年至1997年")."""
DECADE = re.compile(rf"(?<![\d,.])(1\d\d0|20\d0)(?:{en.DECADE_AFTER}|{zh.DECADE_AFTER})")
"""A decade ("the 1990s", "1990年代")."""
YEAR = re.compile(rf"(?:{en.YEAR_BEFORE}){_YEAR}(?!\d|,\d|s\b)|{_YEAR}(?={zh.YEAR_AFTER})", re.I)
"""A year written as one ("in 2009", "the 2013 election", "2009年"), not a count: one of
its two groups holds the year."""

CHINESE_FRAME = re.compile(zh.FRAME)
ENGLISH_FRAME_WORDS = en.FRAME_WORDS
LIGHT_VERBS = en.LIGHT_VERBS

# a full stop that ends no sentence: after an initial or a known abbreviation ("S.",
# "Dr."), or before a word in lower case ("e.g. the")
NOT_A_STOP = re.compile(rf"(?:\b[A-Z]|\b(?i:{'|'.join(sorted(en.ABBREVIATIONS))}))\.$")
"""Words that frame a question in either language, whatever names it holds."""

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
"""The kinds of answer a question can ask for (rag.answer_types), in the order tried."""
KINDS: tuple[AnswerKind, ...] = get_args(AnswerKind)

# what a sentence holding a kind says, whatever its language: a number as digits
_DIGITS: dict[str, str] = {
    "money": r"[$＄]\s*\d",
    "year": r"\b\d{3,4}\b",
    "share": r"\d+(?:\.\d+)?\s*[%％]",
    # not a share, a year ("2023 APEC…") or in a name ("SOM3", "COVID-19")
    "count": r"(?<![A-Za-z\d.])(?<![A-Za-z]-)(?!(?:19|20)\d\d(?![\d.]))\d+(?:\.\d+)?"
    r"(?!\s*[年月日號号\d/.,%％])",
}
# kinds whose sentence patterns depend on letter case ("in Seattle", "By Wang")
_CASED = frozenset({"author", "year", "share", "place"})


def _joined(*parts: str | None) -> str:
    return "|".join(f"(?:{p})" for p in parts if p)


ASKS: dict[AnswerKind, re.Pattern[str]] = {
    kind: re.compile(_joined(zh.ASKS[kind], en.ASKS[kind]), re.I) for kind in KINDS
}
"""How a question asks for each kind of answer, in the order kinds are tried."""

HOLDS: dict[AnswerKind, re.Pattern[str]] = {
    kind: re.compile(
        _joined(zh.HOLDS[kind], en.HOLDS[kind], _DIGITS.get(kind)),
        0 if kind in _CASED else re.I,
    )
    for kind in KINDS
    if kind in zh.HOLDS
}
"""What a sentence holding each kind of answer says (not "items": a list is counted)."""
