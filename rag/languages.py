"""What the assistant knows of each language's questions, in one place.

Words and patterns that frame a question (not what it is about): how a follow-up points
back, which words only ask, a greeting. Chinese patterns match both
scripts; English ones are case-insensitive.
"""

from __future__ import annotations

import re

# -- Chinese
_ZH_POINTS_BACK = (
    r"^(?:那|那麼|那么|還有|还有|而|它|他|她|其|該|该|此|這|这)"
    r"|(?:它|他們|他们|她們|她们|那裡|那里|那邊|那边|那時|那时|這個|这个|那個|那个"
    r"|這些|这些|那些|上述|其中|藉此|借此|為此|为此|對此|对此)"
    r"|呢[？?]?$"
)
_ZH_QUESTION_WORDS = "时候 谁 多久 一天 哪天 几号 几月 几年 多少"

# -- English
_EN_POINTS_BACK = (
    r"\b(?:it|its|they|them|their|there|that|those|these|he|she|his|her)\b"
    r"|^(?:and|what about|how about|when|why|who)\b(?!.{25,})"
)
_EN_QUESTION_WORDS = "many much long often date time day"

FOLLOW_UP = re.compile(f"{_ZH_POINTS_BACK}|{_EN_POINTS_BACK}", re.I)
"""A question that points back to the conversation ("那什麼時候？", "Who will speak there?")."""

QUESTION_WORDS = frozenset(f"{_ZH_QUESTION_WORDS} {_EN_QUESTION_WORDS}".split())
"""What is left of a question such as "那是誰？" or "How many?" once stop words are out:
words that ask, not words that name (normalised, Simplified)."""

NUMBER = re.compile(r"\d+(?:\.\d+)?")
ACRONYM = re.compile(r"\b[A-Z][A-Z\d]{1,9}\b")

GREETING = re.compile(
    r"(?:你好|您好|妳好|大家好|嗨|哈囉|哈啰|早安|午安|晚安|謝謝|谢谢|多謝|多谢"
    r"|hi|hello|hey|good (?:morning|afternoon|evening)|thanks|thank you)"
    r"[\s!！。.,，~～?？呀啊哦喔]*",
    re.I,
)
"""A question that is only a greeting or thanks."""

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
