"""A question, analysed once and handed to every stage that answers it.

:func:`analyse` reads the question and the conversation before it: its language and
script, the kind of answer it asks for (rag.answer_types), whether it is a follow-up
that leans on the question before ("那什麼時候？" after "APEC經濟領袖會議在哪裡舉行？")
and so what text is searched, its words and their translation into the documents'
other language, and whether it asks about the document itself ("who wrote this?").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer_types import AnswerKind, asked_kind
from rag.language import Language, detect_language
from rag.languages import FOLLOW_UP, QUESTION_WORDS, SUMMARY
from rag.lexical import is_han, tag, tokenize
from rag.retriever import Hit, Retriever, is_about_the_document
from rag.settings import DEFAULT_POLICY, AnswerPolicy

logger = logging.getLogger(__name__)

History = Sequence[dict[str, str]]


def conversation(history: object) -> list[dict[str, str]]:
    """``history`` as a list of ``{"role", "content"}`` messages, checked.

    Takes the OpenAI / Gradio "messages" form (other keys, such as Gradio's metadata, are
    ignored) and Gradio's older (question, answer) pairs; anything else is a ValueError
    saying what is expected, so a wrong history is never silently read as no history."""
    if history is None:
        return []
    if isinstance(history, (str, bytes, dict)) or not isinstance(history, Sequence):
        raise ValueError(f"history must be a list of messages, not {type(history).__name__}")
    messages: list[dict[str, str]] = []
    for i, turn in enumerate(history):
        if isinstance(turn, dict) and "role" in turn and "content" in turn:
            content = turn["content"]
            text = content if isinstance(content, str) else ""  # files, images: no words
            messages.append({"role": str(turn["role"]), "content": text})
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            for role, content in zip(("user", "assistant"), turn, strict=True):
                if isinstance(content, str):
                    messages.append({"role": role, "content": content})
        else:
            raise ValueError(
                f"history item {i} is {turn!r}: give each turn as "
                '{"role": "user" or "assistant", "content": "..."}'
            )
    return messages


@dataclass(frozen=True)
class Query:
    """What is known about a question before anything is retrieved for it."""

    text: str  # the question as asked (stripped, cut to the longest question taken)
    language: Language  # of the question: "zh-Hant", "zh-Hans" or "en"
    kind: AnswerKind | None  # the kind of answer asked for (a date for "when"), if any
    search_text: str  # what is searched: the question, after the one before for a follow-up
    terms: tuple[str, ...]  # the question's own words, normalised and segmented
    search_terms: tuple[str, ...]  # the words of the search text
    translated: tuple[str, ...]  # the search text's words in the other language (glossary)
    # each search word with itself and its translations (for counting shared words across
    # languages); empty when the documents are all in the question's language
    word_translations: dict[str, tuple[str, ...]]
    about_document: bool  # asks about the document itself ("who wrote this?")
    # asks what the document says ("What is this article about?"): answered by its opening
    summary: bool
    names_nothing: bool  # holds only question words ("When is it?")
    # the documents hold at least one of its search words, as written or translated
    mentioned: bool = True
    cut: int = 0  # characters cut from a question longer than the policy allows

    @property
    def follow_up(self) -> bool:
        return self.search_text != self.text

    @property
    def chinese(self) -> bool:
        return self.language != "en"


def analyse(
    question: str,
    history: History | None,
    retriever: Retriever,
    policy: AnswerPolicy = DEFAULT_POLICY,
) -> Query:
    """Analyse ``question`` once, with the conversation ``history`` before it."""
    if not isinstance(question, str):
        raise TypeError(f"a question is text (str), not {type(question).__name__}")
    if not question.strip():
        raise ValueError("question is empty: type a question about the documents")
    text = question.strip()
    cut = max(0, len(text) - policy.max_question_chars)
    text = text[: policy.max_question_chars]
    history = conversation(history)
    asked_before = [m["content"] for m in history if m["role"] == "user"]
    language = detect_language(text, asked_before, retriever.data.manifest.script)
    terms = tuple(tokenize(text))
    search_text = follow_up_text(
        text, language, history, policy, lambda: new_topic(text, language, retriever)
    )
    search_terms = terms if search_text == text else tuple(tokenize(search_text))
    other = "en" if language != "en" else "zh"
    word_translations = (
        retriever.word_translations(list(dict.fromkeys(search_terms)))
        if other in retriever.languages
        else {}
    )
    translated = tuple(retriever.translated_terms(search_text))
    kind = asked_kind(text)
    about_document = is_about_the_document(search_text)
    return Query(
        text=text,
        language=language,
        kind=kind,
        search_text=search_text,
        terms=terms,
        search_terms=search_terms,
        translated=translated,
        word_translations=word_translations,
        about_document=about_document,
        summary=about_document and kind is None and bool(SUMMARY.search(text)),
        names_nothing=not [t for t in terms if t not in QUESTION_WORDS],
        mentioned=bool(retriever.known_terms([*search_terms, *translated])),
        cut=cut,
    )


def search(query: Query, retriever: Retriever, k: int) -> list[Hit]:
    """The ``k`` passages found for the analysed ``query``, ranked by relevance alone (a
    passage holding a date is no answer to "when" if it is about something else)."""
    return retriever.search_hits(
        query.search_text,
        k,
        prefer_answer_kind=False,
        chinese=query.chinese,
        translated=query.translated,
        about_document=query.about_document,
    )


def follow_up_text(
    question: str,
    language: Language,
    history: History,
    policy: AnswerPolicy = DEFAULT_POLICY,
    starts_new_topic: Callable[[], bool] | None = None,
) -> str:
    """The question, preceded by the previous question when it is a follow-up.

    A fragment ("When?", "討論了哪些議題？") or a question that points back ("there", "那")
    leans on the question before; a whole question stands alone, as does a short one that
    ``starts_new_topic`` says names something the documents never mention ("Tell me a joke.").
    """
    previous = [m.get("content", "") for m in history if m.get("role") == "user"]
    previous = [p for p in previous if isinstance(p, str) and p.strip()]
    if not previous:
        return question
    s = policy.follow_up
    if language == "en":
        short = len(question.split()) <= s.max_words
    else:
        short = len(question) <= s.max_chars
    if short and starts_new_topic is not None:
        short = not starts_new_topic()
    if FOLLOW_UP.search(question) or short:
        return f"{previous[-1].strip()} {question}"
    return question


def retrieval_query(question: str, history: History) -> str:
    """What is searched for ``question`` after ``history`` (no check for a new topic)."""
    text = question.strip()
    return follow_up_text(text, detect_language(text), conversation(history))


def new_topic(question: str, language: Language, retriever: Retriever) -> bool:
    """Does ``question`` name something the documents never mention, as written or through
    the glossary: an English word ("Tell me a joke."), a Chinese noun ("講個笑話"), or
    nothing they mention at all ("今天天氣如何？")?"""
    text = retriever.searchable_text

    def unknown(word: str) -> bool:
        found = re.search(rf"(?<![a-z0-9]){re.escape(word)}", text)
        return not found and not retriever.translated_terms(word)

    words = [t for t in tokenize(question) if t not in QUESTION_WORDS]
    if language != "en":
        named = [w for w, flag in tag(question) if flag.startswith("n")]
    else:
        named = [t for t in words if not is_han(t)]
    return any(map(unknown, named)) or (bool(words) and all(map(unknown, words)))
