"""Evaluation: question files, relevance and fact checks, retrieval and answer metrics."""

from __future__ import annotations

import json
import re
import statistics
from itertools import pairwise
from pathlib import Path

import pytest

from rag.answer import History
from rag.evaluation import (
    DEFAULT_QUESTIONS,
    LANGUAGES,
    Question,
    WindowBaseline,
    evaluate_answers,
    evaluate_retrieval,
    first_line,
    has_fact,
    is_relevant,
    load_originals,
    load_questions,
)
from rag.types import Answer, Passage
from tests.conftest import REAL_SEEDS, SEED_NAME, FakeEmbedder

BUNDLED = sorted((Path(DEFAULT_QUESTIONS).parent).glob("*.jsonl"))

# One small "original" the hand-made retrieval cases point into.
ORIGINAL = "alpha beta gamma delta epsilon zeta eta theta"
ORIGINALS = {"doc.txt": ORIGINAL}


def _span(word: str, source: str = "doc.txt", score: float = 1.0) -> Passage:
    """A passage whose original span is exactly ``word`` in ORIGINAL."""
    start = ORIGINAL.index(word)
    return Passage(
        id=f"{source}#{start}",
        text=word,
        score=score,
        source=source,
        start=start,
        end=start + len(word),
    )


def _question(
    qid: str,
    lang: str = "en",
    answerable: bool = True,
    evidence: tuple[str, ...] = (),
    facts: tuple[str, ...] = (),
) -> Question:
    return Question(
        id=qid,
        lang=lang,
        question=f"question {qid}?",
        answerable=answerable,
        evidence=evidence,
        facts=facts,
    )


def _squash_marks(text: str) -> str:
    """Text without whitespace and Markdown marks."""
    return re.sub(r"[\s#*\-]", "", text)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _row(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


# ---------------------------------------------------------------- question files


def test_load_questions_reads_every_field_and_skips_blank_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "q.jsonl",
        [
            _row(
                id="a",
                lang="zh-Hant",
                question="在哪裡？",
                answerable=True,
                evidence=["於西雅圖召開"],
                facts=["西雅圖", "Seattle"],
            ),
            "",
            "   \t",
            _row(id="b", lang="en", question="Sourdough?", answerable=0),
        ],
    )
    questions = load_questions(path)
    assert questions == [
        Question(
            id="a",
            lang="zh-Hant",
            question="在哪裡？",
            answerable=True,
            evidence=("於西雅圖召開",),
            facts=("西雅圖", "Seattle"),
        ),
        Question(id="b", lang="en", question="Sourdough?", answerable=False),
    ]
    assert questions[1].answerable is False  # coerced to a real bool
    assert questions[1].evidence == questions[1].facts == ()


@pytest.mark.parametrize(
    "bad",
    [
        '{"id": "x", "lang": "en", "question": "q?", "answerable": true',  # broken JSON
        _row(id="x", question="q?", answerable=True),  # no "lang"
        "not json at all",
    ],
)
def test_a_malformed_line_raises_value_error_naming_its_line(tmp_path: Path, bad: str) -> None:
    good = _row(id="ok", lang="en", question="q?", answerable=False)
    # Line 2 is blank: the line number counts physical lines, blank ones included.
    path = _write(tmp_path / "q.jsonl", [good, "", bad, good])
    with pytest.raises(ValueError, match=r"q\.jsonl:3: not a valid question"):
        load_questions(path)


def test_a_json_line_that_is_not_an_object_raises_value_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.jsonl", ['["id", "lang", "question"]'])
    with pytest.raises(ValueError, match=r"q\.jsonl:1:"):
        load_questions(path)


def test_a_missing_folder_or_binary_question_file_raises_value_error_naming_it(
    tmp_path: Path,
) -> None:
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\x00 not text")
    for path, message in (
        (tmp_path / "absent.jsonl", "no question file .*absent"),
        (tmp_path, "cannot read question file"),
        (binary, "cannot read question file .*b\\.jsonl"),
    ):
        with pytest.raises(ValueError, match=message):
            load_questions(path)


