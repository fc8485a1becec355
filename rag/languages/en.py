"""What the assistant knows of English: the words and patterns of its questions and of
the sentences that answer them, and how its words lose their endings.

Patterns are regular-expression sources; :mod:`rag.languages` compiles them together
with the Chinese ones (case-insensitive where the kind's pattern always was). Word lists
are in lower case, the form text takes once normalised for search.
"""

from __future__ import annotations

import re

# words too common to search for
STOP_WORDS = frozenset(
    "the a an of to in on at for and or is are was were be been by with from as that "
    "this what which who whom when where why how do does did will would can could "
    "about into it its their there than then any all some more most such also".split()
)

# verbs that carry little of a dictionary sense of their own: "to have priority" (优先)
# is as much "priority", "to take precedence" as much "precedence"
LIGHT_VERBS = frozenset("have take make give be".split())

# the kind of place an English geographic name ends in ("Pacific Ocean", "Yangtze River"),
# often left out ("the Pacific", "the Yangtze")
PLACE_CLASSES = frozenset(
    "ocean sea river lake mountain mountains island islands peninsula desert strait gulf "
    "canal plateau basin".split()
)

# what is left of a question such as "How many?" once stop words are out: words that ask
QUESTION_WORDS = frozenset("many much long often date time day".split())

# a question that points back to the conversation ("Who will speak there?", "And when?")
POINTS_BACK = (
    r"\b(?:it|its|they|them|their|there|that|those|these|he|she|his|her)\b"
    r"|^(?:and|what about|how about|when|why|who)\b(?!.{25,})"
)

# a full stop after these ends no sentence ("William S. Paley", "Dr. Smith", "Columbia
# Records Inc. was"): single capitals (initials) are handled by the sentence splitter
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st mt jr sr rev gen col lt sgt capt fr inc ltd co corp bros vs "
    "etc no nos vol fig approx ca cf al".split()
)

# words that frame a question whatever it names (for telling its language)
FRAME_WORDS = frozenset(
    "what who whom whose where when why how which is are was were do does did will would "
    "can could should the a an of in on at to for about".split()
)

GREETING = r"(?:hi|hello|hey)(?: there)?|good (?:morning|afternoon|evening)"
THANKS = r"thanks(?: a lot)?|thank you(?: very much)?|many thanks|cheers"

# a question about the document itself: its author, title or topic
ABOUT_THE_DOCUMENT = (
    r"\b(?:what(?:'s| is| are)|summari[sz]e)\b.{0,20}"
    r"\b(?:this|the)\s+(?:article|document|text|report|piece|paper)"
    r"|\b(?:who\s+(?:wrote|is\s+the\s+author|authored)|author)\b"
)

# … and of those, one asking what it says ("What is this report about?", "Summarize the
# article"), not who wrote it or what it is called
SUMMARY = r"\babout\b|summar|\bmain (?:points?|ideas?|topics?)\b|\bgist\b|\bkey points?\b"

MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
NUMBER_WORDS = (  # numbers in words: "forty-two", "six million"
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|\w+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen)(?:-\w+)?"
    r"(?:\s+(?:hundred|thousand|million|billion))?"
)
_AMOUNT = rf"(?:\d+(?:[.,]\d+)?(?:\s+(?:hundred|thousand|million|billion))?|{NUMBER_WORDS})"

# how a question asks for each kind of answer (see rag.answer_types)
ASKS: dict[str, str] = {
    "author": r"\bwho (?:wrote|authored)\b|\bthe author\b",
    "chair": (
        r"\bwho (?:will )?(?:chair|chaired|chairs|presided|presides|headed)\b"
        r"|\bchair(?:ed|s|man|woman|person)?\b"
    ),
    "money": r"\bhow much (?:money|did|does|will)\b|\b(?:cost|budget|spend|spent|funding)\b",
    "people": r"\bhow many (?:people|participants|attendees|delegates)\b",
    "year": r"\b(?:what|which) year\b|\bin what year\b",
    "date": (
        r"^\W*(?:\w+\W+){0,3}?when\b|\bhow long (?:ago|did|does|do|has|have|had|will|was|were)\b"
        r"|\b(?:what|which)\s+(?:date|day|month|time|century|period)\b"
    ),
    "share": r"\bwhat (?:percentage|proportion|share)\b",
    "count": r"\bhow (?:many|much)\b|\bnumber of\b",
    "place": (
        r"\bwhere\b|\b(?:which|what)\s+(?:city|state|country|countries|econom(?:y|ies)"
        r"|venue|place|location)\b"
    ),
    "statement": (  # what someone said, not what a text says ("What does the target say?")
        r"\bwhat (?:did|does|will) (?!(?:the|this) (?:article|document|text|report|author)\b)"
        r"(?:(?!\b(?:targets?|goals?|reports?|agendas?|plans?|principles?|documents?|roadmaps?"
        r"|blueprints?|rules?|declarations?|statements?|texts?|articles?)\b)[\w' ]){1,40}"
        r"\b(?:say|tell)\b|\bwhat was said\b"
    ),
    "outcome": r"\b(?:outcomes?|conclusions?|results? of|recommendations?)\b",
    "items": r"\b(?:two|three|four|five|six|seven|eight|nine|ten)\s+[a-z]",  # "the six areas"
}

