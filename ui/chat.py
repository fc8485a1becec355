"""One conversation turn: a question in, streamed text and the final answer out.

No Gradio here. :func:`answer_events` turns ``Assistant.stream`` into :class:`Update`
events and every failure into a readable message (logged with its traceback), and
:func:`chat_turn` / :func:`api_turn` map those events onto what the page and the
``/chat`` API endpoint show.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from rag import Answer, Assistant, Draft
from ui.engine import IndexUnavailableError
from ui.render import SOURCES_WORKING, answer_message, chat_message, labelled, render_sources

logger = logging.getLogger(__name__)

EMPTY_QUESTION = (
    "Please type a question about the documents, in English or Chinese. · "
    "請輸入關於文件的問題（中文或英文皆可）。"
)
FAILED = (
    "Sorry, something went wrong while answering. Please try again; if it keeps "
    "happening, tell the administrator (error {ref}). · 抱歉，回答時發生錯誤，請再試一次；"
    "若持續發生，請告知管理員（錯誤代碼 {ref}）。"
)
MAX_QUESTION_CHARS = 2000

Message = dict[str, str]


class AssistantSource(Protocol):
    """Where the current assistant comes from (:class:`ui.engine.LiveAssistant`)."""

    def get(self) -> Assistant: ...


@dataclass(frozen=True)
class Update:
    """One step of a turn.

    ``kind`` is ``"delta"`` while the answer streams (``text`` is the text so far),
    ``"draft"`` for the quoted answer shown while a language model writes (``answer``
    is it; the deltas after it are the model's), ``"answer"`` for the final answer
    (``text`` is ``answer.text``), ``"message"`` when no answer could be given (``text``
    explains why: empty question, no index, error).
    """

    kind: Literal["delta", "draft", "answer", "message"]
    text: str
    answer: Answer | None = None


@dataclass(frozen=True)
class Conversation:
    """A conversation: ``history`` goes to the assistant, ``display`` to the Chatbot.

    ``history`` holds the raw questions and answers (``{"role", "content"}``) that got
    an answer; ``display`` holds every bubble shown, HTML-escaped.
    """

    history: tuple[Message, ...] = ()
    display: tuple[Message, ...] = ()
    answer: Answer | None = field(default=None, compare=False)  # the latest answer


def answer_events(
    source: AssistantSource, question: str, history: Sequence[Message] = ()
) -> Iterator[Update]:
    """Stream the answer to ``question``; never raises for a failed question."""
    question = (question or "").strip()
    if not question:
        yield Update("message", EMPTY_QUESTION)
        return
    question = question[:MAX_QUESTION_CHARS]
    try:
        assistant = source.get()
    except IndexUnavailableError as exc:
        yield Update("message", str(exc))
        return
    except Exception:
        yield Update("message", _failure("loading the assistant"))
        return
    parts: list[str] = []
    try:
        for event in assistant.stream(question, history=list(history)):
            if isinstance(event, Answer):
                yield Update("answer", event.text, event)
                return
            if isinstance(event, Draft):  # the quoted answer; the model writes anew after it
                parts = []
                yield Update("draft", event.answer.text, event.answer)
                continue
            if isinstance(event, str) and event:
                parts.append(event)
                yield Update("delta", "".join(parts))
    except Exception:
        yield Update("message", _failure(f"answering {question!r}"))
        return
    logger.error("the assistant's stream for %r ended without an answer", question)
    yield Update("message", FAILED.format(ref="no-answer"))


def _failure(what: str) -> str:
    ref = uuid.uuid4().hex[:8]
    logger.exception("error %s while %s", ref, what)
    return FAILED.format(ref=ref)


def _bubble(role: str, content: str) -> Message:
    return {"role": role, "content": content}


def chat_turn(
    source: AssistantSource, question: str, conversation: Conversation | None
) -> Iterator[tuple[str, list[Message], str, Conversation]]:
    """The page's chat event: yields (textbox, chatbot messages, sources HTML, conversation).

    The question shows at once; the answer streams into the last bubble and is replaced
    by the final ``answer.text`` (authoritative) with its sources beside it.
    """
    conversation = conversation or Conversation()
    question = (question or "").strip()
    shown = conversation.display
    if question:
        shown = (*shown, _bubble("user", chat_message(question)))
        yield "", list(shown), render_sources(message=SOURCES_WORKING), conversation
    draft: Answer | None = None  # the quoted answer, while a language model writes
    for update in answer_events(source, question, conversation.history):
        if update.kind == "draft" and update.answer is not None:
            draft = update.answer
            quoted = labelled("quoted", draft.language, answer_message(draft))
            yield "", [*shown, _bubble("assistant", quoted)], render_sources(draft), conversation
        elif update.kind == "delta":
            content = chat_message(update.text)
            if draft is not None:
                quoted = labelled("quoted", draft.language, answer_message(draft))
                content = quoted + "\n\n" + labelled("writing", draft.language, content)
            streaming = [*shown, _bubble("assistant", content)]
            sources = render_sources(draft) if draft else render_sources(message=SOURCES_WORKING)
            yield "", streaming, sources, conversation
        elif update.kind == "answer" and update.answer is not None:
            answer = update.answer
            content = answer_message(answer)
            if draft is not None:
                which = {"llm": "checked", "translation": "translated"}.get(answer.stage, "kept")
                content = labelled(which, answer.language, content)
            bubble = _bubble("assistant", content)
            history = (
                *conversation.history,
                _bubble("user", question),
                _bubble("assistant", answer.text),
            )
            conversation = Conversation(history, (*shown, bubble), answer)
            yield "", list(conversation.display), render_sources(answer), conversation
        else:
            bubble = _bubble("assistant", chat_message(update.text))
            conversation = Conversation(conversation.history, (*shown, bubble), None)
            yield "", list(conversation.display), render_sources(), conversation


def api_turn(
    source: AssistantSource, message: str, conversation: Conversation | None
) -> Iterator[tuple[str, Conversation]]:
    """The ``/chat`` API endpoint: yields (answer text so far, conversation); the last is final."""
    conversation = conversation or Conversation()
    for update in answer_events(source, message, conversation.history):
        if update.kind == "answer":
            history = (
                *conversation.history,
                _bubble("user", (message or "").strip()),
                _bubble("assistant", update.text),
            )
            conversation = Conversation(history, conversation.display, update.answer)
        yield update.text, conversation
