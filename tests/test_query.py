"""A question analysed once: language, kind, follow-ups, words, what is searched."""

from __future__ import annotations

import pytest

import rag.language
import rag.query
import rag.retriever
from rag.query import analyse, conversation, follow_up_text, retrieval_query
from rag.settings import AnswerPolicy

LEADERS = "APEC經濟領袖會議在哪裡舉行？"
HISTORY = [{"role": "user", "content": LEADERS}, {"role": "assistant", "content": "舊金山 [1]"}]


def test_a_question_is_analysed(small_retriever) -> None:  # type: ignore[no-untyped-def]
    q = analyse("  領袖會議什麼時候舉行？ ", [], small_retriever)
    assert q.text == "領袖會議什麼時候舉行？"
    assert q.language == "zh-Hant" and q.chinese
    assert q.kind == "date"
    assert not q.follow_up and q.search_text == q.text
    assert "领袖" in q.terms  # normalised to Simplified
    assert not q.names_nothing and not q.cut


def test_a_follow_up_searches_with_the_question_before(small_retriever) -> None:  # type: ignore[no-untyped-def]
    q = analyse("那什麼時候？", HISTORY, small_retriever)
    assert q.follow_up and q.search_text == f"{LEADERS} 那什麼時候？"
    assert "领袖" in q.search_terms and "领袖" not in q.terms


def test_a_follow_up_the_same_in_both_scripts_is_in_the_conversations(small_retriever) -> None:  # type: ignore[no-untyped-def]
    asked = [{"role": "user", "content": "领袖会议在哪里举行？"}]
    assert analyse("它在哪？", asked, small_retriever).language == "zh-Hans"
    assert analyse("它在哪？", [], small_retriever).language == "zh-Hant"


def test_a_long_question_is_cut_and_says_by_how_much(small_retriever) -> None:  # type: ignore[no-untyped-def]
    q = analyse("茶" * 30, [], small_retriever, AnswerPolicy(max_question_chars=20))
    assert len(q.text) == 20 and q.cut == 10


def test_a_short_question_naming_nothing_known_is_a_new_topic(small_retriever) -> None:  # type: ignore[no-untyped-def]
    assert not analyse("今天天氣如何？", HISTORY, small_retriever).follow_up  # nothing known
    assert not analyse("講個笑話", HISTORY, small_retriever).follow_up  # a noun unknown
    assert analyse("那什麼時候？", HISTORY, small_retriever).follow_up  # only asks


def test_names_nothing_and_empty(small_retriever) -> None:  # type: ignore[no-untyped-def]
    assert analyse("那什麼時候？", [], small_retriever).names_nothing
    assert analyse("When is it?", [], small_retriever).names_nothing
    with pytest.raises(ValueError, match="empty"):
        analyse("  ", [], small_retriever)


def test_follow_ups_carry_the_previous_question() -> None:
    assert retrieval_query("那什麼時候？", HISTORY) == f"{LEADERS} 那什麼時候？"
    assert retrieval_query("Who will speak there?", HISTORY) == f"{LEADERS} Who will speak there?"
    standalone = "糧食安全部長會議通過了哪一份原則文件？"
    assert retrieval_query(standalone, HISTORY) == standalone
    assert retrieval_query("那什麼時候？", []) == "那什麼時候？"
    assert retrieval_query("And the date?", HISTORY) == f"{LEADERS} And the date?"
    risk = "希望借此应对什么风险？"  # "by this": it points back, however long
    assert retrieval_query(risk, HISTORY) == f"{LEADERS} {risk}"
    joke = "Tell me a joke."
    assert follow_up_text(joke, "en", HISTORY, starts_new_topic=lambda: True) == joke
    assert follow_up_text(joke, "en", HISTORY, starts_new_topic=lambda: False) != joke


def test_each_analysis_runs_once_per_question(
    small_retriever,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Answering a question detects its language, translates it, reads its kind and
    whether it is about the document once each."""
    import numpy as np

    from rag.answer import Assistant
    from rag.decision import fit
    from rag.features import FEATURES

    calls: dict[str, int] = {}

    def counted(name: str, function):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls[name] = calls.get(name, 0) + 1
            return function(*args, **kwargs)

        return wrapper

    for module in (rag.query, rag.retriever):
        monkeypatch.setattr(
            module, "detect_language", counted("language", rag.language.detect_language)
        )
    monkeypatch.setattr(rag.query, "asked_kind", counted("kind", rag.query.asked_kind))
    monkeypatch.setattr(
        rag.query, "is_about_the_document", counted("about", rag.query.is_about_the_document)
    )
    translate = small_retriever.translated_terms
    monkeypatch.setattr(small_retriever, "translated_terms", counted("translate", translate))
    x = np.random.default_rng(0).normal(size=(50, len(FEATURES)))
    model = fit(x, (x[:, 0] > 0).astype(float))
    Assistant(small_retriever, llm=None, model=model).ask("領袖會議什麼時候舉行？")
    assert calls == {"language": 1, "kind": 1, "about": 1, "translate": 1}


def test_a_history_is_read_in_either_gradio_form_and_refused_otherwise() -> None:
    messages = [{"role": "user", "content": "Where?", "metadata": None}]
    assert conversation(messages) == [{"role": "user", "content": "Where?"}]
    assert conversation([("Where?", "In Seattle.")]) == [
        {"role": "user", "content": "Where?"},
        {"role": "assistant", "content": "In Seattle."},
    ]
    assert conversation(None) == []
    assert conversation([{"role": "user", "content": [{"type": "file"}]}]) == [
        {"role": "user", "content": ""}
    ]
    for wrong in ("Where?", {"role": "user"}, [{"text": "Where?"}], [("a", "b", "c")]):
        with pytest.raises(ValueError, match="history"):
            conversation(wrong)
    assert retrieval_query("When?", [("Where is SOM3?", "Seattle")]) == "Where is SOM3? When?"
