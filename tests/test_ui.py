"""The chat page without a server: HTML rendering, the chat turn, hot reload, errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from rag import Answer, Draft, Passage
from ui import chat, render
from ui.chat import Conversation, Update, answer_events, api_turn, chat_turn
from ui.engine import NO_INDEX, IndexUnavailableError, LiveAssistant

EVIL = '<script>alert("x")</script><img src=x onerror="alert(1)">'


def passage(text: str, highlights: tuple[tuple[int, int], ...] = (), **kw: object) -> Passage:
    fields: dict = {
        "id": "p1",
        "score": 1.0,
        "source": "apec.txt",
        "start": 100,
        "end": 100 + len(text),
        "section": "會議 › 地點",
    }
    fields.update(kw)
    return Passage(text=text, highlights=highlights, **fields)


class FakeAssistant:
    """Streams ``deltas`` then yields ``answer``; records what it was asked."""

    def __init__(self, answer: Answer, deltas: Sequence[str] = (), fail: Exception | None = None):
        self.answer = answer
        self.deltas = list(deltas)
        self.fail = fail
        self.calls: list[tuple[str, list[dict[str, str]]]] = []

    def stream(
        self, question: str, history: Sequence[dict[str, str]] | None = None
    ) -> Iterator[str | Answer]:
        self.calls.append((question, list(history or [])))
        yield from self.deltas
        if self.fail is not None:
            raise self.fail
        yield self.answer


class Fixed:
    """An assistant source that always returns the same assistant (or raises)."""

    def __init__(self, assistant: object = None, error: Exception | None = None) -> None:
        self.assistant = assistant
        self.error = error

    def get(self) -> object:
        if self.error is not None:
            raise self.error
        return self.assistant


MOSCONE = "APEC經濟領袖會議將於11月15日至17日，於舊金山的莫斯科康會議中心舉行。此外還有高峰會。"
QUOTE = (0, MOSCONE.index("此外"))
ANSWER = Answer(
    text=f"根據文件：\n{MOSCONE[: QUOTE[1]]} [1]",
    citations=[passage(MOSCONE, (QUOTE,))],
    language="zh-Hant",
)


# ---------------------------------------------------------------------------- rendering


def test_sources_escape_document_text_and_metadata() -> None:
    p = passage(
        f"before {EVIL} after",
        ((7, 7 + len(EVIL)),),
        source="<b>x</b>.txt",
        section="<img src=y onerror=z>",
    )
    html = render.render_sources(Answer(text="t [1]", citations=[p]))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=y onerror=z&gt;" in html and "&lt;b&gt;x&lt;/b&gt;.txt" in html
    assert f"<mark>{render.escape(EVIL)}</mark>" in html


def test_highlight_marks_exactly_the_quoted_span() -> None:
    html = render.highlight(MOSCONE, [QUOTE])
    marked = re.findall(r"<mark>(.*?)</mark>", html)
    assert marked == [MOSCONE[: QUOTE[1]]]
    assert html.endswith("此外還有高峰會。")  # the rest is not marked


def test_highlight_marks_what_is_only_also_mentioned_apart() -> None:
    text = "答案在此。另一日期。"
    html = render.highlight(text, [(0, 5), (5, 10)], also=[(5, 10)])
    assert html == '<mark>答案在此。</mark><mark class="rag-also">另一日期。</mark>'


def test_highlight_merges_overlaps_clamps_and_ignores_empty_spans() -> None:
    text = "0123456789"
    assert render.highlight(text, [(6, 8), (2, 4), (3, 5), (9, 99), (-5, 1), (7, 7)]) == (
        "<mark>0</mark>1<mark>234</mark>5<mark>67</mark>8<mark>9</mark>"
    )
    assert render.highlight("a<b", []) == "a&lt;b"


def test_source_card_shows_number_file_characters_then_section_on_its_own_line() -> None:
    html = render.render_sources(ANSWER)
    assert render.SOURCES_TITLE in html
    text = re.sub(r"<[^>]+>", "", html)
    assert "[1]apec.txt · characters 100–" in text
    # The section path has a line of its own (cut with an ellipsis by CSS) and its full
    # text in the tooltip.
    assert '<div class="rag-section" title="會議 › 地點">會議 › 地點</div>' in html
    assert "white-space: nowrap" in render.SOURCES_CSS and "text-overflow: ellipsis" in (
        render.SOURCES_CSS
    )


def test_source_card_without_section_has_no_section_line() -> None:
    html = render.passage_card(passage("text", section=""), 1)
    assert "rag-section" not in html and "characters 100–104" in html


def test_a_pdf_passage_names_its_page_in_the_card_and_the_meta_line() -> None:
    from dataclasses import replace

    pdf = replace(passage("text", source="report.pdf"), page=3)
    text = re.sub(r"<[^>]+>", "", render.passage_card(pdf, 1))
    assert "[1]report.pdf · page 3 · characters 100–104" in text
    assert render.passage_meta(pdf).startswith("report.pdf · page 3 · characters 100–104")
    assert "page" not in render.passage_meta(passage("text"))


def test_abstention_shows_related_passages_unmarked_or_says_nothing_found() -> None:
    related = passage("可能有關的段落", ((0, 2),))
    html = render.render_sources(Answer(text="沒有", abstained=True, related=[related]))
    assert "可能相關" in html and "Possibly related" in html and "可能有關的段落" in html
    assert "<mark>" not in html and "[1]" not in html
    assert html.index(render.SOURCES_TITLE) < html.index(render.RELATED_TITLE)  # "under Sources"
    html = render.render_sources(Answer(text="沒有", abstained=True))
    assert render.NO_SOURCES in html


@pytest.mark.parametrize(
    ("language", "pointer"),
    [
        ("en", "Related passages are shown under Sources."),
        ("zh-Hant", "可能相關的段落列在「引用來源」中。"),
        ("zh-Hans", "可能相关的段落列在“引用来源”中。"),
        ("fr", render.RELATED_POINTER_BOTH),
    ],
)
def test_declined_answer_with_related_passages_says_where_they_are(
    language: str, pointer: str
) -> None:
    related = [passage("可能有關的段落")]
    declined = Answer(text="No <answer>.", abstained=True, related=related, language=language)
    assert render.answer_message(declined) == f"No &lt;answer&gt;.\n\n{pointer}"
    for wording in render.RELATED_POINTER.values():  # the panel is beside or after the chat
        assert "below" not in wording and "以下" not in wording and "下方" not in wording


def test_answer_message_adds_no_pointer_without_related_passages() -> None:
    declined = Answer(text="No answer.", abstained=True, language="en")
    assert render.answer_message(declined) == "No answer."
    assert render.answer_message(ANSWER) == render.chat_message(ANSWER.text)


def test_sources_link_counts_the_passages_shown() -> None:
    assert ">Sources · 引用來源 ↓</a>" in render.render_sources_link()
    assert 'href="#rag-sources-panel"' in render.render_sources_link()
    assert "(1) ↓" in render.render_sources_link(ANSWER)
    assert "(1)" not in render.render_sources_link(ANSWER, pending=True)
    related = Answer(text="沒有", abstained=True, related=[passage("a"), passage("b")])
    assert "(2) ↓" in render.render_sources_link(related)
    assert "(0) ↓" in render.render_sources_link(Answer(text="沒有", abstained=True))


def test_status_says_what_is_indexed_and_when_never_the_version_id() -> None:
    def text(html: str) -> str:
        return re.sub(r"<[^>]+>", "", html)

    html = render.render_status("v1795944856932-16012-48e900", 22, 3, "2026-11-29T11:20:05+0000")
    assert text(html) == (
        "Index: 3 documents, 22 passages, built 2026-11-29 11:20 · 索引：3 份文件、22 個段落"
    )
    assert "v1795944856932" not in html and "version" not in html
    assert text(render.render_status("v1", 1, 1)).startswith("Index: 1 document, 1 passage ·")
    assert "No index yet" in render.render_status(None)
    assert "broken &lt;x&gt;" in render.render_status(None, error="broken <x>")


def test_notice_is_shown_escaped_in_panel_and_chat() -> None:
    answer = Answer(text="a [1]", citations=[passage("a")], notice="LLM <down>")
    assert "⚠ LLM &lt;down&gt;" in render.render_sources(answer)
    assert render.chat_message(answer.text, answer.notice) == "a [1]\n\n⚠ LLM &lt;down&gt;"


def test_chat_message_escapes_html_but_keeps_text_readable() -> None:
    shown = render.chat_message(f"It's {EVIL} & more")
    assert "<" not in shown and ">" not in shown
    assert shown.startswith('It\'s &lt;script&gt;alert("x")') and "&amp; more" in shown


# ---------------------------------------------------------------------------- chat turn


def test_chat_turn_streams_then_replaces_with_final_text_and_sources() -> None:
    fake = FakeAssistant(ANSWER, deltas=["根據文件：", "\n草稿 [9]"])
    steps = list(chat_turn(Fixed(fake), "  APEC經濟領袖會議在哪裡舉行？ ", None))
    boxes = {box for box, *_ in steps}
    assert boxes == {""}  # the question box is cleared
    first_messages = steps[0][1]
    assert first_messages == [{"role": "user", "content": "APEC經濟領袖會議在哪裡舉行？"}]
    streamed = [m[-1]["content"] for _, m, _, _ in steps if m[-1]["role"] == "assistant"]
    assert streamed[:2] == ["根據文件：", "根據文件：\n草稿 [9]"]
    _, messages, sources, conversation = steps[-1]
    assert messages[-1] == {"role": "assistant", "content": ANSWER.text}  # authoritative
    assert "[9]" not in messages[-1]["content"]
    assert "<mark>" in sources and "[1]" in sources
    assert conversation.history == (
        {"role": "user", "content": "APEC經濟領袖會議在哪裡舉行？"},
        {"role": "assistant", "content": ANSWER.text},
    )
    assert conversation.answer is ANSWER
    assert render.SOURCES_WORKING in steps[0][2]


def test_llm_turn_shows_the_quoted_answer_first_then_the_checked_one_labelled() -> None:
    cited = [passage("舊金山")]
    quoted = Answer(text="根據文件：\n舊金山 [1]", citations=cited, language="zh-Hant")
    final = Answer(
        text="會議在舊金山舉行[1]。",
        citations=[passage("舊金山")],
        language="zh-Hant",
        stage="llm",
    )
    fake = FakeAssistant(final, deltas=[Draft(quoted), "會議在", "舊金山舉行[1]。"])  # type: ignore[list-item]
    steps = list(chat_turn(Fixed(fake), "領袖會議在哪裡舉行？", None))
    bubbles = [m[-1]["content"] for _, m, _, _ in steps if m[-1]["role"] == "assistant"]
    first, writing, done = bubbles[0], bubbles[-2], bubbles[-1]
    assert "直接引用文件（語言模型正在撰寫回答）" in first and "舊金山 [1]" in first
    assert "[1]" in steps[1][2]  # its sources show at once too
    assert writing.index("舊金山 [1]") < writing.index("尚未核對") < writing.index("會議在舊金山")
    assert "每句都已與引用段落核對" in done and "會議在舊金山舉行[1]。" in done
    assert "正在撰寫" not in done
    assert steps[-1][3].history[-1] == {"role": "assistant", "content": final.text}


def test_llm_turn_that_kept_the_quoted_answer_says_so() -> None:
    cited = [passage("舊金山")]
    quoted = Answer(text="根據文件：\n舊金山 [1]", citations=cited, language="zh-Hant")
    kept = Answer(
        text=quoted.text, citations=quoted.citations, language="zh-Hant", notice="無法核對"
    )
    fake = FakeAssistant(kept, deltas=[Draft(quoted), "不對的話"])  # type: ignore[list-item]
    steps = list(chat_turn(Fixed(fake), "領袖會議在哪裡舉行？", None))
    done = steps[-1][1][-1]["content"]
    assert done.startswith("<b>直接引用文件：</b>") and "無法核對" in done
    assert "不對的話" not in done


def test_llm_turn_restarts_the_model_text_at_a_second_draft_and_labels_a_translation() -> None:
    cited = [passage("西雅圖")]
    quoted = Answer(text="From the documents:\n西雅圖 [1]", citations=cited, language="en")
    translating = Answer(
        text=quoted.text, citations=cited, language="en", notice="it is translating"
    )
    final = Answer(
        text="Seattle [1].\n\nOriginal:\n西雅圖 [1]",
        citations=cited,
        language="en",
        stage="translation",
    )
    deltas = [Draft(quoted), "Tokyo", Draft(translating), "Seattle", " [1]."]
    steps = list(chat_turn(Fixed(FakeAssistant(final, deltas=deltas)), "Where?", None))  # type: ignore[arg-type]
    bubbles = [m[-1]["content"] for _, m, _, _ in steps if m[-1]["role"] == "assistant"]
    second = next(i for i, b in enumerate(bubbles) if "it is translating" in b)
    assert "Tokyo" in bubbles[second - 1]
    assert all("Tokyo" not in b for b in bubbles[second:])  # the first reply is gone
    assert "Seattle [1]." in bubbles[-2]
    assert bubbles[-1].startswith("<b>Language model's translation of the sentence")
    assert "Seattle [1]." in bubbles[-1] and "西雅圖 [1]" in bubbles[-1]


def test_declined_turn_points_to_the_related_passages_in_the_chat_only() -> None:
    related = [passage("可能有關的段落")]
    declined = Answer(
        text="文件中沒有這個問題的答案。", abstained=True, related=related, language="zh-Hant"
    )
    source = Fixed(FakeAssistant(declined))
    *_, (_, messages, sources, conversation) = chat_turn(source, "問？", None)
    assert messages[-1]["content"].endswith(render.RELATED_POINTER["zh-Hant"])
    assert render.RELATED_TITLE in sources and "可能有關的段落" in sources
    assert conversation.history[-1]["content"] == declined.text  # the assistant's own words
    *_, (text, _) = api_turn(source, "問？", None)
    assert text == declined.text  # the API has no sources panel to point to


def test_follow_up_passes_the_history_to_the_assistant() -> None:
    fake = FakeAssistant(ANSWER)
    *_, (_, _, _, first) = chat_turn(Fixed(fake), "APEC經濟領袖會議在哪裡舉行？", None)
    *_, (_, messages, _, second) = chat_turn(Fixed(fake), "那什麼時候？", first)
    assert fake.calls[0] == ("APEC經濟領袖會議在哪裡舉行？", [])
    assert fake.calls[1] == ("那什麼時候？", list(first.history))
    assert len(messages) == 4 and len(second.history) == 4


def test_question_with_html_is_shown_escaped() -> None:
    fake = FakeAssistant(ANSWER)
    steps = list(chat_turn(Fixed(fake), EVIL, None))
    assert steps[0][1][0]["content"] == render.chat_message(EVIL)
    assert "<script" not in steps[0][1][0]["content"]
    assert fake.calls[0][0] == EVIL  # the assistant gets the raw question


def test_empty_question_gets_a_friendly_message_without_asking() -> None:
    fake = FakeAssistant(ANSWER)
    steps = list(chat_turn(Fixed(fake), "   ", None))
    assert len(steps) == 1
    _, messages, _, conversation = steps[0]
    assert messages == [{"role": "assistant", "content": render.chat_message(chat.EMPTY_QUESTION)}]
    assert fake.calls == [] and conversation.history == ()


def test_error_while_answering_becomes_a_message_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeAssistant(ANSWER, deltas=["partial "], fail=RuntimeError("boom in faiss"))
    with caplog.at_level(logging.ERROR, logger="ui.chat"):
        steps = list(chat_turn(Fixed(fake), "問題？", Conversation()))
    _, messages, sources, conversation = steps[-1]
    shown = messages[-1]["content"]
    assert shown.startswith("Sorry, something went wrong") and "抱歉" in shown
    assert "boom" not in shown and "Traceback" not in shown
    ref = re.search(r"error ([0-9a-f]{8})\)", shown)
    assert ref is not None
    record = next(r for r in caplog.records if ref.group(1) in r.getMessage())
    assert record.exc_info is not None and "boom in faiss" in str(record.exc_info[1])
    assert conversation.history == ()  # a failed turn is not part of the follow-up context
    assert render.SOURCES_EMPTY in sources


def test_no_index_message_in_chat_and_api() -> None:
    source = Fixed(error=IndexUnavailableError(NO_INDEX))
    *_, (_, messages, _, _) = chat_turn(source, "問題？", None)
    assert "No index yet" in messages[-1]["content"] and "rag build" in messages[-1]["content"]
    assert "尚未建立索引" in messages[-1]["content"]
    assert [text for text, _ in api_turn(source, "問題？", None)] == [NO_INDEX]


def test_unexpected_error_getting_the_assistant_is_a_message() -> None:
    events = list(answer_events(Fixed(error=OSError("disk gone")), "問題？"))
    assert [e.kind for e in events] == ["message"]
    assert "disk gone" not in events[0].text


def test_stream_without_final_answer_is_reported() -> None:
    class NoAnswer(FakeAssistant):
        def stream(self, question: str, history: object = None) -> Iterator[str]:
            yield "half"

    events = list(answer_events(Fixed(NoAnswer(ANSWER)), "問題？"))
    assert events[0] == Update("delta", "half")
    assert events[-1].kind == "message" and "no-answer" in events[-1].text


def test_api_turn_yields_text_so_far_then_final_text_and_keeps_history() -> None:
    fake = FakeAssistant(ANSWER, deltas=["根據", "文件"])
    steps = list(api_turn(Fixed(fake), "APEC經濟領袖會議在哪裡舉行？", None))
    assert [text for text, _ in steps] == ["根據", "根據文件", ANSWER.text]
    conversation = steps[-1][1]
    list(api_turn(Fixed(fake), "那什麼時候？", conversation))
    assert fake.calls[1][1] == list(conversation.history)


# ---------------------------------------------------------------------------- hot reload


def write_current(index: Path, version: str) -> None:
    index.mkdir(parents=True, exist_ok=True)
    (index / "CURRENT").write_text(version + "\n", encoding="utf-8")


class Loader:
    """Loads a fake assistant per version; versions in ``broken`` fail to load."""

    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.broken: set[str] = set()

    def __call__(self, index: Path) -> tuple[object, str]:
        version = (index / "CURRENT").read_text(encoding="utf-8").strip()
        if version in self.broken:
            raise OSError(f"version {version} is unreadable")
        self.loaded.append(version)
        return FakeAssistant(Answer(text=f"from {version}")), version


def test_live_assistant_without_index_says_how_to_build_one(tmp_path: Path) -> None:
    live = LiveAssistant(tmp_path / "missing", loader=Loader())
    with pytest.raises(IndexUnavailableError, match="rag build"):
        live.get()
    assert live.info().version is None


def test_live_assistant_reloads_when_the_version_changes(tmp_path: Path) -> None:
    loader = Loader()
    live = LiveAssistant(tmp_path, loader=loader)
    with pytest.raises(IndexUnavailableError):
        live.get()
    write_current(tmp_path, "v1")  # an index appears: picked up without a restart
    first = live.get()
    assert live.get() is first and loader.loaded == ["v1"]  # no reload while unchanged
    write_current(tmp_path, "v2")
    second = live.get()
    assert second is not first and live.version == "v2" and loader.loaded == ["v1", "v2"]
    *_, (_, messages, _, _) = chat_turn(live, "問題？", None)
    assert messages[-1]["content"] == "from v2"


def test_failed_reload_keeps_the_old_assistant_and_retries_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loader = Loader()
    live = LiveAssistant(tmp_path, loader=loader, retry_after=0.0)
    write_current(tmp_path, "v1")
    old = live.get()
    loader.broken.add("v2")
    write_current(tmp_path, "v2")
    with caplog.at_level(logging.ERROR, logger="ui.engine"):
        assert live.get() is old
    assert live.version == "v1"
    assert any("v2" in r.getMessage() and r.exc_info for r in caplog.records)
    loader.broken.clear()  # fixed (e.g. a retried build): the next question loads it
    assert live.get() is not old and live.version == "v2"


def test_failed_first_load_is_a_readable_message_and_not_retried_at_once(tmp_path: Path) -> None:
    loader = Loader()
    loader.broken.add("v1")
    live = LiveAssistant(tmp_path, loader=loader, retry_after=60.0)
    write_current(tmp_path, "v1")
    with pytest.raises(IndexUnavailableError, match=r"could not be loaded.*unreadable"):
        live.get()
    loader.broken.clear()
    with pytest.raises(IndexUnavailableError):  # within retry_after: not reloaded
        live.get()
    write_current(tmp_path, "v2")  # a new version is tried at once
    assert live.get() is not None and live.version == "v2"


# ---------------------------------------------------------------------------- the page


def test_create_app_exposes_chat_endpoint_even_without_index(tmp_path: Path) -> None:
    from ui.app import create_app

    app = create_app(tmp_path / "no-index", llm=None)
    named = {
        d.get("api_name")
        for d in app.config["dependencies"]
        if d.get("api_visibility", "public") == "public"
    }
    assert {"chat", "new_conversation"} <= named
    chat_dep = next(d for d in app.config["dependencies"] if d.get("api_name") == "chat")
    assert len(chat_dep["inputs"]) == 2 and len(chat_dep["outputs"]) == 2


def test_an_answer_shows_its_confidence_quietly() -> None:
    p = Passage(id="a", text="t", score=1.0, source="a.txt", start=0, end=1)
    html = render.render_sources(Answer(text="t [1]", citations=[p], confidence=0.823))
    assert "Answer confidence · 答案可信度: 82%" in html
    assert 'class="rag-note rag-confidence"' in html
    declined = Answer(text="No.", abstained=True, confidence=0.1)
    assert "confidence" not in render.render_sources(declined)
