"""Word documents and web pages as Markdown-like text that rag.documents cleans.

Both become the same shape: one block per paragraph (blocks separated by a blank line),
a heading as a ``#`` line (``##`` for level 2 …), each list item or table row as a
``- `` line, table cells joined by `` | ``. That text is what citations point into.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile

from rag.formats import UTF16_BOMS

logger = logging.getLogger(__name__)

_HEADING_STYLE = re.compile(r"^(?:heading|標題|标题)\s*(\d)", re.I)
_DROPPED_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "iframe",
    "svg",
    "canvas",
    "dialog",
    "[role=navigation]",
    "[role=banner]",
    "[role=contentinfo]",
    "[aria-hidden=true]",
    "[hidden]",
    "[style*='display:none']",
    "[style*='display: none']",
)
# What a MediaWiki page (Wikipedia, and every wiki that runs it) shows around its article:
# edit links, footnote marks and the lists they point to, "From Wikipedia, the free
# encyclopedia", notes that point to other articles, maintenance banners, the table of
# contents, navigation boxes, categories and "Retrieved from"; ``noprint`` marks what a
# page itself leaves out of print.
_WIKI_CHROME = (
    ".noprint",
    ".mw-editsection",
    ".mw-jump-link",
    "sup.reference",
    ".mw-references-wrap",
    "ol.references",
    ".reflist",
    "#siteSub",
    "#contentSub",
    ".hatnote",
    ".ambox",
    ".mbox-small",
    "#toc",
    ".toc",
    ".navbox",
    ".catlinks",
    ".printfooter",
)
# the character set a page declares in its first bytes: <meta charset="big5">, or
# <meta http-equiv="Content-Type" content="text/html; charset=gb2312">
_CHARSET = re.compile(rb"""<meta[^>]*charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
# labels read as the larger set browsers read them as (the same bytes mean the same)
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "iso-8859-1": "cp1252"}
_BLOCK_TAGS = {"p", "pre", "blockquote", "dt", "dd", "figcaption", "caption", "address"}
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}
_CONTAINERS = {
    "body", "main", "article", "section", "div", "ul", "ol", "dl", "table", "thead",
    "tbody", "tfoot", "figure", "details", "summary", "center", "span", "li",
}  # fmt: skip


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- Word


def docx_text(data: bytes) -> str:
    """The text of a .docx file, in document order."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:
        # a damaged package, or damaged XML inside it (lxml's errors are SyntaxErrors)
        raise ValueError(
            f"is not a readable Word document ({exc}): open it in Word or LibreOffice "
            "and save it again as .docx"
        ) from exc
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.append(_table_rows(item))
        else:
            blocks.append(_paragraph(item))
    return _join_blocks(blocks)


def _paragraph(paragraph: object) -> str:
    text = paragraph.text.strip()  # type: ignore[attr-defined]
    if not text:
        return ""
    style = getattr(paragraph.style, "name", "") or ""  # type: ignore[attr-defined]
    heading = _HEADING_STYLE.match(style)
    if heading or style.lower() == "title":
        level = int(heading.group(1)) if heading else 1
        return f"{'#' * min(max(level, 1), 6)} {_one_line(text)}"
    numbered = paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None  # type: ignore[attr-defined]
    if numbered or style.lower().startswith("list"):
        return f"- {_one_line(text)}"
    return text


def _table_rows(table: object) -> str:
    rows = []
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        for cell in row.cells:
            text = _one_line(cell.text)
            if text and (not cells or cells[-1] != text):  # a merged cell repeats itself
                cells.append(text)
        if cells:
            rows.append("- " + " | ".join(cells))
    return "\n".join(rows)


def _join_blocks(blocks: list[str]) -> str:
    """Blocks separated by a blank line; consecutive list lines stay one list."""
    out: list[str] = []
    for block in blocks:
        if not block:
            continue
        if out and block.startswith("- ") and out[-1].startswith("- ") and "\n" not in block:
            out[-1] += "\n" + block
        else:
            out.append(block)
    return "\n\n".join(out) + "\n" if out else ""


# --------------------------------------------------------------------------- HTML


def html_text(data: bytes) -> str:
    """The main text of a web page: headings, paragraphs, lists and table rows."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(page_text(data))
    for selector in (*_DROPPED_TAGS, *_WIKI_CHROME):
        for node in tree.css(selector):
            node.decompose()
    for node in tree.css("header"):  # a page's banner; an article's own header has its title
        if not _inside(node, ("main", "article")):
            node.decompose()
    root = (
        tree.css_first("main")
        or tree.css_first("[role=main]")
        or tree.css_first("article")
        or tree.body
    )
    if root is None:
        return ""
    blocks: list[str] = []
    _walk(root, blocks)
    return _join_blocks(_without_empty_headings(blocks))


def _inside(node: object, tags: tuple[str, ...]) -> bool:
    parent = node.parent  # type: ignore[attr-defined]
    while parent is not None:
        if parent.tag in tags or parent.attributes.get("role") == "main":
            return True
        parent = parent.parent
    return False


def _without_empty_headings(blocks: list[str]) -> list[str]:
    """Blocks without the headings that head nothing (a "References" whose list was
    dropped): a heading followed by one of the same or a higher level, or by nothing."""

    def level(block: str) -> int:
        marks = len(block) - len(block.lstrip("#"))
        return marks if 0 < marks <= 6 and block[marks : marks + 1] == " " else 0

    kept: list[str] = []
    after: int | None = None  # the level of the next block with text (0: no heading)
    for block in reversed(blocks):
        here = level(block)
        if not (here and (after is None or 0 < after <= here)):
            kept.append(block)
        if block.strip():
            after = here
    return kept[::-1]


def page_text(data: bytes) -> str:
    """A web page's bytes as text: UTF-16 after its byte-order mark; UTF-8 when the bytes
    are UTF-8 (whatever the page declares); else the ``<meta>`` charset it declares
    (Big5, GB2312, …). Bytes that do not fit become U+FFFD."""
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(data[:4096])
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    encoding = _WIDER.get(encoding, encoding)
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", errors="replace")


def _walk(node: object, blocks: list[str]) -> None:
    """Append the blocks under ``node``: a block element's text as one block, loose text
    between blocks as a paragraph of its own."""
    loose: list[str] = []

    def flush() -> None:
        text = _one_line(" ".join(loose))
        if text:
            blocks.append(text)
        loose.clear()

    for child in node.iter(include_text=True):  # type: ignore[attr-defined]
        tag = child.tag
        if tag == "-text" or tag in ("a", "b", "strong", "em", "i", "code", "span", "br"):
            if tag == "span" and child.css_first("p, li, h1, h2, h3, table"):
                flush()
                _walk(child, blocks)
            else:
                loose.append(child.text(deep=True))
            continue
        flush()
        if tag in _HEADING_TAGS:
            text = _one_line(child.text(deep=True))
            if text:
                blocks.append(f"{'#' * _HEADING_TAGS[tag]} {text}")
        elif tag == "tr":
            cells = [_one_line(c.text(deep=True)) for c in child.css("th, td")]
            if any(cells):
                blocks.append("- " + " | ".join(c for c in cells if c))
        elif tag == "li" and not child.css_first("p, ul, ol, table, div"):
            text = _one_line(child.text(deep=True))
            if text:
                blocks.append(f"- {text}")
        elif tag in _BLOCK_TAGS:
            text = child.text(deep=True).strip()
            if text:
                blocks.append(text if tag == "pre" else _one_line(text))
        elif tag in _CONTAINERS or tag not in ("img", "hr", "input", "video", "audio"):
            _walk(child, blocks)
    flush()
