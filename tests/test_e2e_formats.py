"""The bundled article as a PDF (a running header and a page number on every page) gives
the passages and answers the text file gives, and every citation names its page.

The PDF is written here from ``seeds/`` with fpdf2; both indexes use the real default
embedder, and every bundled question file is asked of both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import rag
from rag.evaluation import evaluate_answers, evaluate_retrieval, load_originals, load_questions
from tests.conftest import REAL_SEEDS, SEED_NAME
from tests.make_documents import write_pdf

pytestmark = pytest.mark.slow

QUESTION_FILES = sorted((Path(rag.__file__).parent / "data").glob("*questions*.jsonl"))
PDF_NAME = SEED_NAME.replace(".txt", ".pdf")


@pytest.fixture(scope="module")
def pdf_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    seeds = tmp_path_factory.mktemp("pdf-seeds")
    write_pdf((REAL_SEEDS / SEED_NAME).read_text(encoding="utf-8"), seeds / PDF_NAME)
    return seeds


@pytest.fixture(scope="module")
def pdf_index(pdf_seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("pdf-index")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("RAG_EMBEDDER", raising=False)
        rag.build_index(pdf_seeds, index)
    return index


def _page_texts(pdf: Path) -> list[str]:
    """Each page's text as PDFium reads it, without whitespace."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return ["".join(page.get_textpage().get_text_range().split()) for page in document]
    finally:
        document.close()


def test_the_pdf_gives_the_passages_of_the_text(real_index: Path, pdf_index: Path) -> None:
    from rag.store import load_index

    text = [c.text for c in load_index(real_index).chunks]
    pdf = [c.text for c in load_index(pdf_index).chunks]
    assert len(pdf) == len(text)
    # the PDF writer breaks two long English words across lines without a hyphen
    # ("Principl es", "Non-Bi nding"): the passages holding them differ by that space alone
    differing = [(a, b) for a, b in zip(text, pdf) if a != b]
    assert len(differing) <= 2, differing
    assert all(a.replace(" ", "") == b.replace(" ", "") for a, b in differing)


@pytest.mark.parametrize("questions", QUESTION_FILES, ids=lambda p: p.stem)
def test_hit_at_1_on_the_pdf_matches_the_text(
    real_index: Path, pdf_index: Path, pdf_seeds: Path, questions: Path
) -> None:
    asked = load_questions(questions)
    if not any(q.answerable for q in asked):
        pytest.skip("no answerable questions: nothing to retrieve")
    on_text = evaluate_retrieval(
        rag.Retriever.load(real_index).search, asked, load_originals(REAL_SEEDS)
    )
    on_pdf = evaluate_retrieval(
        rag.Retriever.load(pdf_index).search, asked, load_originals(pdf_seeds)
    )
    assert abs(on_pdf["all"].hit1 - on_text["all"].hit1) <= 0.02, (on_text, on_pdf)


def test_answers_on_the_pdf_match_the_text_and_cite_the_right_page(
    real_index: Path, pdf_index: Path, pdf_seeds: Path
) -> None:
    asked = load_questions(QUESTION_FILES[[p.stem for p in QUESTION_FILES].index("eval_questions")])
    text_assistant = rag.Assistant(rag.Retriever.load(real_index), llm=None)
    pdf_assistant = rag.Assistant(rag.Retriever.load(pdf_index), llm=None)
    cited: list[rag.Passage] = []

    def ask_pdf(question: str, history: list[dict[str, str]]) -> rag.Answer:
        answer = pdf_assistant.ask(question, history=history)
        cited.extend(answer.citations)
        return answer

    on_text = evaluate_answers(text_assistant.ask, asked)
    on_pdf = evaluate_answers(ask_pdf, asked)
    assert abs(on_pdf["all"].fact_rate - on_text["all"].fact_rate) <= 0.02, (on_text, on_pdf)
    assert on_pdf["all"].abstention == on_text["all"].abstention
    pages = _page_texts(pdf_seeds / PDF_NAME)
    extracted = rag.source_text(PDF_NAME, pdf_index, pdf_seeds)
    assert cited
    assert len({p.page for p in cited}) == 3  # answers come from every page
    for passage in cited:
        assert passage.source == PDF_NAME and passage.page is not None
        assert passage.start >= 0 and passage.end <= len(extracted)
        # the passage's first characters are on the page it names, as PDFium reads it
        start = "".join(passage.text.split())[:12]
        assert start in pages[passage.page - 1], (passage.page, start)