def test_bundled_question_files_load_with_unique_ids_and_verbatim_evidence() -> None:
    assert {p.name for p in BUNDLED} >= {"eval_questions.jsonl", "offtopic_questions.jsonl"}
    assert DEFAULT_QUESTIONS in BUNDLED
    original = load_originals(REAL_SEEDS)[SEED_NAME]
    for path in BUNDLED:
        questions = load_questions(path)
        assert questions, path.name
        ids = [q.id for q in questions]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate ids"
        for q in questions:
            assert q.lang in LANGUAGES, (path.name, q.id)
            assert q.question.strip(), (path.name, q.id)
            if not q.answerable:
                assert q.evidence == q.facts == (), (path.name, q.id)
                continue
            assert q.evidence and q.facts, (path.name, q.id)
            # is_relevant matches evidence verbatim against the original span, so every
            # evidence string must occur verbatim in the article or it can never be found.
            for ev in q.evidence:
                assert ev in original, (path.name, q.id, ev)
            # An answer quoting the article can hold at least one of the facts.
            assert any(has_fact(original, _question("f", facts=(f,))) for f in q.facts), (
                path.name,
                q.id,
            )


# ---------------------------------------------------------------- relevance and facts


def test_is_relevant_checks_the_original_span_not_the_passage_text() -> None:
    q = _question("q", evidence=("gamma delta", "theta"))
    assert is_relevant(_span("gamma delta"), q, ORIGINALS)
    assert is_relevant(_span("beta gamma delta epsilon"), q, ORIGINALS)
    assert is_relevant(_span("theta"), q, ORIGINALS)  # any one evidence string is enough
    assert not is_relevant(_span("gamma"), q, ORIGINALS)  # only part of the evidence
    assert not is_relevant(_span("alpha beta"), q, ORIGINALS)
    # The cleaned text says "gamma delta" but the span it came from does not.
    liar = Passage(id="x", text="gamma delta", score=1.0, source="doc.txt", start=0, end=10)
    assert not is_relevant(liar, q, ORIGINALS)
    # A source the originals do not know is never relevant.
    elsewhere = _span("gamma delta", source="other.txt")
    assert not is_relevant(elsewhere, q, ORIGINALS)
    # No evidence at all: nothing is relevant.
    assert not is_relevant(_span("gamma delta"), _question("none"), ORIGINALS)


def test_has_fact_ignores_script_whitespace_and_case() -> None:
    seattle = _question("s", facts=("西雅圖", "Seattle"))
    assert has_fact("會議於西雅圖召開 [1]", seattle)
    assert has_fact("会议于 西 雅 图 召开", seattle)  # Simplified, spaced out
    assert has_fact("It was held in SEATTLE.", seattle)
    assert has_fact("In Se attle", seattle)  # whitespace is dropped before comparing
    assert not has_fact("會議於舊金山召開", seattle)
    assert has_fact("會議於西[1]雅圖召開", seattle)  # a marker is no part of the words
    assert not has_fact("", seattle)
    assert not has_fact("西雅圖", _question("nofacts"))  # no facts: never right
    simplified_fact = _question("h", facts=("资深官员",))
    assert has_fact("第三次資深官員會議", simplified_fact)  # Traditional answer, Simplified fact
    # a quotation shown in Simplified characters keeps the document's words (数位, not 数字)
    digital = _question("d", facts=("數位經濟政策",))
    assert has_fact("旨在制定数位经济政策方面的规则", digital)
    assert has_fact("旨在制定数字经济政策方面的规则", digital)  # mainland phrasing too


# ---------------------------------------------------------------- retrieval metrics


def test_evaluate_retrieval_scores_hit1_recall3_and_mrr_per_language() -> None:
    questions = [
        _question("en-1", "en", evidence=("alpha",)),  # hit at rank 1
        _question("en-2", "en", evidence=("gamma",)),  # hit at rank 2
        _question("zh-1", "zh-Hant", evidence=("theta",)),  # missed
        _question("zh-2", "zh-Hant", evidence=("zeta",)),  # hit at rank 4: MRR only
        _question("zh-3", "zh-Hant", evidence=("delta",)),  # hit at rank 3: Recall@3 too
        _question("off", "en", answerable=False),  # not scored, not even searched
    ]
    results = {
        "en-1": ["alpha", "beta", "gamma"],
        "en-2": ["beta", "gamma", "alpha"],
        "zh-1": ["alpha", "beta", "gamma", "delta"],
        "zh-2": ["alpha", "beta", "gamma", "zeta", "zeta"],
        "zh-3": ["alpha", "beta", "gamma delta", "zeta"],
    }
    calls: list[tuple[str, int]] = []

    def search(query: str, k: int) -> list[Passage]:
        calls.append((query, k))
        qid = query.removeprefix("question ").removesuffix("?")
        return [_span(w) for w in results[qid]][:k]

    scores = evaluate_retrieval(search, questions, ORIGINALS)

    assert calls == [(f"question {q}?", 10) for q in ("en-1", "en-2", "zh-1", "zh-2", "zh-3")]
    assert set(scores) == {"en", "zh-Hant", "all"}
    en, zh, both = scores["en"], scores["zh-Hant"], scores["all"]
    assert (en.n, en.hit1, en.recall3, en.mrr) == (2, 0.5, 1.0, pytest.approx(0.75))
    assert en.misses == ["en-2"]  # a miss is anything not found at rank 1
    assert (zh.n, zh.hit1) == (3, 0.0)
    assert zh.recall3 == pytest.approx(1 / 3)
    assert zh.mrr == pytest.approx((0 + 1 / 4 + 1 / 3) / 3)
    assert zh.misses == ["zh-1", "zh-2", "zh-3"]
    assert both.n == 5
    assert both.hit1 == pytest.approx(1 / 5)
    assert both.recall3 == pytest.approx(3 / 5)
    assert both.mrr == pytest.approx((1 + 1 / 2 + 0 + 1 / 4 + 1 / 3) / 5)


