"""Read the text layer of a PDF, page by page, with PDFium (``pypdfium2``).

PDFium gives each page's text line by line, with every character's baseline and font
size. From those this module rebuilds what plain text extraction loses:

* a paragraph break (a blank line) where a line sits clearly further below the one
  before it than the usual line spacing;
* headings: a line set in larger type than the body becomes a Markdown heading
  (``#`` for the largest size, ``##`` for the next …);
* headers and footers: a line among the first or last lines of a page that repeats, its
  digits aside, on most pages and never away from those edges (a running title,
  ``- 3 -``), and a lone page number at
  the top or bottom of a page, are returned as ``hidden`` spans: they stay in the
  extracted text, so offsets hold, but cleaning leaves them out of the passages.

Pages are separated by a blank line; ``pages[i]`` is where page ``i + 1`` starts in
the text. A sentence cut by a page break is rejoined by the cleaning in rag.documents.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from rag.settings import DEFAULT_FORMATS, FormatSettings

logger = logging.getLogger(__name__)

_PAGE_NUMBER = re.compile(
    r"^[\s\-–—·|]*(?:page|p\.|第)?\s*\d+\s*(?:頁|页|/\s*\d+|of\s+\d+)?[\s\-–—·|]*$", re.I
)
PageProgress = Callable[[int, int], None]  # (pages read, pages)
_HEADING_RATIO = 1.2  # a line in type this much larger than the body is a heading
_MAX_HEADING_CHARS = 120  # longer "large" runs are body text set large, not a heading


class PdfReadError(ValueError):
    """The PDF cannot be read; the message says why and what to do (without the file name)."""


@dataclass(frozen=True)
class Line:
    """One line of a page: its text, baseline height (points, upwards) and font size."""

    text: str
    y: float
    size: float


@dataclass(frozen=True)
class PdfText:
    """A PDF's extracted text, where each page starts in it, and the header/footer spans."""

    text: str
    pages: tuple[int, ...]
    hidden: tuple[tuple[int, int], ...]


def read_pdf(
    data: bytes, settings: FormatSettings = DEFAULT_FORMATS, on_page: PageProgress | None = None
) -> PdfText:
    """The text of every page of the PDF in ``data``; :class:`PdfReadError` when it is
    encrypted, damaged or has no text layer. ``on_page`` is told of each page read."""
    pages = page_lines(data, on_page)
    chars = sum(len(line.text.strip()) for page in pages for line in page)
    if chars < settings.min_chars_per_page * max(len(pages), 1):
        raise PdfReadError(
            f"has no text layer ({len(pages)} page{'s' if len(pages) != 1 else ''}, {chars} "
            "characters of text): it is "
            "probably scanned; run OCR on it (for example `ocrmypdf in.pdf out.pdf`) and "
            "add the result"
        )
    return layout(pages, settings)


def page_lines(data: bytes, on_page: PageProgress | None = None) -> list[list[Line]]:
    """Each page's lines, in the order PDFium reads them; ``on_page(done, pages)`` after
    each page."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise PdfReadError(
                "is encrypted with a password: save an unprotected copy (print to PDF, or "
                "`qpdf --decrypt`) and add that"
            ) from exc
        why = re.search(r"PDFium: ([^)]*)", str(exc))
        raise PdfReadError(
            f"is damaged ({why.group(1).lower() if why else exc}): open it in a PDF viewer "
            "and save or export it again"
        ) from exc
    try:
        pages = []
        for i in range(len(document)):
            pages.append(_lines_of(document, i))
            if on_page is not None:
                on_page(i + 1, len(document))
        return pages
    finally:
        document.close()


def _lines_of(document: object, number: int) -> list[Line]:
    import pypdfium2.raw as raw

    page = document[number]  # type: ignore[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        count = textpage.count_chars()
        x, y = ctypes.c_double(), ctypes.c_double()
        lines: list[Line] = []
        pos = 0
        for piece in text.split("\r\n"):
            first = pos + len(piece) - len(piece.lstrip())
            pos += len(piece) + 2
            if not piece.strip():
                continue
            if len(text) == count:  # indexes are character indexes: positions are known
                raw.FPDFText_GetCharOrigin(textpage.raw, first, x, y)
                size = raw.FPDFText_GetFontSize(textpage.raw, first)
                lines.append(Line(piece.strip(), y.value, size))
            else:
                lines.append(Line(piece.strip(), 0.0, 0.0))
        return lines
    finally:
        textpage.close()
        page.close()


def layout(pages: list[list[Line]], settings: FormatSettings = DEFAULT_FORMATS) -> PdfText:
    """Join the pages' lines into one text: paragraphs, headings, hidden headers/footers."""
    body = _body_size(pages)
    spacing = _line_spacing(pages, body, settings.line_step_cap) * settings.paragraph_gap
    levels = _heading_levels(pages, body)
    repeated = _repeated_edges(pages, settings)
    parts: list[str] = []
    starts: list[int] = []
    hidden: list[tuple[int, int]] = []
    pos = 0
    for n, page in enumerate(pages):
        if n:
            parts.append("\n\n")
            pos += 2
        starts.append(pos)
        pieces = _page_pieces(page, spacing, levels, repeated, settings.edge_lines, body)
        for i, (sep, text, hide) in enumerate(pieces):
            if i:
                parts.append(sep)
                pos += len(sep)
            if hide:
                hidden.append((pos, pos + len(text)))
            parts.append(text)
            pos += len(text)
    return PdfText("".join(parts), tuple(starts), tuple(hidden))


