"""The PDF text layer: lines into paragraphs and headings, pages, headers and footers."""

from __future__ import annotations

from pathlib import Path

from rag.documents import read_source
from rag.pdf import Line, layout, read_pdf
from tests.make_documents import HEADER, write_pdf

WORDS = "harbour crane dock ship quay tide pier mast sail rope anchor hull keel deck".split()


def sentence(n: int) -> str:
    """A sentence of its own for each ``n`` (no two alike, digits aside)."""
    size = len(WORDS)
    return f"Paragraph {n} is about the {WORDS[n % size]} and the {WORDS[n // size]} of {n}."


def page(*rows: tuple[str, float, float]) -> list[Line]:
    return [Line(text, y, size) for text, y, size in rows]


def test_gaps_make_paragraphs_and_large_type_makes_headings() -> None:
    pages = [
        page(
            ("Harbour history", 800, 16),
            ("The harbour opened in 1901 and", 770, 11),
            ("grew quickly, with ships", 756, 11),
            ("from the north.", 742, 11),
            ("Cranes came later.", 714, 11),  # twice the usual step: a new paragraph
            ("Its second part", 686, 14),
            ("Docks", 670, 14),  # the same size, no gap: one heading
        )
    ]
    text = layout(pages).text
    assert text == (
        "# Harbour history\n\nThe harbour opened in 1901 and\ngrew quickly, with ships\n"
        "from the north.\n\nCranes came later.\n\n## Its second part Docks"
    )


def test_repeated_headers_and_page_numbers_are_hidden_and_pages_located() -> None:
    pages = [
        page(
            ("Annual report 2023", 800, 9),
            *((f"Body text {WORDS[n + k]} of page {n}.", 760 - 14 * k, 11) for k in range(4)),
            (f"{n}", 30, 9),
        )
        for n in range(1, 5)
    ]
    pdf = layout(pages)
    hidden = [pdf.text[a:b] for a, b in pdf.hidden]
    assert hidden == [x for n in range(1, 5) for x in ("Annual report 2023", str(n))]
    assert [pdf.text[start:].split("\n\n")[1].split("\n")[0] for start in pdf.pages] == [
        f"Body text {WORDS[n]} of page {n}." for n in range(1, 5)
    ]


def test_a_line_on_two_pages_of_five_is_not_a_header() -> None:
    pages = [
        page((f"Top line {WORDS[n] if n > 1 else 'twice'}.", 800, 11), (WORDS[n + 5], 760, 11))
        for n in range(5)
    ]
    assert layout(pages).hidden == ()


def test_a_real_pdf_reads_as_its_text_without_header_and_page_numbers(tmp_path: Path) -> None:
    text = "\n\n".join(sentence(n) for n in range(60))
    write_pdf(text, tmp_path / "report.pdf")
    doc = read_source(tmp_path / "report.pdf", tmp_path)
    assert len(doc.pages) >= 3
    cleaned = [b.text for b in doc.blocks]
    assert cleaned == [p for p in text.split("\n\n")]  # no header, no "- 2 -"
    assert doc.original.count(HEADER) == len(doc.pages)  # they stay in the extracted text
    for block in doc.blocks:
        assert doc.original[block.start : block.end].split() == block.text.split()
    last = doc.blocks[-1]
    assert doc.page_at(last.start) == len(doc.pages)
    assert doc.page_at(doc.blocks[0].start) == 1


def test_a_sentence_cut_by_a_page_break_is_rejoined(tmp_path: Path) -> None:
    filler = "\n\n".join(sentence(n) for n in range(15))
    long = " ".join(["The long closing sentence of the story goes on"] * 40) + " to its end."
    write_pdf(f"{filler}\n\n{long}", tmp_path / "story.pdf")
    doc = read_source(tmp_path / "story.pdf", tmp_path)
    assert len(doc.pages) == 2
    (block,) = [b for b in doc.blocks if b.text.startswith("The long closing")]
    assert block.text == long
    assert doc.page_at(block.start) == 1 and doc.page_at(block.end - 1) == 2


def test_read_pdf_gives_page_starts(tmp_path: Path) -> None:
    write_pdf("\n\n".join(f"Paragraph {n}." for n in range(100)), tmp_path / "p.pdf")
    pdf = read_pdf((tmp_path / "p.pdf").read_bytes())
    assert pdf.pages[0] == 0 and list(pdf.pages) == sorted(set(pdf.pages))
    assert all(pdf.text[start:].startswith(HEADER) for start in pdf.pages)


def test_lines_alike_inside_the_page_are_text_not_headers() -> None:
    pages = [
        page(*((f"Row {n * 10 + k}: {k} cranes", 800 - 14 * k, 11) for k in range(6)))
        for n in range(4)
    ]
    assert layout(pages).hidden == ()
