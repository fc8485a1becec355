"""The checkable facts of a sentence: numbers, dates, Latin-script names, Chinese entities.

A generated sentence states facts that its cited passages must hold. This module finds
them and says whether a passage holds each, across the ways the same fact is written:

- numbers as values: "40", "四十場" and "forty" are 40; "500萬" and "5 million" are
  5,000,000; "70%" and "百分之七十" are 70;
- dates as (month, day): "11月15日至17日" and "November 15–17" are both (11, 15) and
  (11, 17); a day without its month takes the month written before it ("14日至16日");
- Latin-script names ("Moscone Center", "APEC", "SOM3") as written in the passage, or
  through the documents' glossary (rag.translation: "Seattle" is 西雅图 there);
- Chinese named entities (jieba's person, place, organisation and proper-noun tags),
  compared after folding scripts (OpenCC, rag.lexical.normalise);
- titles in Chinese quotation marks (「灣區議程」, 《…》), whole, after the same folding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rag.languages import GLOSS_BREAKS, without_possessive
from rag.lexical import is_han, normalise, tag
from rag.translation import (
    Glossary,
    common_word,
    english_key,
    english_names,
    lemmatize,
    proper_names,
)

_MONTHS = (
    "january february march april may june july august september october november december"
).split()
# a month's name or its abbreviation, not any word it begins ("markets", "novel", "mayor")
_MONTH = rf"(?:{'|'.join(_MONTHS)}|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)(?![a-z])\.?"
_RANGE = r"\s*(?:-|–|—|~|to|through|until|and|至|到|、)\s*"
_ZH_DAY = r"(\d{1,2})\s*[日號号]"
_ZH_MONTH_OF = r"(?:(\d{1,2})\s*月\s*)?"
_ZH_DATE = re.compile(rf"{_ZH_MONTH_OF}{_ZH_DAY}(?:{_RANGE}{_ZH_MONTH_OF}{_ZH_DAY})?")
_EN_DATE = re.compile(
    rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:{_RANGE}(?:({_MONTH})\s+)?(\d{{1,2}})\b)?"
    rf"|\b(\d{{1,2}})(?:st|nd|rd|th)?(?:{_RANGE}(\d{{1,2}})(?:st|nd|rd|th)?)?\s+(?:of\s+)?({_MONTH})",
    re.I,
)
_ZH_MONTH = re.compile(r"(\d{1,2})\s*月")
_EN_MONTH = re.compile(rf"\b({_MONTH})(?![a-z])", re.I)
_SCALES = {
    "萬": 1e4, "万": 1e4, "億": 1e8, "亿": 1e8, "千": 1e3, "百": 1e2,
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "hundred": 1e2,
}  # fmt: skip
_ARABIC = re.compile(
    r"(?<![A-Za-z\d.\-/])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:st|nd|rd|th)?"
    r"(?:\s*(萬|万|億|亿|thousand|million|billion|trillion))?(?![A-Za-z\d])"
)
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "兩": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMERAL = re.compile(
    r"(第|百分之)?([零〇一二兩两三四五六七八九十百千]+[萬万億亿]?)"
    r"(?=(?:多|餘|余)?[個个場场項项位名人家國国次種种大份週周倍成年屆届條条天月日座元歲岁%％])"
    r"|百分之([零〇一二兩两三四五六七八九十百千]+)"
)
_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()
    )
} | {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
     "eighty": 80, "ninety": 90, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}  # fmt: skip
_EN_WORD = re.compile(rf"\b({'|'.join(_WORD_NUMBERS)})\b", re.I)
_LATIN_NAME = re.compile(
    r"(?<![A-Za-z0-9'])(?:[A-Z][A-Za-z0-9'’.&-]*|\d+[A-Za-z][A-Za-z0-9-]*)"
    r"(?:\s+(?:(?:of|for|and|the|de|on)\s+)?(?:[A-Z][A-Za-z0-9'’.&-]*|\d+[A-Z][A-Za-z0-9-]*))*"
)
_CONNECTORS = frozenset("of for and the de on".split())
_STARTERS = frozenset(  # capitalised at a sentence's start, not names
    "the a an this that these those it its in on at by for from to of with as and or but "
    "however also both all each some many most there they he she we you i yes no not "
    "during after before while when where what who which how according based in addition "
    "here answer participants officials leaders members economies more over under around "
    "approximately about only several other another few every such then thus therefore "
    "overall finally first second third next last today currently additionally furthermore "
    "moreover meanwhile specifically notably similarly instead since until although though "
    "because if unless whereas yet so nevertheless one two three four five six seven eight "
    "nine ten".split()
)
_NOT_NAME = re.compile(  # months are dates, "11th" a number: both checked as such
    rf"{_MONTH}|\d+(?:st|nd|rd|th)|(?:mon|tues|wednes|thurs|fri|satur|sun)day", re.I
)
# Chinese text (with the breaks of GLOSS_BREAKS) right before an English gloss in brackets
_GLOSSED = re.compile(rf"[\u3400-\u9fff{GLOSS_BREAKS}]+(?=\([a-z])")
_ENTITY_TAGS = frozenset({"nr", "ns", "nt", "nz", "nrt", "nrfg"})
_TITLE = re.compile(r"[「『《“]([^「」『』《》“”\n]{2,60})[」』》”]")


@dataclass(frozen=True)
class Facts:
    """What a sentence states that a passage must hold."""

    numbers: frozenset[float] = frozenset()  # values outside dates
    dates: frozenset[tuple[int, int]] = frozenset()  # (month, day); month 0 when unknown
    months: frozenset[int] = frozenset()  # months named without a day
    names: tuple[str, ...] = ()  # Latin-script names as written
    entities: tuple[str, ...] = ()  # Chinese named entities, normalised
    titles: tuple[str, ...] = ()  # quoted Chinese titles, normalised, without whitespace

    def __bool__(self) -> bool:
        return bool(
            self.numbers or self.dates or self.months or self.names or self.entities or self.titles
        )


@dataclass(frozen=True)
class Evidence:
    """A passage's text in the forms facts are looked up in."""

    folded: str  # normalised: Simplified, half-width, lower case
    squashed: str  # the same without whitespace
    numbers: frozenset[float]  # every value, dates' parts included
    dates: frozenset[tuple[int, int]]
    months: frozenset[int]
    # spans of ``squashed`` naming what the passage glosses in English itself: the
    # 莫斯科康会议中心 of 莫斯科康會議中心(Moscone Center)
    glossed: tuple[tuple[int, int], ...] = ()