# what a sentence holding each kind of answer says
HOLDS: dict[str, str] = {
    "author": r"\b[Bb]y [A-Z][a-z]+",
    "chair": r"\bchair|\bpresid(?:ed|es|ing)\b|\bled by\b",
    "money": rf"\b{_AMOUNT}\s+(?:dollars|euros|pounds|yuan|yen|USD)\b",
    "people": (
        rf"\b{_AMOUNT}\s+(?:\w+\s+)?(?:people|persons|participants|delegates|members|farmers"
        r"|attendees|visitors|residents|inhabitants|citizens|refugees|workers|employees"
        r"|students|children|men|women|soldiers|troops|slaves|tourists|speakers)\b"
    ),
    "year": r"\b(?:BC|AD|BCE|CE)\b|century|centuries|\byears? ago\b|\b\d{3}0s\b",
    "date": (  # a day, or a length of time ("13 hours": how long)
        rf"\b(?:{MONTHS})\b|\b\d+\s*(?:days?|weeks?|months?)\b"
        rf"|\b{_AMOUNT}\s+(?:hours?|minutes?|seconds?)\b"
        r"|\b\d{1,2}(?::\d\d)?\s*(?:a\.m\.|p\.m\.|am\b|pm\b|o'clock)"  # a time of day
    ),
    "share": r"\d+(?:\.\d+)?\s*percent\b",
    "count": rf"\b{NUMBER_WORDS}\b",
    "place": r"\b(?:in|at|of|from|near|on|to)\s+(?:the\s+)?[A-Z][a-z]+",
    "statement": r"\b(?:said|says|stated|told|announced|noted|stressed|urged|declared)\b",
    "outcome": (
        r"\brecommend|\b(?:agreed|adopted|concluded|decided|signed|issued|endorsed|approved"
        r"|found|showed|resulted)\b"
    ),
}


def without_possessive(word: str) -> str:
    """``word`` without a possessive ending: "antigone's" is looked up, counted and
    translated as "antigone", "China’s" checked as the name "China"."""
    return word[:-2] if len(word) > 2 and word.endswith(("'s", "’s")) else word


def stem(word: str) -> str:
    """An English word without its plural or tense ending ("takes", "taking", "take" ->
    "tak"), for counting shared words; Chinese and short words are unchanged."""
    if len(word) <= 3 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in ("ing", "ied", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix == "ied" else "")
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


# ordinals in words, first to twelfth (beyond, "13th"); an ordinal before a word names one
# of a series ("Samoa's second Prime Minister", "the 12th king")
ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
)

# a four-digit number is a year after these words ("in 2009", "the 2013 election", "May 1,
# 1962"), a decade before DECADE_AFTER ("1990s"), and two years with one of YEARS_TO
# between them are a span ("1955 until 1997")
YEAR_BEFORE = (
    r"\b(?:in|since|by|until|till|from|of|between|and|to|during|before|after|around|circa"
    r"|the|early|late|mid|\d{1,2},)\s+"
)
DECADE_AFTER = r"s\b"
YEARS_TO = r"–|—|-|\bto\b|\buntil\b|\btill\b|\bthrough\b"

# a sentence that denies what it says ("the target was not agreed")
NEGATION = r"\b(?:not|no|never|neither|nor|none|cannot|without|fail(?:s|ed)? to)\b|n't\b"

# a footnote mark's words in brackets after a word ("[citation needed]"), or a heading's
# edit link as a copied page keeps it ("History[edit]"); numbered marks ("[12]", "[note 3]",
# "[a]") in any language are in rag.languages.FOOTNOTE_MARK
FOOTNOTE_WORDS = (
    r"edit|edit source|citation needed|clarification needed|verification needed"
    r"|better source needed|page needed|failed verification|dubious|disputed"
    r"|who\?|when\?|which\?|by whom\?"
    r"|according to whom\?|original research\??|note \d{1,3}|nb \d{1,3}"
)


# a Roman numeral up to 89 ("XVI" of "Benedict XVI"), as written in capitals
_ROMAN = re.compile(r"(?=[IVXL])(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman_value(word: str) -> int | None:
    """The number a Roman numeral stands for ("XVI" -> 16, "XXIII" -> 23), else None."""
    if not _ROMAN.fullmatch(word):
        return None
    values = [_ROMAN_VALUES[c] for c in word]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
