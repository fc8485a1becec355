"""Figures of answering through a language model, side by side with the quoted answers.

Every question of a question file (rag.evaluation) is asked twice: without the model
(the quoted answer) and through it, timing when the first cited text and the model's
first token arrive. For the answers shown in LLM mode it counts the sentences that
their cited passages do not support (rag.claims, on the answer as shown), answers
holding the expected fact against the quoted answerer's, answerable questions
declined, and answers in the asker's language and script.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.answer import Assistant
from rag.claims import ClaimChecker
from rag.evaluation import Question, has_fact
from rag.generate import in_script, model_written
from rag.language import is_chinese
from rag.types import Answer, Draft

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timed:
    """An answer and when its parts arrived, in seconds after asking."""

    answer: Answer
    first_text: float  # the first cited text (the quoted draft, or the answer itself)
    first_token: float | None  # the model's first token after the draft (None: not asked)
    total: float
    reply: str = ""  # the model's text as it streamed, before the check
    translation: str = ""  # its translation of the quoted answer, when it was asked for one


@dataclass(frozen=True)
class Turn:
    """One question asked both ways."""

    question: Question
    quoted: Answer  # without the model
    shown: Timed  # through the model
    unsupported: int  # sentences shown that their cited passages do not support
    sentences: int  # sentences shown that the model wrote


@dataclass(frozen=True)
class LLMScores:
    questions: int
    answerable: int
    model_answers: int  # answers shown as the model wrote them (checked)
    sentences: int  # the model's sentences shown
    unsupported: int  # of those, not supported by their cited passages
    fact_quoted: float  # answerable questions whose quoted answer holds the fact
    fact_llm: float  # … whose answer in LLM mode does
    wrongly_declined: float  # answerable questions declined in LLM mode
    english_ok: float  # English questions' answers shown in English
    chinese_ok: float  # Chinese questions' answers shown in Chinese of the asker's script
    model_english_ok: float  # … of the answers the model wrote
    model_chinese_ok: float
    first_text_max: float  # seconds to the first cited text, at most
    first_token_median: float  # seconds from the quoted answer to the model's first token
    total_median: float  # seconds to the final answer


def ask_timed(assistant: Assistant, question: str, history: list[dict[str, str]]) -> Timed:
    """Ask through ``assistant``, timing the first cited text and the first model token."""
    start = time.perf_counter()
    first_text = first_token = None
    answer = None
    replies: list[list[str]] = []  # one per draft: the model's answer, then a translation
    for event in assistant.stream(question, history):
        now = time.perf_counter() - start
        if isinstance(event, Draft):
            first_text = now if first_text is None else first_text
            replies.append([])
        elif isinstance(event, Answer):
            answer = event
            first_text = now if first_text is None else first_text
        elif replies:
            replies[-1].append(event)
            if event and first_token is None:
                first_token = now - first_text
    assert answer is not None and first_text is not None
    reply, translation = (["".join(r) for r in replies] + ["", ""])[:2]
    return Timed(answer, first_text, first_token, time.perf_counter() - start, reply, translation)


def unsupported(answer: Answer, checker: ClaimChecker) -> tuple[int, int]:
    """(sentences not supported by the passages their markers cite, sentences) of a
    model-written answer as shown; (0, 0) for a quoted or declined one."""
    written = model_written(answer)
    if not written:
        return 0, 0
    result = checker.check(written, [p.text for p in answer.citations])
    bad = [c for c in result.claims if not c.kept or c.attributed]
    for claim in bad:
        logger.warning("unsupported sentence shown: %s (missing %s)", claim.text, claim.missing)
    return len(bad), len(result.claims)


def in_language(answer: Answer, language: str) -> bool:
    """Is ``answer`` written in ``language`` (en, zh-Hant, zh-Hans)? A translation
    is, when the model's translation is (the original quoted below it is not counted)."""
    text = model_written(answer) if answer.stage == "translation" else answer.text
    if language == "en":
        return not is_chinese(text)
    # in the script when no character of it is the other script's ("2035年前" is in both)
    return is_chinese(text) and in_script(text, language) == text