def _value(number: float) -> float:
    return float(f"{number:.6g}")


def _month(name: str) -> int:
    key = name.lower().rstrip(".")[:3]
    return next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(key))


def _dates(text: str) -> Iterator[tuple[int, int, int, int]]:
    """(start, end, month, day) of every day named in ``text``, months carried forward."""
    found: list[tuple[int, int, int, int]] = []
    for m in _ZH_DATE.finditer(text):
        month1, day1, month2, day2 = m.groups()
        found.append((m.start(), m.end(), int(month1 or 0), int(day1)))
        if day2:
            found.append((m.start(), m.end(), int(month2 or month1 or 0), int(day2)))
    for m in _EN_DATE.finditer(text):
        g = m.groups()
        if g[0]:
            first = _month(g[0])
            found.append((m.start(), m.end(), first, int(g[1])))
            if g[3]:
                found.append((m.start(), m.end(), _month(g[2]) if g[2] else first, int(g[3])))
        else:
            month = _month(g[6])
            found.append((m.start(), m.end(), month, int(g[4])))
            if g[5]:
                found.append((m.start(), m.end(), month, int(g[5])))
    month = 0
    for start, end, m_, day in sorted(found):
        month = m_ or month
        if 1 <= day <= 31:
            yield start, end, month, day


def _chinese_number(numeral: str) -> float:
    """十五 -> 15, 三百 -> 300, 四十 -> 40, 五萬 -> 50000, 二〇二三 -> 2023."""
    scale = 1.0
    if numeral[-1] in _SCALES:
        scale, numeral = _SCALES[numeral[-1]], numeral[:-1]
    if numeral and all(c in _ZH_DIGITS for c in numeral):
        return float("".join(str(_ZH_DIGITS[c]) for c in numeral)) * scale
    total, digit = 0, 0
    for c in numeral:
        if c in _ZH_DIGITS:
            digit = _ZH_DIGITS[c]
        elif c in _ZH_UNITS:
            total += (digit or 1) * _ZH_UNITS[c]
            digit = 0
    return (total + digit) * scale


def _numbers(text: str) -> Iterator[tuple[int, int, float]]:
    """(start, end, value) of every number in ``text``, scaled ("5 million")."""
    for m in _ARABIC.finditer(text):
        whole, fraction, scale = m.groups()
        value = float(whole.replace(",", "") + ("." + fraction if fraction else ""))
        yield m.start(), m.end(), _value(value * _SCALES.get((scale or "").lower(), 1.0))
    for m in _ZH_NUMERAL.finditer(text):
        numeral = m.group(2) or m.group(3)
        value = _chinese_number(numeral)
        if value > 1:  # 一 is in too many words (一系列, 之一) to be a number
            yield m.start(), m.end(), _value(value)
    for m in _EN_WORD.finditer(text):
        value = _WORD_NUMBERS[m.group(1).lower()]
        if value > 1:
            yield m.start(), m.end(), float(value)


