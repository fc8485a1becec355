"""Does a Chinese question name something the documents never mention?

A question can sit close to the documents in embedding space and still ask about
something they never mention: "APEC秘书处设在哪里？" is near every passage about
APEC, but no passage names a secretariat. The check takes the question's specific
nouns (jieba part-of-speech tags; everyday words such as 方面 or 大家 are left out by
their jieba dictionary frequency, and words that name the kind of answer wanted, such
as 名字 or 原因, are left out by list) and looks for each in the documents: as it is,
as a word that shares an English sense with it in CC-CEDICT (领导人 for 领袖), or,
for a word of three or more characters, as one of its two-character parts (高级别 for
高级). A noun found in none of these ways is *ungrounded*, and the question is declined.

Only questions in Chinese over Chinese documents are checked: the dictionary covers
English words too unevenly (plural and tense forms, names written differently) for an
absent English word to mean an absent concept.
"""

from __future__ import annotations

import logging

from rag.languages import ANSWER_KIND_NOUNS
from rag.lexical import everyday_frequency, is_han, stop_word, tag
from rag.settings import DEFAULT_RULES
from rag.translation import Glossary, synonyms

logger = logging.getLogger(__name__)



def specific_nouns(question: str) -> list[str]:
    """The question's nouns that are specific enough to have to appear in an answer."""
    nouns = []
    for word, flag in tag(question):
        if not (flag.startswith("n") and len(word) >= 2 and is_han(word)):
            continue
        if stop_word(word) or word in ANSWER_KIND_NOUNS:
            continue
        if everyday_frequency(word) >= DEFAULT_RULES.generic_frequency:
            continue
        nouns.append(word)
    return list(dict.fromkeys(nouns))


def ungrounded(question: str, text: str, glossary: Glossary) -> list[str]:
    """The specific nouns of ``question`` that ``text`` never mentions.

    ``text`` is the documents' text normalised as rag.lexical.normalise does;
    ``glossary`` is their glossary (rag.translation).
    """
    missing = []
    for noun in specific_nouns(question):
        if noun in text:
            continue
        if len(noun) >= 3 and any(noun[i : i + 2] in text for i in range(len(noun) - 1)):
            continue
        if any(word in text for word in synonyms(noun, glossary)):
            continue
        missing.append(noun)
    return missing


def prepare() -> None:
    """Load the part-of-speech tagger and CC-CEDICT now (about a second) instead of
    during the first question that needs them."""
    for noun in specific_nouns("秘書處設在哪個城市？"):
        synonyms(noun, {})
