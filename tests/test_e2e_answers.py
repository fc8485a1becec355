"""End to end on documents nobody tuned on: the real model, index and learned decision."""

from __future__ import annotations

import re

import pytest

import rag

DOCS = {
    "prussia.txt": (
        "普魯士教育\n\n"
        "普魯士是最早實行義務教育的國家之一。腓特烈·威廉一世於1717年頒布法令，"
        "規定所有兒童必須上學。這項制度後來成為許多國家教育體系的範本。\n"
    ),
    "mongols.txt": (
        "Genghis Khan\n\n"
        "Temujin united the Mongol tribes after years of war.[1] In 1206 he was proclaimed "
        "Genghis Khan,[2] the Great Khan of the Mongols, at a gathering on the Onon River.[3][4] "
        "His empire later stretched from China to the Caspian Sea.[citation needed]\n"
    ),
    "normans.txt": (
        "Normans\n\n"
        "The Normans were the people who in the 10th and 11th centuries gave their name to "
        "Normandy, a region in France. The name Norman comes from Norseman, meaning "
        "a man from the north, because they descended from Norse raiders.\n"
    ),
}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> rag.Assistant:
    root = tmp_path_factory.mktemp("unseen")
    seeds = root / "seeds"
    seeds.mkdir()
    for name, text in DOCS.items():
        (seeds / name).write_text(text, encoding="utf-8")
    rag.build_index(seeds, root / "index")
    return rag.Assistant(rag.Retriever.load(root / "index"), llm=None)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("普魯士的義務教育制度在哪一年開始？", "1717"),
        ("When did Genghis Khan become Great Khan?", "1206"),
    ],
)
def test_a_year_outside_the_last_two_centuries_answers_when(
    assistant: rag.Assistant, question: str, fact: str
) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained, answer.text
    assert fact in answer.text
    assert answer.confidence is not None and 0 < answer.confidence <= 1


@pytest.mark.slow
def test_a_wikipedia_footnote_mark_is_never_taken_for_a_citation(assistant: rag.Assistant) -> None:
    answer = assistant.ask("Where was Temujin proclaimed Genghis Khan?")
    assert "Onon River" in answer.text
    assert re.findall(r"\[(\d+)\]", answer.text) == ["1"] * len(re.findall(r"\[", answer.text))
    assert "citation needed" not in answer.text
    for passage in answer.citations:
        assert "[2]" not in passage.text and "[3]" not in passage.text


@pytest.mark.slow
def test_a_title_line_is_never_the_whole_answer(assistant: rag.Assistant) -> None:
    answer = assistant.ask("What is the original meaning of the word Norman?")
    assert not answer.abstained, answer.text
    quoted = [line for line in answer.text.splitlines()[1:] if line.strip()]
    assert quoted and all(line.split(" [")[0].strip() != "Normans" for line in quoted)
    assert "Norseman" in answer.text


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    ["構成宇宙的基本單位是什麼？", "Who composed the Moonlight Sonata?", "北魏律於何年頒布？"],
)
def test_a_question_about_something_absent_is_declined(
    assistant: rag.Assistant, question: str
) -> None:
    answer = assistant.ask(question)
    assert answer.abstained, answer.text
    assert answer.citations == []
    assert answer.stage in ("knows_nothing", "learned")  # no word known, or none close


@pytest.mark.slow
def test_what_the_documents_are_about_is_their_openings(assistant: rag.Assistant) -> None:
    titles = ("普魯士教育", "Genghis Khan", "Normans")
    leads = ("普魯士是最早", "腓特烈", "Temujin", "In 1206", "The Normans", "The name")
    answer = assistant.ask("What is this document about?")
    assert answer.stage == "summary" and not answer.abstained
    quoted = [line.split(" [")[0] for line in answer.text.splitlines()[1:]]
    assert quoted[0] in titles and quoted[1].startswith(leads), quoted  # a title, then its lead
    assert all(line in titles or line.startswith(leads) for line in quoted), quoted
