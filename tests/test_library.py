"""Adding and removing documents: atomic, incremental, with the text citations point into."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rag
from rag.documents import displayed
from rag.store import current_version, load_index
from tests.conftest import FakeEmbedder, write_seeds
from tests.make_documents import HEADER, write_docx, write_pdf

REPORT = "\n\n".join(
    f"Section {n}: the harbour of Ystad had {n + 3} cranes and {n + 7} docks in {1900 + n}."
    for n in range(70)
)


@pytest.fixture
def library(tmp_path: Path, fake: FakeEmbedder) -> tuple[Path, Path]:
    seeds, index = write_seeds(tmp_path / "seeds"), tmp_path / "index"
    rag.build_index(seeds, index, embedder=fake)
    return seeds, index


def test_added_files_are_indexed_listed_and_cited_in_their_extracted_text(
    library: tuple[Path, Path], fake: FakeEmbedder, tmp_path: Path
) -> None:
    seeds, index = library
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    pdf = write_pdf(REPORT, uploads / "harbour.pdf")
    docx = write_docx("# Lighthouse\n\nThe lighthouse was built in 1872.", uploads / "light.docx")
    steps: list[tuple[float, str]] = []
    fake.reset()
    change = rag.add_files(
        [pdf, docx], seeds, index, embedder=fake, progress=lambda s, w: steps.append((s, w))
    )
    assert change.added == ["harbour.pdf", "light.docx"] and change.failed == {}
    assert change.report is not None and sorted(change.report.added) == change.added
    assert steps[0] == (0.0, "Reading harbour.pdf") and steps[-1] == (1.0, "Done")
    pages = len(_pages(pdf_text := rag.source_text("harbour.pdf", index, seeds)))
    assert f"Reading harbour.pdf: page {pages} of {pages}" in [w for _, w in steps]
    assert f"Indexing: reading harbour.pdf, page {pages} of {pages}" in [w for _, w in steps]
    assert pdf_text.count(HEADER) == pages
    assert [s for s, _ in steps] == sorted(s for s, _ in steps)
    assert (seeds / "harbour.pdf").read_bytes() == pdf.read_bytes()
    listed = {d.source: d for d in rag.list_documents(index)}
    assert listed["harbour.pdf"].pages >= 3 and listed["harbour.pdf"].size == pdf.stat().st_size
    assert listed["light.docx"].format == "docx" and listed["light.docx"].added
    chunks = [c for c in load_index(index).chunks if c.source == "harbour.pdf"]
    text = rag.source_text("harbour.pdf", index, seeds)
    for chunk in chunks:  # the offsets hold in the kept text (headers and footers aside)
        span = re.sub(rf"{HEADER}|- \d+ -", "", text[chunk.start : chunk.end])
        assert displayed(span).split() == chunk.text.split()
        assert chunk.page == rag.documents.page_at(_pages(text), chunk.start)
    assert {c.page for c in chunks} == set(range(1, listed["harbour.pdf"].pages + 1))
    assert rag.source_text("tea.txt", index, seeds) == (seeds / "tea.txt").read_text()


def _pages(text: str) -> tuple[int, ...]:
    """Where each page starts: every page opens with the running header."""
    starts, at = [], text.find(HEADER)
    while at >= 0:
        starts.append(at)
        at = text.find(HEADER, at + 1)
    return tuple(starts)


def test_a_bad_file_is_refused_and_the_good_one_added(
    library: tuple[Path, Path], fake: FakeEmbedder, tmp_path: Path
) -> None:
    seeds, index = library
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4 nothing")
    (tmp_path / "good.md").write_text("# Good\n\nA good note about piers.\n", encoding="utf-8")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    change = rag.add_files(
        [tmp_path / "scan.pdf", tmp_path / "good.md", tmp_path / "sheet.xlsx"],
        seeds,
        index,
        embedder=fake,
    )
    assert change.added == ["good.md"]
    assert change.failed["scan.pdf"].startswith("scan.pdf is damaged")
    assert change.failed["sheet.xlsx"].startswith("sheet.xlsx: .xlsx files are not read")
    assert not (seeds / "scan.pdf").exists() and not (seeds / "sheet.xlsx").exists()


def test_a_failed_build_leaves_folder_and_index_as_they_were(
    library: tuple[Path, Path], fake: FakeEmbedder, tmp_path: Path
) -> None:
    seeds, index = library
    before, files = current_version(index), sorted(p.name for p in seeds.rglob("*"))
    old_tea = (seeds / "tea.txt").read_bytes()
    (tmp_path / "tea.txt").write_text("Tea replaced.\n", encoding="utf-8")
    (tmp_path / "new.txt").write_text("A new file.\n", encoding="utf-8")
    fake.fail_on_passages = True
    with pytest.raises(KeyboardInterrupt):
        rag.add_files([tmp_path / "tea.txt", tmp_path / "new.txt"], seeds, index, embedder=fake)
    assert current_version(index) == before
    assert sorted(p.name for p in seeds.rglob("*")) == files
    assert (seeds / "tea.txt").read_bytes() == old_tea

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("rag.library.build_index", _failing_build)
        with pytest.raises(rag.LibraryError, match=r"tea\.txt was not removed: .*disk full"):
            rag.remove_document("tea.txt", seeds, index, embedder=fake)
    assert (seeds / "tea.txt").read_bytes() == old_tea and current_version(index) == before


def _failing_build(*args: object, **kwargs: object) -> rag.BuildReport:
    raise OSError("disk full")


def test_removing_a_document_takes_its_passages_out(
    library: tuple[Path, Path], fake: FakeEmbedder
) -> None:
    seeds, index = library
    fake.reset()
    report = rag.remove_document("tea.txt", seeds, index, embedder=fake)
    assert report.removed == ["tea.txt"] and fake.passages_embedded == 0
    assert not (seeds / "tea.txt").exists()
    assert "tea.txt" not in {c.source for c in load_index(index).chunks}
    assert "tea.txt" not in {d.source for d in rag.list_documents(index)}
    with pytest.raises(rag.LibraryError, match="not in the seeds folder"):
        rag.remove_document("tea.txt", seeds, index, embedder=fake)
    with pytest.raises(rag.LibraryError, match="not a document of the seeds folder"):
        rag.remove_document("../index/CURRENT", seeds, index, embedder=fake)
