"""The decline stages: each on its own, and their order."""

from __future__ import annotations

from dataclasses import replace

from rag.decide import (
    STAGES,
    Context,
    Scored,
    decide,
    greeting,
    kind_nowhere,
    knows_nothing,
    learned,
    names_nothing,
    other_of_series,
)
from rag.features import FEATURES, Candidate
from rag.query import analyse
from tests.conftest import FakeEmbedder, write_seeds


def _scored(p: float) -> list[Scored]:  # a sentence of documents that know the question's words
    values = tuple(1.0 if f == "coverage" else 0.0 for f in FEATURES)
    return [Scored(Candidate(0, 0, (0, 1), (), values), p)]


def _context(retriever, question: str, p: float, history=()) -> Context:  # type: ignore[no-untyped-def]
    query = analyse(question, list(history), retriever)
    hits = retriever.search_hits(query.search_text, 2)
    return Context(query, hits, _scored(p), threshold=0.4, best=p)


def test_greetings_are_greeted(small_retriever) -> None:  # type: ignore[no-untyped-def]
    for text in ("你好", "Hello!", "早上好！", "Hi there"):
        verdict = greeting(_context(small_retriever, text, 0.9))
        assert verdict is not None and verdict.kind == "greeting"
    assert greeting(_context(small_retriever, "Hello, where does tea grow?", 0.9)) is None


def test_thanks_are_answered_in_kind_even_after_a_question(small_retriever) -> None:  # type: ignore[no-untyped-def]
    asked = [{"role": "user", "content": "Where does tea grow?"}]
    for text, history in (("謝謝！", []), ("Thank you very much.", asked), ("谢谢你", asked)):
        verdict = greeting(_context(small_retriever, text, 0.9, history))
        assert verdict is not None and verdict.kind == "thanks", text
    assert greeting(_context(small_retriever, "Thanks, and where does tea grow?", 0.9)) is None


def test_a_question_naming_nothing_is_asked_in_full(small_retriever) -> None:  # type: ignore[no-untyped-def]
    verdict = names_nothing(_context(small_retriever, "When is it?", 0.9))
    assert verdict is not None and verdict.kind == "ask_whole"
    history = [{"role": "user", "content": "Where does green tea grow?"}]
    assert names_nothing(_context(small_retriever, "When is it?", 0.9, history)) is None


def test_the_learned_threshold_declines_below_it(small_retriever) -> None:  # type: ignore[no-untyped-def]
    assert learned(_context(small_retriever, "Where does tea grow?", 0.39)) is not None
    assert learned(_context(small_retriever, "Where does tea grow?", 0.41)) is None
    assert learned(_context(small_retriever, "Who wrote this?", 0.01)) is None  # the byline


def test_the_first_stage_that_declines_decides(small_retriever) -> None:  # type: ignore[no-untyped-def]
    verdict = decide(_context(small_retriever, "你好", 0.0))
    assert verdict is not None and verdict.stage == "greeting"
    verdict = decide(_context(small_retriever, "Where does tea grow?", 0.0))
    assert verdict is not None and verdict.stage == "learned"
    assert decide(_context(small_retriever, "Where does tea grow?", 0.9)) is None
    assert [s.__name__ for s in STAGES][:4] == [
        "greeting",
        "names_nothing",
        "knows_nothing",
        "learned",
    ]


def _with(kind_held: float, p: float) -> Scored:
    values = tuple(kind_held if f == "kind_held" else 0.0 for f in FEATURES)
    return Scored(Candidate(0, 0, (0, 1), (), values), p)


def test_a_number_asked_for_that_no_likely_sentence_holds_is_declined(small_retriever) -> None:  # type: ignore[no-untyped-def]
    query = analyse("When does the harvest begin?", [], small_retriever)
    assert query.kind == "date"

    def verdict(*scored: Scored):  # type: ignore[no-untyped-def]
        return kind_nowhere(Context(query, [], list(scored), threshold=0.4, best=0.9))

    assert verdict(_with(0, 0.9), _with(1, 0.3)) is not None  # the date is in an unlikely one
    assert verdict(_with(0, 0.9), _with(1, 0.5)) is None
    where = analyse("Where does tea grow?", [], small_retriever)  # a place: not checked
    assert kind_nowhere(Context(where, [], [_with(0, 0.9)], threshold=0.4, best=0.9)) is None


def test_a_question_holding_no_word_of_the_documents_is_declined(small_retriever) -> None:  # type: ignore[no-untyped-def]
    context = _context(small_retriever, "<script>alert(1)</script>", 0.9)
    assert not context.query.mentioned
    verdict = knows_nothing(context)
    assert verdict is not None and not verdict.offer_related
    assert knows_nothing(_context(small_retriever, "Where does green tea grow?", 0.9)) is None
    about = _context(small_retriever, "Who wrote this?", 0.9)  # answered from its byline
    assert knows_nothing(replace(about, query=replace(about.query, mentioned=False))) is None


def test_a_sentence_about_another_year_is_declined(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import rag

    text = "The zoo\n\nIn 2010 the zoo had over 1.6 million visitors. It opened in 1865.\n"
    seeds = write_seeds(tmp_path / "seeds", {"zoo.txt": text})
    rag.build_index(seeds, tmp_path / "index", embedder=FakeEmbedder())
    retriever = rag.Retriever.load(tmp_path / "index", embedder=FakeEmbedder())

    def verdict(question: str):  # type: ignore[no-untyped-def]
        query = analyse(question, [], retriever)
        hits = retriever.search_hits(query.search_text, 1)
        start = hits[0].chunk.text.index("In 2010")
        span = (start, hits[0].chunk.text.index(".", start + 20) + 1)
        scored = [Scored(Candidate(0, 0, span, (), _scored(0.9)[0].candidate.values), 0.9)]
        return other_of_series(Context(query, hits, scored, threshold=0.4, best=0.9))

    declined = verdict("How many visitors did the zoo have in 2009?")
    assert declined is not None and "2010" in declined.reason
    assert verdict("How many visitors did the zoo have in 2010?") is None
    assert verdict("How many visitors did the zoo have?") is None