def ask_both(with_llm: Assistant, quoted: Assistant, q: Question, checker: ClaimChecker) -> Turn:
    """``q`` asked both ways. A follow-up's conversation is the quoted answers to the
    questions before it (so only the follow-up itself goes to the model)."""
    history: list[dict[str, str]] = []
    for earlier in q.history:
        reply = quoted.ask(earlier, list(history))
        history += [
            {"role": "user", "content": earlier},
            {"role": "assistant", "content": reply.text},
        ]
    plain = quoted.ask(q.question, list(history))
    shown = ask_timed(with_llm, q.question, history)
    bad, sentences = unsupported(shown.answer, checker)
    logger.info("%s [%s] %.1f s: %s", q.id, shown.answer.stage, shown.total, shown.answer.text)
    return Turn(q, plain, shown, bad, sentences)


def run(
    with_llm: Assistant, quoted: Assistant, questions: Iterable[Question], checker: ClaimChecker
) -> list[Turn]:
    """Every question asked both ways (:func:`ask_both`)."""
    return [ask_both(with_llm, quoted, q, checker) for q in questions]


def interleaved(questions: Sequence[Question]) -> list[Question]:
    """The questions taken in turn from each language (zh-Hant, zh-Hans, en), answerable
    and not alike, so that a run cut short still covers every kind."""
    groups: dict[tuple[str, bool], list[Question]] = {}
    for q in questions:
        groups.setdefault((q.lang, q.answerable), []).append(q)
    out: list[Question] = []
    queues = list(groups.values())
    while any(queues):
        for queue in queues:
            if queue:
                out.append(queue.pop(0))
    return out


def _share(values: Sequence[bool]) -> float:
    return statistics.fmean(values) if values else 0.0


def _right(answer: Answer, question: Question) -> bool:
    return not answer.abstained and has_fact(answer.text, question)


def _language_share(turns: Sequence[Turn], english: bool) -> float:
    asked = [t for t in turns if (t.question.lang == "en") == english]
    return _share([in_language(t.shown.answer, t.question.lang) for t in asked])


def scores(turns: Sequence[Turn]) -> LLMScores:
    """The figures of ``turns``."""
    answerable = [t for t in turns if t.question.answerable]
    shown = [t for t in turns if not t.shown.answer.abstained]
    model = [t for t in shown if model_written(t.shown.answer)]
    tokens = [t.shown.first_token for t in turns if t.shown.first_token is not None]
    return LLMScores(
        questions=len(turns),
        answerable=len(answerable),
        model_answers=len(model),
        sentences=sum(t.sentences for t in turns),
        unsupported=sum(t.unsupported for t in turns),
        fact_quoted=_share([_right(t.quoted, t.question) for t in answerable]),
        fact_llm=_share([_right(t.shown.answer, t.question) for t in answerable]),
        wrongly_declined=_share([t.shown.answer.abstained for t in answerable]),
        english_ok=_language_share(shown, english=True),
        chinese_ok=_language_share(shown, english=False),
        model_english_ok=_language_share(model, english=True),
        model_chinese_ok=_language_share(model, english=False),
        first_text_max=max((t.shown.first_text for t in turns), default=0.0),
        first_token_median=statistics.median(tokens) if tokens else 0.0,
        total_median=statistics.median(t.shown.total for t in turns) if turns else 0.0,
    )


def report(name: str, s: LLMScores) -> str:
    """The figures as the check prints them."""
    return "\n".join(
        [
            f"== {name}: {s.questions} questions ({s.answerable} answerable)",
            f"  claims shown that the cited passages do not support: {s.unsupported} "
            f"of {s.sentences} model sentences shown ({s.model_answers} model answers shown)",
            f"  answers holding the fact: LLM mode {s.fact_llm:.3f} vs quoted {s.fact_quoted:.3f}",
            f"  answerable wrongly declined (LLM mode): {s.wrongly_declined:.3f}",
            f"  answers in the asker's language: English {s.english_ok:.3f}, Chinese in the "
            f"asker's script {s.chinese_ok:.3f} (model-written: {s.model_english_ok:.3f}, "
            f"{s.model_chinese_ok:.3f})",
            f"  first cited text after asking: at most {s.first_text_max:.2f} s",
            f"  model time to first token (median): {s.first_token_median:.2f} s; "
            f"final answer (median): {s.total_median:.2f} s",
        ]
    )