def with_digits(text: str) -> str:
    """English number words as digits ("three weeks" -> "3 weeks")."""
    return _EN_WORD.sub(lambda m: str(_WORD_NUMBERS[m.group(1).lower()]), text)


def latin_names(sentence: str) -> list[str]:
    """Runs of capitalised words (and tokens such as SOM3) that name something."""
    names = []
    for m in _LATIN_NAME.finditer(sentence):
        name = without_possessive(m.group().strip(" .'’-"))  # "University of Chicago's"
        words = name.split()
        start = not sentence[: m.start()].strip(" \"'“‘([（「*-")
        # a common word opening a sentence alone ("Strong supply chain resilience")
        common = start and len(words) == 1 and common_word(words[0])
        if start and words and (words[0].lower() in _STARTERS or common):
            words = words[1:]
            while words and words[0].lower() in _CONNECTORS:
                words = words[1:]
        words = [w for w in words if not _NOT_NAME.fullmatch(w)]
        if words and not (len(words) == 1 and words[0].lower() in _STARTERS):
            names.append(" ".join(words))
    return names


def chinese_entities(sentence: str) -> list[str]:
    """Named entities of a Chinese sentence, normalised: people, places, organisations."""
    if not any(is_han(c) for c in sentence):
        return []
    found = [w for w, flag in tag(sentence) if flag in _ENTITY_TAGS and len(w) >= 2 and is_han(w)]
    return list(dict.fromkeys(found))


def titles(sentence: str) -> list[str]:
    """The Chinese titles quoted in ``sentence`` (「灣區議程」), normalised."""
    found = (m.group(1) for m in _TITLE.finditer(sentence) if any(map(is_han, m.group(1))))
    return list(dict.fromkeys("".join(normalise(t).split()) for t in found))


def facts_of(sentence: str) -> Facts:
    """The facts ``sentence`` states."""
    dates = list(_dates(sentence))
    spans = [(a, b) for a, b, _, _ in dates]
    numbers = {
        v for a, b, v in _numbers(sentence) if not any(x <= a < y or x < b <= y for x, y in spans)
    }
    dated = {m for _, _, m, _ in dates}
    months = {int(m.group(1)) for m in _ZH_MONTH.finditer(sentence)}
    months |= {_month(m.group(1)) for m in _EN_MONTH.finditer(sentence) if m.group(1) != "may"}
    names = latin_names(sentence)
    name_text = " ".join(names)
    numbers -= {v for _, _, v in _numbers(name_text)}  # "SOM3", "G20": part of a name
    return Facts(
        numbers=frozenset(numbers),
        dates=frozenset((m, d) for _, _, m, d in dates),
        months=frozenset(months - dated),
        names=tuple(names),
        entities=tuple(chinese_entities(sentence)),
        titles=tuple(titles(sentence)),
    )


def evidence_of(text: str) -> Evidence:
    """``text`` (a passage, or several joined) ready for :func:`missing`."""
    folded = normalise(text)
    dates = list(_dates(text))
    months = {int(m.group(1)) for m in _ZH_MONTH.finditer(text)}
    months |= {_month(m.group(1)) for m in _EN_MONTH.finditer(text)}
    # a month is no count ("7月" does not hold "7天"); a day may be named alone ("the 21st")
    spans = [(a, b) for a, b, _, _ in dates] + [m.span() for m in _ZH_MONTH.finditer(text)]
    numbers = {v for a, b, v in _numbers(text) if not any(x <= a < y for x, y in spans)}
    numbers |= {float(d) for _, _, _, d in dates}
    squashed = "".join(folded.split())
    glossed = []
    for m in _GLOSSED.finditer(squashed):
        cut = max(m.group().rfind(c) for c in GLOSS_BREAKS) + 1
        glossed.append((m.start() + cut, m.end()))
    return Evidence(
        folded=folded,
        squashed=squashed,
        numbers=frozenset(numbers),
        dates=frozenset((m, d) for _, _, m, d in dates),
        months=frozenset(months | {m for _, _, m, _ in dates if m}),
        glossed=tuple(glossed),
    )