def _page_pieces(
    page: list[Line],
    spacing: float,
    levels: dict[float, int],
    repeated: set[str],
    edge: int,
    body: float,
) -> list[tuple[str, str, bool]]:
    """``(separator before, text, hidden)`` for each line of a page, heading lines of one
    size joined into one heading."""
    out: list[tuple[str, str, bool]] = []
    edges = _edge_indexes(len(page), edge)
    prev: Line | None = None
    prev_level = 0
    for i, line in enumerate(page):
        level = levels.get(round(line.size, 1), 0)
        hide = i in edges and (_key(line.text) in repeated or bool(_PAGE_NUMBER.match(line.text)))
        # line spacing grows with the type: a larger line may sit further down
        scale = max(line.size, prev.size) / body if prev is not None and body > 0 else 1.0
        gap = prev is not None and spacing > 0 and prev.y - line.y > spacing * scale
        if out and level and level == prev_level and not gap and not out[-1][2]:
            sep, text, _ = out[-1]
            out[-1] = (sep, text + _joiner(text, line.text) + line.text, False)
        else:
            text = f"{'#' * level} {line.text}" if level else line.text
            breaks = gap or hide or level or prev_level or (out and out[-1][2])
            out.append(("\n\n" if breaks else "\n", text, hide))
        prev, prev_level = line, level
    return out


def _edge_indexes(n: int, edge: int) -> set[int]:
    return set(range(min(edge, n))) | set(range(max(n - edge, 0), n))


def _joiner(left: str, right: str) -> str:
    wide = ord(left[-1]) > 0x2E80 or ord(right[0]) > 0x2E80
    return "" if wide else " "


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()))


def _repeated_edges(pages: list[list[Line]], settings: FormatSettings) -> set[str]:
    """Lines (digits aside) found among the first or last lines of most pages."""
    if len(pages) < settings.min_pages_for_repeats:
        return set()
    seen: Counter[str] = Counter()
    inside: set[str] = set()  # lines away from the edges: text of the page, not a header
    for page in pages:
        edges = _edge_indexes(len(page), settings.edge_lines)
        seen.update({_key(page[i].text) for i in edges})
        inside.update(_key(line.text) for i, line in enumerate(page) if i not in edges)
    least = max(settings.min_pages_for_repeats, settings.repeated_share * len(pages))
    return {key for key, count in seen.items() if count >= least and key not in inside}


def _body_size(pages: list[list[Line]]) -> float:
    """The font size most of the text is set in."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page:
            sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _line_spacing(pages: list[list[Line]], body: float, cap: float) -> float:
    """The usual distance between consecutive body lines: the lower quartile of those
    distances, at most ``cap`` times the body size (when every paragraph is one line, all
    the distances are paragraph steps); 0 when positions are unknown."""
    steps = [
        a.y - b.y
        for page in pages
        for a, b in itertools.pairwise(page)
        if round(a.size, 1) == round(b.size, 1) == body and a.y - b.y > 0
    ]
    if not steps:
        return 0.0
    lower = statistics.quantiles(steps, n=4)[0] if len(steps) > 1 else steps[0]
    return min(lower, cap * body)


def _heading_levels(pages: list[list[Line]], body: float) -> dict[float, int]:
    """Font size -> heading level for the sizes clearly larger than the body's."""
    if body <= 0:
        return {}
    large = {
        round(line.size, 1)
        for page in pages
        for line in page
        if line.size >= body * _HEADING_RATIO and len(line.text) <= _MAX_HEADING_CHARS
    }
    return {size: n for n, size in enumerate(sorted(large, reverse=True)[:6], 1)}
