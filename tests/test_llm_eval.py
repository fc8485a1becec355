"""The LLM-mode figures, on a real index and a real HTTP model server (the fake one)."""

from __future__ import annotations

from pathlib import Path

import rag
from rag.answer import Assistant
from rag.claims import ClaimChecker
from rag.evaluation import Question
from rag.llm import LLMConfig
from rag.llm_eval import in_language, report, run, scores, unsupported
from rag.types import Answer, Passage
from tests.openai_server import FakeOpenAIServer

QUESTIONS = [
    Question("q1", "zh-Hant", "第三次資深官員會議在哪個城市舉行？", True, facts=("西雅圖",)),
    Question("q2", "en", "Where will the APEC leaders' meeting be held?", True, facts=("Moscone",)),
    Question("q3", "en", "What is the capital of France?", False),
]
REPLIES = {
    # q2's quote translated: not the sentence quoted first (the forum's), so not shown
    "<passage>": "The APEC Economic Leaders' Meeting will be held from November 15 to 17 at "
    "the Moscone Center in San Francisco [1].",
    "第三次": "會議在西雅圖召開[1]。",  # right, cited
    "leaders": "It will be held at the Moscow Convergence Center [1].",  # wrong: not shown
    "France": "Paris [1].",  # never asked: the question is declined
}


def _reply(body: dict) -> str:  # type: ignore[type-arg]
    question = body["messages"][-1]["content"].rsplit("Question: ", 1)[-1]
    return next(reply for key, reply in REPLIES.items() if key in question)


def test_figures_count_what_was_shown(real_index: Path) -> None:
    retriever = rag.Retriever.load(real_index)
    checker = ClaimChecker(retriever.embedder, retriever.data.glossary)
    with FakeOpenAIServer(reply=_reply) as server:
        with_llm = Assistant(retriever, llm=LLMConfig(base_url=server.base_url, model="m"))
        turns = run(with_llm, Assistant(retriever, llm=None), QUESTIONS, checker)
        asked = len(server.requests)
    assert asked == 3  # q2 twice (its Chinese quote translated); the declined one never
    assert [t.shown.answer.stage for t in turns][:2] == ["llm", "compose"]
    assert turns[1].shown.reply.startswith("It will") and "Moscone" in turns[1].shown.translation
    assert turns[0].shown.first_token is not None and turns[2].shown.first_token is None
    s = scores(turns)
    assert s.questions == 3 and s.answerable == 2 and s.model_answers == 1
    assert s.unsupported == 0 and s.sentences == 1
    # q1 right from the model; q2's wrong reply is not shown, the quoted answer stands
    assert s.fact_llm == s.fact_quoted == 0.5 and s.wrongly_declined == 0.0
    assert s.model_chinese_ok == 1.0
    assert "claims shown that the cited passages do not support: 0" in report("f", s)


def test_a_sentence_its_marker_does_not_support_is_counted(real_index: Path) -> None:
    retriever = rag.Retriever.load(real_index)
    checker = ClaimChecker(retriever.embedder, retriever.data.glossary)
    tea = Passage(id="t", text="Tea grows on misty hills.", score=1.0, source="a", start=0, end=1)
    wrong = Answer(text="SOM3 was held in Seattle [1].", citations=[tea], stage="llm")
    assert unsupported(wrong, checker) == (1, 1)
    assert unsupported(Answer(text="x [1]", citations=[tea], stage="compose"), checker) == (0, 0)


def test_language_and_script_of_an_answer() -> None:
    assert in_language(Answer(text="會議在西雅圖召開。"), "zh-Hant")
    assert not in_language(Answer(text="会议在西雅图召开。"), "zh-Hant")
    assert in_language(Answer(text="It is in Seattle (西雅圖)."), "en")
    both = Answer(text="2035年前[1]")  # no character tells the scripts apart: either
    assert in_language(both, "zh-Hans") and in_language(both, "zh-Hant")
    assert not in_language(Answer(text="會議在西雅图召开。"), "zh-Hant")  # mixed


def test_questions_are_taken_in_turn_from_each_language_and_kind() -> None:
    from rag.llm_eval import interleaved

    questions = [
        Question("a1", "zh-Hant", "?", True),
        Question("a2", "zh-Hant", "?", True),
        Question("b1", "en", "?", True),
        Question("c1", "en", "?", False),
    ]
    assert [q.id for q in interleaved(questions)] == ["a1", "b1", "c1", "a2"]