def _date_found(date: tuple[int, int], evidence: Evidence) -> bool:
    month, day = date
    if month == 0:
        return any(d == day for _, d in evidence.dates) or float(day) in evidence.numbers
    # a day named without its month ("14日至16日") holds a month named beside it only
    return date in evidence.dates or ((0, day) in evidence.dates and month in evidence.months)


def name_found(name: str, evidence: Evidence, glossary: Glossary) -> bool:
    """Is the Latin-script ``name`` in the passage, as written or through the glossary?
    Every word of it must be: "Moscone Center" is, "Moscow Convergence Center" is not."""
    key = "".join(normalise(name).split())
    if key in evidence.squashed:
        return True
    words = [w for w in re.findall(r"[a-z0-9]+", normalise(name)) if w not in _CONNECTORS]
    covered = [False] * len(words)
    for n in range(min(3, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            if all(covered[i : i + n]):
                continue
            phrase = words[i : i + n]
            if _phrase_found(phrase, evidence, glossary):
                covered[i : i + n] = [True] * n
    return all(covered)


_KEYS_BY_WORD: dict[int, tuple[Glossary, dict[str, list[str]]]] = {}


def _keys_by_word(glossary: Glossary) -> dict[str, list[str]]:
    """The glossary's English keys by each of their words ("seattle" -> "seattle
    washington"): a name is often one word of a dictionary sense. Built once per glossary."""
    cached = _KEYS_BY_WORD.get(id(glossary))
    if cached is None or cached[0] is not glossary:
        index: dict[str, list[str]] = {}
        for key in glossary:
            for word in set(key.split()):
                index.setdefault(word, []).append(key)
        cached = _KEYS_BY_WORD[id(glossary)] = (glossary, index)
    return cached[1]


def _phrase_found(words: list[str], evidence: Evidence, glossary: Glossary) -> bool:
    if len(words) == 1 and re.search(_word_pattern(words[0]), evidence.folded):
        return True
    phrase = english_key(words)
    if not phrase:
        return False
    wanted = {phrase, " ".join(lemmatize(phrase.split(), glossary))}
    # a name that is one word of a longer sense ("Seattle" of "Seattle, Washington");
    # initials alone ("D.C." of "Washington, D.C.") are no such word
    initials = all(len(w) <= 2 for w in phrase.split())
    by_word = [] if initials else _keys_by_word(glossary).get(phrase.split()[0], [])
    keys = [k for k in by_word if phrase in k]
    for key in (*wanted, *keys):
        fits = f" {phrase} " in f" {key} " or key in wanted
        if fits and any(_held(w, phrase, evidence) for w in glossary.get(key, ())):
            return True
    return False


def _held(word: str, phrase: str, evidence: Evidence) -> bool:
    """Is the documents' ``word`` (a translation of the English ``phrase``) in the passage?
    A name is not when it is only part of a longer name the passage glosses in English
    itself: 莫斯科 (Moscow) in 莫斯科康會議中心(Moscone Center)."""
    if phrase not in proper_names(word):
        return word in evidence.squashed
    for m in re.finditer(re.escape(word), evidence.squashed):
        inside = [(a, b) for a, b in evidence.glossed if a <= m.start() and m.end() <= b]
        if not inside or inside[0] == m.span():
            return True
    return False


def _entity_found(entity: str, evidence: Evidence) -> bool:
    """Is the Chinese named ``entity`` in the passage, as written or, in an English
    passage, as every word of one of its dictionary names (伦敦: "London")?"""
    if entity in evidence.squashed:
        return True
    return any(
        all(re.search(_word_pattern(w), evidence.folded) for w in key.split())
        for key in english_names(entity)
    )


def _word_pattern(word: str) -> str:
    """``word`` at a word's start ("athen" in "athens"); a letter or two ("us") only as a
    word of its own."""
    end = r"(?![a-z0-9])" if len(word) <= 2 else ""
    return rf"(?<![a-z0-9]){re.escape(word)}{end}"


def missing(facts: Facts, evidence: Evidence, glossary: Glossary) -> list[str]:
    """The facts that ``evidence`` does not hold, each as a short readable string."""
    out = [f"{n:g}" for n in sorted(facts.numbers) if n not in evidence.numbers]
    out += [f"{m}/{d}" for m, d in sorted(facts.dates) if not _date_found((m, d), evidence)]
    out += [f"month {m}" for m in sorted(facts.months) if m not in evidence.months]
    out += [n for n in facts.names if not name_found(n, evidence, glossary)]
    out += [e for e in facts.entities if not _entity_found(e, evidence)]
    out += [f"「{t}」" for t in facts.titles if t not in evidence.squashed]
    return out
