"""The model's prompt (bounded to what the answer needs) and its checked answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import rag
from rag.answer import Assistant, compose, markers_consistent
from rag.chunking import count_tokens
from rag.generate import (
    ELSEWHERE,
    NOT_CHECKED,
    NOT_IN_LANGUAGE,
    TRANSLATED,
    TRANSLATING,
    UNCHECKED,
    Generator,
    answering_sentences,
    excerpt,
    in_script,
    llm_messages,
    model_written,
    prompt_passages,
    quotation,
    quoted_elsewhere,
)
from rag.llm import ChatClient, LLMConfig
from rag.query import analyse
from rag.settings import DEFAULT_LLM, LLMSettings
from rag.types import Answer, Draft, Passage

SOM3 = "第三次資深官員會議在哪裡舉行？"


@pytest.fixture(scope="module")
def assistant(real_index: Path) -> Assistant:
    client = ChatClient(LLMConfig(base_url="http://127.0.0.1:9", model="m"))
    return Assistant(rag.Retriever.load(real_index), llm=client)


def _prepared(assistant: Assistant, question: str):  # type: ignore[no-untyped-def]
    query = analyse(question, [], assistant.retriever, assistant.policy)
    hits, _ = assistant.retrieve(query)
    return query, hits, assistant.score(query, hits)


def test_the_prompt_holds_the_best_sentences_within_its_token_budget(assistant) -> None:
    settings = LLMSettings(passages=3, passage_tokens=60, prompt_tokens=150)
    _, hits, scored = _prepared(assistant, SOM3)
    sent = prompt_passages(hits, scored, settings)
    assert 1 <= len(sent) <= 3
    sizes = [count_tokens(p.text) for _, p in sent]
    assert all(size <= 60 for size in sizes[1:]) and sum(sizes) <= 150 + sizes[0]
    assert "西雅圖" in sent[0][1].text  # the passage of the best sentence comes first
    assert sent[0][0] is hits[scored[0].candidate.hit]
    full = sum(count_tokens(h.passage.text) for h in hits)
    assert sum(sizes) < full / 2


def test_an_excerpt_keeps_the_best_sentence_and_grows_around_it(assistant) -> None:
    _, hits, _ = _prepared(assistant, SOM3)
    hit = max(hits, key=lambda h: len(h.chunk.sentences))
    a, b = hit.chunk.sentences[1]
    small = excerpt(hit, 1, count_tokens(hit.chunk.text[a:b]))
    assert small == hit.chunk.text[a:b]
    assert excerpt(hit, 1, 10_000) == hit.chunk.text


def test_the_prompt_sees_only_the_last_turns() -> None:
    history = [{"role": "user", "content": f"q{i}"} for i in range(5)]
    passages = [Passage(id="p", text="t", score=1.0, source="a.txt", start=0, end=1)]
    messages = llm_messages("Q?", "en", passages, history, DEFAULT_LLM)
    assert [m["content"] for m in messages[1:-1]] == ["q3", "q4"]


def test_chinese_is_shown_in_the_askers_script() -> None:
    assert in_script("会议在西雅图召开", "zh-Hant") == "會議在西雅圖召開"
    assert in_script("會議在西雅圖召開", "zh-Hans") == "会议在西雅图召开"
    assert in_script("Seattle", "en") == "Seattle"


def test_the_checked_answer_keeps_supported_sentences_and_says_how_many_went(assistant) -> None:
    query, hits, scored = _prepared(assistant, SOM3)
    quoted = compose(query, hits, scored, assistant.policy, assistant.model.threshold)
    generator = assistant.generator
    assert isinstance(generator, Generator)
    sent = [h for h, _ in prompt_passages(hits, scored)]
    reply = "会议在西雅图召开[1]。会议共有九百人参加[1]。"
    answer = generator.checked(reply, sent, "zh-Hant", quoted)
    assert answer.stage == "llm" and not answer.abstained
    assert answer.text == "會議在西雅圖召開[1]。"
    assert "1" in answer.notice and "西雅圖" in answer.citations[0].text
    fallback = generator.checked("会议在东京召开[1]。", sent, "zh-Hant", quoted)
    assert fallback.text == quoted.text and fallback.notice == UNCHECKED["zh-Hant"]
    # supported, but not what was asked: "when?" answered without a date
    reply = "会议在西雅图召开[1]。"
    off = generator.checked(reply, sent, "zh-Hant", quoted, "會議何時召開？", "date")
    assert off.text == quoted.text and off.notice == UNCHECKED["zh-Hant"]


def test_an_answer_resting_on_other_sentences_than_the_answering_ones_is_not_shown(
    assistant,  # type: ignore[no-untyped-def]
) -> None:
    query, hits, scored = _prepared(assistant, SOM3)
    quoted = compose(query, hits, scored, assistant.policy, assistant.model.threshold)
    generator = assistant.generator
    assert isinstance(generator, Generator)
    sent = [h for h, _ in prompt_passages(hits, scored)]
    answering = answering_sentences(hits, scored, sent, 1)
    [(number, best)] = sorted(answering)
    hit = sent[number - 1]
    a, b = hit.chunk.sentences[best]
    assert "西雅圖" in hit.chunk.text[a:b]
    right = generator.checked(hit.chunk.text[a:b], sent, "zh-Hant", quoted, answering=answering)
    assert right.stage == "llm" and "西雅圖" in right.text
    # a sentence of the passages copied whole, far from the answering one: shown when
    # any sentence will do, not when the answer must rest on the answering ones
    far = [
        h.chunk.text[x:y]
        for k, h in enumerate(sent, 1)
        for i, (x, y) in enumerate(h.chunk.sentences)
        if k != number or abs(i - best) > generator.checker.settings.reach
    ]
    other = next(t for t in far if generator.checked(t, sent, "zh-Hant", quoted).stage == "llm")
    off = generator.checked(other, sent, "zh-Hant", quoted, answering=answering)
    assert off.text == quoted.text and off.notice == ELSEWHERE["zh-Hant"]


class Scripted:
    """A model client that gives each of ``replies`` in turn and keeps what it was asked."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.asked: list[list[dict[str, str]]] = []

    def stream(self, messages: list[dict[str, str]], max_tokens: int = 0) -> Iterator[str]:
        self.asked.append(messages)
        yield self.replies.pop(0)