def test_evaluate_retrieval_respects_depth_and_skips_languages_without_answerables() -> None:
    questions = [
        _question("deep", "zh-Hans", evidence=("theta",)),
        _question("off", "en", answerable=False),
    ]

    def search(query: str, k: int) -> list[Passage]:
        words = ORIGINAL.split()  # theta is the 8th word
        return [_span(w) for w in words][:k]

    assert evaluate_retrieval(search, questions, ORIGINALS, depth=8)["all"].mrr == 1 / 8
    shallow = evaluate_retrieval(search, questions, ORIGINALS, depth=5)
    assert set(shallow) == {"zh-Hans", "all"}  # no answerable English question: no row
    assert shallow["all"].mrr == 0.0
    assert evaluate_retrieval(search, [questions[1]], ORIGINALS) == {}


def test_evaluate_retrieval_all_row_lists_every_miss() -> None:
    questions = [
        _question("en-1", "en", evidence=("alpha",)),
        _question("zh-1", "zh-Hant", evidence=("theta",)),
    ]
    scores = evaluate_retrieval(lambda q, k: [_span("alpha")], questions, ORIGINALS)
    assert scores["all"].hit1 == 0.5
    assert scores["all"].misses == ["zh-1"]


# ---------------------------------------------------------------- answer metrics


def _cited(text: str, n: int = 1) -> Answer:
    return Answer(text=text, citations=[_span("alpha")] * n)


def test_evaluate_answers_scores_facts_refusals_abstention_and_markers() -> None:
    right = _cited("会议于 西雅图 召开 [1]")  # fact in Simplified with spaces; markers fine
    wrong = _cited("會議於舊金山召開")  # no fact, and its citation is never marked
    refused = Answer(text="The documents don't cover this question.", abstained=True)
    declined = Answer(text="Not covered.", abstained=True)
    answered_off_topic = _cited("Knead the dough [1]")
    seattle = ("西雅圖", "Seattle")
    questions = [
        _question("en-right", "en", facts=seattle),
        _question("en-wrong", "en", facts=seattle),
        _question("en-off", "en", answerable=False),
        _question("zh-refused", "zh-Hant", facts=seattle),
        _question("zh-off", "zh-Hant", answerable=False),
    ]
    replies = {
        "en-right": right,
        "en-wrong": wrong,
        "en-off": declined,
        "zh-refused": refused,
        "zh-off": answered_off_topic,
    }
    asked: list[str] = []

    def ask(question: str, history: History) -> Answer:
        assert history == []
        asked.append(question)
        return replies[question.removeprefix("question ").removesuffix("?")]

    scores = evaluate_answers(ask, questions)

    assert asked == [q.question for q in questions]  # each question asked exactly once
    assert set(scores) == {"en", "zh-Hant", "all"}
    en, zh, both = scores["en"], scores["zh-Hant"], scores["all"]

    assert (en.answerable, en.unanswerable) == (2, 1)
    assert en.fact_rate == 0.5
    assert en.first_fact == 0.5  # "right" holds it on its one line
    assert en.wrong_refusals == 0.0
    assert en.abstention == 1.0
    assert en.markers_ok == pytest.approx(2 / 3)  # "wrong" cites a passage it never marks
    assert en.median_chars == statistics.median([len(right.text), len(wrong.text)])
    assert en.failures == ["en-wrong"]

    assert (zh.answerable, zh.unanswerable) == (1, 1)
    assert zh.fact_rate == 0.0
    assert zh.wrong_refusals == 1.0
    assert zh.abstention == 0.0
    assert zh.markers_ok == 1.0
    assert zh.median_chars == 0.0  # every answerable question was refused
    assert zh.failures == ["zh-refused", "zh-off"]

    assert (both.answerable, both.unanswerable) == (3, 2)
    assert both.fact_rate == pytest.approx(1 / 3)
    assert both.wrong_refusals == pytest.approx(1 / 3)
    assert both.abstention == 0.5
    assert both.markers_ok == pytest.approx(4 / 5)
    assert both.median_chars == statistics.median([len(right.text), len(wrong.text)])
    assert both.failures == ["en-wrong", "zh-refused", "zh-off"]


