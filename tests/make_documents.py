"""Write real PDF, Word and HTML files from Markdown-like text, for tests and benchmarks.

``write_pdf`` sets the text with fpdf2 in Noto Sans CJK (fonts-noto-cjk): headings in
larger type, a blank line's worth of space between paragraphs, a running header and a
page number on every page, like a printed article.
"""

from __future__ import annotations

import re
from pathlib import Path

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
HEADER = "APEC 研究通訊 · Research Bulletin"
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def paragraphs(text: str) -> list[str]:
    """The blank-line separated blocks of ``text``."""
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def write_pdf(text: str, path: Path, *, header: str = HEADER, repeat: int = 1) -> Path:
    """A PDF of ``text`` (``repeat`` times over), a header and page number on every page."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("noto", fname=str(CJK_FONT))
    pdf.set_auto_page_break(True, margin=22)

    def page_header() -> None:
        pdf.set_font("noto", size=9)
        pdf.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(6)

    def page_footer() -> None:
        pdf.set_y(-15)
        pdf.set_font("noto", size=9)
        pdf.cell(0, 10, f"- {pdf.page_no()} -", align="C")

    pdf.header = page_header  # type: ignore[method-assign]
    pdf.footer = page_footer  # type: ignore[method-assign]
    pdf.add_page()
    for _ in range(repeat):
        for block in paragraphs(text):
            heading = _HEADING.match(block)
            size = {1: 17, 2: 15}.get(len(heading.group(1)), 13.5) if heading else 11
            pdf.set_font("noto", size=size)
            body = heading.group(2) if heading else block
            pdf.multi_cell(0, size * 0.55, " ".join(body.split("\n")) if heading else body)
            pdf.ln(size * 0.55)
    pdf.output(str(path))
    return path


def write_docx(text: str, path: Path, *, table: list[list[str]] | None = None) -> Path:
    """A Word document of ``text``: ``#`` lines as headings, ``- `` lines as a bulleted
    list, the rest as paragraphs; ``table`` (rows of cells) after them."""
    import docx

    document = docx.Document()
    for block in paragraphs(text):
        heading = _HEADING.match(block)
        if heading:
            document.add_heading(heading.group(2), level=len(heading.group(1)))
        elif block.startswith("- "):
            for line in block.splitlines():
                document.add_paragraph(line[2:].strip(), style="List Bullet")
        else:
            document.add_paragraph(block)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    document.save(str(path))
    return path


def write_html(text: str, path: Path, *, title: str = "Page") -> Path:
    """A web page of ``text`` inside ``<main>``, with navigation and a footer around it."""
    import html

    body = []
    for block in paragraphs(text):
        heading = _HEADING.match(block)
        if heading:
            n = len(heading.group(1))
            body.append(f"<h{n}>{html.escape(heading.group(2))}</h{n}>")
        elif block.startswith("- "):
            items = "".join(f"<li>{html.escape(x[2:])}</li>" for x in block.splitlines())
            body.append(f"<ul>{items}</ul>")
        else:
            body.append(f"<p>{html.escape(block)}</p>")
    page = (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title>"
        "<style>p { color: #333 }</style><script>var menu = 1;</script></head><body>"
        '<nav><a href="/">Home</a> | <a href="/news">News</a></nav>'
        f"<main>{''.join(body)}</main>"
        "<footer>© 2024 Example · Privacy</footer></body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path
