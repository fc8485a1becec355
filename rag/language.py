"""Which language a text is in, and conversion between Chinese scripts (OpenCC)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any, Literal

from rag.languages import CHINESE_FRAME, ENGLISH_FRAME_WORDS, HAN

Language = Literal["zh-Hant", "zh-Hans", "en"]

_LATIN = re.compile(r"[A-Za-z]")


@functools.cache
def _converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional (Taiwan) Chinese to Simplified with mainland phrasing; other text unchanged."""
    return str(_converter("tw2sp").convert(text))


def to_simplified_characters(text: str) -> str:
    """Traditional characters to Simplified one by one, words unchanged (for quotations:
    執行工作 stays 执行工作, never the mainland phrasing 运行工作)."""
    return str(_converter("t2s").convert(text))


def to_traditional(text: str) -> str:
    """Simplified Chinese to Traditional with Taiwan phrasing; other text unchanged."""
    return str(_converter("s2twp").convert(text))


def to_traditional_characters(text: str) -> str:
    """Simplified characters to Traditional (Taiwan forms), words unchanged: 文件 stays
    文件, never the Taiwan phrasing 檔案 (for text that must keep its wording)."""
    return str(_converter("s2tw").convert(text))


def to_script(text: str, script: str) -> str:
    """``text`` in ``script`` ("zh-Hant" or "zh-Hans"); unchanged for any other value."""
    if script == "zh-Hant":
        return to_traditional(text)
    if script == "zh-Hans":
        return to_simplified(text)
    return text


def is_chinese(text: str) -> bool:
    """Is ``text`` Chinese: Han characters, at least a third as many as Latin letters?"""
    han = len(HAN.findall(text))
    return han > 0 and han * 3 >= len(_LATIN.findall(text))


def detect_language(text: str, before: Sequence[str] = (), documents: str = "") -> Language:
    """``zh-Hant``, ``zh-Hans`` or ``en``: the language of a question.

    A question holding both scripts is in the language of its frame words: "Who is
    王薊暄?" is English, "Moscone Center在哪裡？" Chinese. Otherwise it is Chinese when
    :func:`is_chinese` says so. The Chinese script is the one the text changes least
    under conversion to; a question written the same in both ("它的首都呢？") takes the
    script of the latest of the questions ``before`` it that is not, else ``documents``,
    the script of the documents asked about (:func:`script_of`), else Traditional.
    """
    english = sum(w.lower() in ENGLISH_FRAME_WORDS for w in re.findall(r"[A-Za-z]+", text))
    chinese = len(CHINESE_FRAME.findall(text))
    if english > chinese or (english == chinese and not is_chinese(text)):
        return "en"
    script = _chinese_script(text)
    if script is None:
        earlier = (_chinese_script(t) for t in reversed(before) if is_chinese(t))
        script = next((s for s in earlier if s is not None), None)
    if script is None:
        script = "zh-Hans" if documents == "zh-Hans" else "zh-Hant"
    return script


def _chinese_script(text: str) -> Language | None:
    """The script ``text`` is written in; None when it reads the same in both."""
    simplified = sum(a != b for a, b in zip(text, _converter("t2s").convert(text)))
    traditional = sum(a != b for a, b in zip(text, _converter("s2t").convert(text)))
    if simplified == traditional == 0:
        return None
    return "zh-Hans" if traditional > simplified else "zh-Hant"


def script_of(texts: list[str]) -> str:
    """The Chinese script most of ``texts`` are written in, or "" when they are not Chinese."""
    votes = {"zh-Hant": 0, "zh-Hans": 0}
    for text in texts:
        script = _chinese_script(text) if is_chinese(text) else None
        if script is not None:  # a text the same in both scripts says nothing
            votes[script] += len(HAN.findall(text))
    if not any(votes.values()):
        return ""
    return max(votes, key=lambda k: votes[k])