def test_an_abstained_answer_never_counts_as_holding_the_fact() -> None:
    q = _question("q", facts=("Seattle",))
    scores = evaluate_answers(
        lambda _q, _h: Answer(text="Maybe Seattle, but not covered.", abstained=True), [q]
    )
    assert scores["all"].fact_rate == 0.0
    assert scores["all"].wrong_refusals == 1.0
    assert scores["all"].failures == ["q"]


def test_a_follow_up_is_asked_after_its_conversation() -> None:
    follow_up = Question(
        id="cv",
        lang="zh-Hant",
        question="那什麼時候？",
        answerable=True,
        evidence=("11月15日",),
        facts=("11月15日",),
        history=("領袖會議在哪裡？",),
    )
    calls: list[tuple[str, list[dict[str, str]]]] = []

    def ask(question: str, history: History) -> Answer:
        calls.append((question, list(history)))
        return _cited("會議將於11月15日舉行 [1]" if history else "在舊金山 [1]")

    scores = evaluate_answers(ask, [follow_up])
    assert calls == [
        ("領袖會議在哪裡？", []),
        (
            "那什麼時候？",
            [
                {"role": "user", "content": "領袖會議在哪裡？"},
                {"role": "assistant", "content": "在舊金山 [1]"},
            ],
        ),
    ]
    assert scores["all"].fact_rate == 1.0

    searched: list[str] = []
    evaluate_retrieval(lambda query, k: searched.append(query) or [], [follow_up], {})
    assert searched == ["領袖會議在哪裡？ 那什麼時候？"]  # searched with the question before


def test_history_must_be_a_list_of_questions(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    row = {"id": "a", "lang": "en", "question": "When?", "answerable": True, "history": "x"}
    path.write_text(json.dumps(row), encoding="utf-8")
    with pytest.raises(ValueError, match=r"q\.jsonl:1: .*history"):
        load_questions(path)


# ---------------------------------------------------------------- the baseline


def test_window_baseline_cuts_fixed_windows_that_map_back_to_the_original(
    seeds_dir: Path, fake: FakeEmbedder
) -> None:
    baseline = WindowBaseline(seeds_dir, fake, width=40)
    originals = load_originals(seeds_dir)
    by_source: dict[str, list[Passage]] = {}
    for p in baseline.passages:
        by_source.setdefault(p.source, []).append(p)
    assert set(by_source) == set(originals)
    for source, windows in by_source.items():
        original = originals[source]
        assert all(len(w.text) == 40 for w in windows[:-1])
        assert 0 < len(windows[-1].text) <= 40
        for w in windows:
            span = original[w.start : w.end]
            assert span[0] == w.text[0] and span[-1] == w.text[-1], (source, w)
            # The cleaned window is the span minus whitespace, markup and photo credits.
            rest = iter(_squash_marks(span))
            assert all(ch in rest for ch in _squash_marks(w.text)), (source, w)
        # Consecutive windows tile the document without gaps or overlaps.
        assert all(a.end == b.start for a, b in pairwise(windows))
    assert fake.passages_embedded == len(baseline.passages)

    hits = baseline.search("Green tea grows best on misty hillsides", k=2)
    assert len(hits) == 2
    assert hits[0].source == "tea.txt" and hits[0].start == 0


def test_the_first_line_is_the_first_quote_after_the_lead_in() -> None:
    assert first_line("From the documents:\nSeattle hosted it. [1]\nAlso mentioned:\nX [2]") == (
        "Seattle hosted it. [1]"
    )
    assert first_line("根據文件：\n\n會議於西雅圖召開。 [1]") == "會議於西雅圖召開。 [1]"
    assert first_line("The meeting was in Seattle [1]. It ran three weeks [1].") == (
        "The meeting was in Seattle [1]. It ran three weeks [1]."
    )
    assert first_line("") == ""