SEATTLE_EN = (
    "The 2023 APEC third Senior Officials' Meeting (SOM3) and related meetings were held "
    "from July 29 to August 21 in Seattle, Washington State, USA [1]."
)


def _streamed(assistant: Assistant, question: str, client: Scripted) -> list:  # type: ignore[type-arg]
    query, hits, scored = _prepared(assistant, question)
    quoted = compose(query, hits, scored, assistant.policy, assistant.model.threshold)
    generator = Generator(client, assistant.retriever)  # type: ignore[arg-type]
    return [quoted, *generator.stream(query, hits, scored, [], quoted)]


def test_a_quote_in_another_language_is_translated_checked_and_shown_above_it(assistant) -> None:
    client = Scripted("SOM3 was held in Tokyo [1].", SEATTLE_EN)
    quoted, *events = _streamed(assistant, "Where was SOM3 held?", client)
    drafts = [e.answer for e in events if isinstance(e, Draft)]
    final = events[-1]
    unchecked = NOT_CHECKED["en"]  # the first reply was not shown
    assert [d.notice for d in drafts] == [TRANSLATING["en"].format(why=unchecked)]
    assert final.stage == "translation" and final.notice == TRANSLATED["en"].format(why=unchecked)
    assert model_written(final) == SEATTLE_EN
    assert final.text.endswith(quotation(quoted)) and "西雅圖" in quotation(quoted)
    assert final.citations == quoted.citations and markers_consistent(final)
    translation_request = client.asked[1]
    assert "into English" in translation_request[0]["content"]
    assert "西雅圖" in translation_request[1]["content"]
    assert "Where was SOM3" not in translation_request[1]["content"]  # the sentence alone


SEATTLE_ZH = "第三次資深官員會議7月29日至8月21日於西雅圖舉行[1]。"


def test_a_checked_answer_in_the_other_language_gives_way_to_a_checked_translation(
    assistant,
) -> None:
    client = Scripted(SEATTLE_ZH, SEATTLE_EN)
    _, *events = _streamed(assistant, "Where was SOM3 held?", client)
    final = events[-1]
    why = NOT_IN_LANGUAGE["en"]
    assert [e.answer.notice for e in events if isinstance(e, Draft)] == [
        TRANSLATING["en"].format(why=why)
    ]
    assert final.stage == "translation" and final.notice == TRANSLATED["en"].format(why=why)
    assert model_written(final) == SEATTLE_EN and len(client.asked) == 2


def test_the_checked_answer_in_the_other_language_stands_when_its_translation_fails(
    assistant,
) -> None:
    client = Scripted(SEATTLE_ZH, "SOM3 was held in Tokyo [1].")
    _, *events = _streamed(assistant, "Where was SOM3 held?", client)
    final = events[-1]
    assert final.stage == "llm" and "西雅圖" in final.text and len(client.asked) == 2


def test_a_translation_that_loses_a_date_or_adds_a_fact_is_not_shown(assistant) -> None:
    for translation in (
        "The third Senior Officials' Meeting was held in Seattle [1].",  # dates and year lost
        SEATTLE_EN.replace("Seattle, Washington State, USA", "Tokyo"),  # a place added
    ):
        client = Scripted("SOM3 was held in Tokyo [1].", translation)
        quoted, *events = _streamed(assistant, "Where was SOM3 held?", client)
        final = events[-1]
        assert final.stage == "compose" and final.notice == UNCHECKED["en"]
        assert final.text == quoted.text and len(client.asked) == 2


def test_a_quote_in_the_askers_language_is_not_translated(assistant) -> None:
    client = Scripted("第三次資深官員會議在東京舉行[1]。")
    quoted, *events = _streamed(assistant, SOM3, client)
    assert events[-1].text == quoted.text and len(client.asked) == 1
    assert not any(isinstance(e, Draft) for e in events)


def test_a_quote_is_elsewhere_when_its_language_is_not_the_askers() -> None:
    cited = [Passage(id="p", text="會議在西雅圖舉行。", score=1.0, source="a", start=0, end=9)]
    chinese = Answer(text="From the documents:\n會議在西雅圖舉行。 [1]", citations=cited)
    english = Answer(text="根據文件：\nThe meeting was held in Seattle. [1]", citations=cited)
    assert quoted_elsewhere(chinese, "en") and not quoted_elsewhere(chinese, "zh-Hant")
    assert quoted_elsewhere(english, "zh-Hans") and not quoted_elsewhere(english, "en")
    assert quotation(chinese) == "會議在西雅圖舉行。 [1]"
    # a label line of the quoted answer is no quote: a short English one stays English
    also = Answer(text="根據文件：\nIn 1206. [1]\n文件中另有提及：\nIn 1207. [1]", citations=cited)
    assert quoted_elsewhere(also, "zh-Hant")
    declined = Answer(text="文件中沒有答案。\n可能有關：…", citations=cited, abstained=True)
    assert not quoted_elsewhere(declined, "en")
