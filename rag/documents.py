"""Load source documents and clean them into blocks that keep their original offsets.

A source is a UTF-8 ``.txt`` or ``.md`` file, a PDF, a Word ``.docx`` file or a web
page (rag.formats reads each into text). Cleaning repairs what PDF extraction breaks
(a sentence split across blank lines or pages, a word hyphenated at a line end, stray
spaces inside Chinese text, headers and footers repeated on every page), recognises
Markdown headings, bullet lists and image captions such as ``（圖／APEC官網）``, drops
footnote marks after a word or stop (``[12]``, ``[citation needed]``, as Wikipedia pages
carry them), and drops nothing else. Every cleaned character remembers the position in
the original text it came from, so a passage can always point back at
``original[start:end]``: for a text file that is the file's text, for the other formats
the extracted text (kept beside the index, see rag.store).
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.formats import EXTRACTED, SUFFIXES, FormatError, read_file
from rag.languages import FOOTNOTE_MARK

logger = logging.getLogger(__name__)

SOURCE_SUFFIXES = SUFFIXES

BlockKind = Literal["heading", "paragraph", "list", "caption"]

# A sentence, line or list lead-in that is complete ends with one of these.
_TERMINAL = set("。！？；：:!?;.…」』”’）)】■")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_FENCES = ("```", "~~~")  # the lines around a Markdown code block
_CODE_BLOCK = re.compile(r"\s*(?:```|~~~)")  # text that opens with a fence
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")  # a row of a Markdown table: | a | b |
_TABLE_RULE = re.compile(r"^\s*\|[\s:|-]*-[\s:|-]*\|\s*$")  # the |---|---| under its header
_BULLET = re.compile(r"^\s*(?:[-*•・]|\d+[.)、])\s+")
# Photo credit: （圖／APEC官網） or (圖／2023年APEC CEO Summit 官網)
_CREDIT = re.compile(
    r"[（(]\s*(?:圖|图|照片|攝影|摄影|photo|image)\s*[／/:：][^（）()]*[）)]", re.I
)
# a word cut at a line end: "exam-\nple" (lower-case letters on both sides)
_HYPHENATED = re.compile(r"-[ \t]*\n[ \t]*(?=[a-z])")
_END_MARK = "■"
_MIN_PROSE = 30
MAX_TITLE = 60  # a heading or title line has at most this many characters


class DocumentError(ValueError):
    """A source file or folder that cannot be read; the message names it."""


@dataclass(frozen=True)
class Block:
    """A cleaned unit of a document: a heading, a paragraph, a list or a caption.

    ``offsets[i]`` is the index in the original file text of ``text[i]``.
    """

    kind: BlockKind
    text: str
    offsets: tuple[int, ...]
    level: int = 0  # heading level (1 for ``#``), 0 otherwise

    @property
    def start(self) -> int:
        return self.offsets[0]

    @property
    def end(self) -> int:
        return self.offsets[-1] + 1


@dataclass(frozen=True)
class Document:
    """One source file: its original text, a content hash and its cleaned blocks."""

    source: str  # path relative to the seeds folder, with forward slashes
    original: str  # the file's text, or for PDF, Word and HTML the text extracted from it
    sha256: str  # of the file's bytes
    blocks: tuple[Block, ...]
    format: str = "text"  # see rag.formats.FORMATS
    pages: tuple[int, ...] = ()  # where each page starts in ``original`` (PDF only)
    size: int = 0  # the file's size in bytes
    hidden: tuple[tuple[int, int], ...] = ()  # spans of ``original`` left out: page headers

    @property
    def visible(self) -> str:
        """``original`` with the ``hidden`` spans (headers, footers) blanked: same offsets."""
        return _masked(self.original, self.hidden)

    @property
    def extracted(self) -> bool:
        """``original`` was extracted from the file (the index keeps a copy of it)."""
        return self.format in EXTRACTED

    def page_at(self, offset: int) -> int | None:
        """The page (from 1) holding ``original[offset]``; None for a file without pages."""
        return page_at(self.pages, offset)


def page_at(pages: tuple[int, ...], offset: int) -> int | None:
    """The page (from 1) whose text holds ``offset``, given where each page starts."""
    return bisect.bisect_right(pages, offset) if pages else None


def find_sources(folder: str | Path) -> list[Path]:
    """The files of a supported format under ``folder``, sorted; errors name the folder."""
    root = Path(folder)
    if not root.exists():
        raise DocumentError(
            f"seeds folder not found: {root} (create it and put documents in it: "
            f"{', '.join(SOURCE_SUFFIXES)})"
        )
    if not root.is_dir():
        raise DocumentError(f"seeds path is not a folder: {root}")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        others = list(unsupported_files(root))
        skipped = f"; skipped {', '.join(others[:5])}{' …' if len(others) > 5 else ''}"
        raise DocumentError(
            f"no documents in seeds folder: {root} (supported: {', '.join(SOURCE_SUFFIXES)}"
            f"{skipped if others else ''})"
        )
    return files


def read_source(
    path: Path, root: Path, on_page: Callable[[int, int], None] | None = None
) -> Document:
    """Read and clean one file; a file that cannot be read raises :class:`DocumentError`
    naming it and saying what to do. ``on_page(done, pages)`` follows a PDF's pages."""
    source = path.relative_to(root).as_posix()
    try:
        extracted, data = read_file(path, on_page=on_page)
    except FormatError as exc:
        raise DocumentError(str(exc).replace(path.name, source, 1)) from exc
    except OSError as exc:
        raise DocumentError(f"{source} cannot be read ({exc.strerror}): check it") from exc
    blocks = parse_blocks(_masked(extracted.text, extracted.hidden))
    if not blocks:
        raise DocumentError(f"{source} has no text: add some text to it, or remove it")
    return Document(
        source=source,
        original=extracted.text,
        sha256=hashlib.sha256(data).hexdigest(),
        blocks=tuple(blocks),
        format=extracted.format,
        pages=extracted.pages,
        size=len(data),
        hidden=extracted.hidden,
    )


def _masked(text: str, hidden: tuple[tuple[int, int], ...]) -> str:
    """``text`` with the ``hidden`` spans (headers, footers) blanked out: same length,
    so offsets into it are offsets into ``text``."""
    if not hidden:
        return text
    chars = list(text)
    for a, b in hidden:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def load_sources(
    folder: str | Path, progress: Callable[[int, int, str], None] | None = None
) -> tuple[list[Document], dict[str, str]]:
    """Every readable source under ``folder``, and the files left out with why (an
    unsupported extension, or a file that cannot be read): name -> reason. ``progress``
    is told (files read, files, what is read) before each file and each PDF page."""
    root = Path(folder)
    files = find_sources(root)
    docs: list[Document] = []
    skipped = unsupported_files(root)
    for n, path in enumerate(files):
        name = path.relative_to(root).as_posix()
        if progress is not None:
            progress(n, len(files), name)
        started = time.perf_counter()
        on_page = _page_progress(progress, n, len(files), name) if progress else None
        try:
            docs.append(read_source(path, root, on_page))
        except DocumentError as exc:
            skipped[name] = str(exc)
            continue
        logger.info(
            "read %s (%s%d characters) in %.2f s",
            name,
            f"{len(docs[-1].pages)} pages, " if docs[-1].pages else "",
            len(docs[-1].original),
            time.perf_counter() - started,
        )
    if progress is not None:
        progress(len(files), len(files), "")
    if not docs:
        reasons = "; ".join(skipped.values())
        raise DocumentError(f"no readable documents in seeds folder {root}: {reasons}")
    return docs, dict(sorted(skipped.items()))


def _page_progress(
    progress: Callable[[int, int, str], None], n: int, files: int, name: str
) -> Callable[[int, int], None]:
    """Page by page progress of the ``n``-th of ``files`` files: ``name, page p of P``."""

    def on_page(done: int, pages: int) -> None:
        if done == pages or done % 10 == 0:
            progress(n, files, f"{name}, page {done} of {pages}")

    return on_page


def unsupported_files(folder: str | Path) -> dict[str, str]:
    """The files under ``folder`` of no supported format (hidden files aside), each with why."""
    root = Path(folder)
    reason = f"not a supported file ({', '.join(SOURCE_SUFFIXES)})"
    return {
        p.relative_to(root).as_posix(): reason
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in SOURCE_SUFFIXES
    }


def load_documents(folder: str | Path) -> list[Document]:
    """Every source document under ``folder``; the first that cannot be read raises."""
    root = Path(folder)
    return [read_source(p, root) for p in find_sources(root)]


# --------------------------------------------------------------------------- parsing


def _raw_blocks(original: str) -> list[tuple[int, int]]:
    """Spans of the text separated by blank lines (stripped of surrounding space)."""
    spans = []
    for m in re.finditer(r"\S(?:.|\n(?![ \t]*\n))*", original):
        spans.append((m.start(), m.end()))
    return spans


def _is_cjk(ch: str) -> bool:
    if not ch:
        return False
    name = unicodedata.east_asian_width(ch)
    return name in ("W", "F")


def clean_span(original: str, start: int, end: int) -> tuple[str, list[int]]:
    """Clean ``original[start:end]``: fold whitespace, drop spaces between CJK characters,
    rejoin a word hyphenated at a line end, drop footnote marks ("island.[1]") outside
    code (a Markdown code block opening with its fence, or `inline code`: `x[1]` stays).

    Returns the cleaned text and, for every character of it, its original index.
    """
    code = bool(_CODE_BLOCK.match(original, start, end))
    out: list[str] = []
    offs: list[int] = []
    i = start
    while i < end:
        ch = original[i]
        if ch == "-" and out and "a" <= out[-1] <= "z":
            joined = _HYPHENATED.match(original, i, end)
            if joined:
                i = joined.end()
                continue
        if ch == "[" and not code and _footnote_at(original, start, i):
            mark = FOOTNOTE_MARK.match(original, i, end)
            if mark:  # a footnote mark after a word or stop: "island.[1]", "1950[5]"
                i = mark.end()
                continue
        if ch.isspace():
            j = i
            while j < end and original[j].isspace():
                j += 1
            prev = out[-1] if out else ""
            nxt = original[j] if j < end else ""
            if prev and nxt and not (_is_cjk(prev) or _is_cjk(nxt)):
                out.append(" ")
                offs.append(i)
            i = j
            continue
        out.append(ch)
        offs.append(i)
        i += 1
    return "".join(out), offs


def _footnote_at(original: str, start: int, i: int) -> bool:
    """Can a footnote mark start at ``i``: right after a word or stop, and not inside
    `inline code` (an odd number of backticks before it on its line)?"""
    if i <= start or original[i - 1].isspace() or original[i - 1] == "]":
        return False
    line_start = original.rfind("\n", start, i) + 1 or start
    return original.count("`", line_start, i) % 2 == 0


def displayed(span: str) -> str:
    """What a span of an original file is shown as once cleaned: Markdown heading marks,
    bullets, the rule under a table's header, photo credits, end marks and footnote marks
    dropped, whitespace folded (none between Chinese characters, one space between
    words). A quoted sentence is ``displayed`` of its span."""
    lines = [
        _BULLET.sub("", re.sub(r"^\s*#{1,6}\s+", "", line))
        for line in span.split("\n")
        if not _TABLE_RULE.match(line)
    ]
    text = _CREDIT.sub("", "\n".join(lines)).replace(_END_MARK, "")
    return clean_span(text, 0, len(text))[0].strip()


def _strip(text: str, offs: list[int], pattern: re.Pattern[str]) -> tuple[str, list[int]]:
    """Remove every match of ``pattern`` (and the spaces around it) keeping offsets aligned."""
    keep = [True] * len(text)
    for m in pattern.finditer(text):
        for k in range(m.start(), m.end()):
            keep[k] = False
    chars = [c for c, k in zip(text, keep) if k]
    new_offs = [o for o, k in zip(offs, keep) if k]
    # trim whitespace left at the ends
    while chars and chars[-1].isspace():
        chars.pop()
        new_offs.pop()
    while chars and chars[0].isspace():
        chars.pop(0)
        new_offs.pop(0)
    return "".join(chars), new_offs


def _join(a: tuple[str, list[int]], b: tuple[str, list[int]]) -> tuple[str, list[int]]:
    """Join two pieces of one sentence: a space between Latin words, nothing in CJK."""
    (ta, oa), (tb, ob) = a, b
    if ta and tb and not (_is_cjk(ta[-1]) or _is_cjk(tb[0])):
        return ta + " " + tb, [*oa, ob[0] - 1, *ob]  # the space stands for the break
    return ta + tb, oa + ob


def _is_broken(text: str) -> bool:
    """A paragraph cut off mid-sentence: long enough to be prose, no closing punctuation.

    Short unterminated lines (a byline, a date line) and Markdown code blocks (fenced in
    ``` or ~~~) stand on their own.
    """
    code = text.endswith(_FENCES)
    return len(text) >= _MIN_PROSE and text[-1] not in _TERMINAL and not code


def _is_caption(text: str) -> bool:
    """A short block that carries a photo credit is an image caption."""
    m = _CREDIT.search(text)
    return bool(m) and len(text) <= 120 and len(text) - m.end() <= 2


def parse_blocks(original: str) -> list[Block]:
    """Split a document into cleaned blocks, rejoining sentences broken across blank lines."""
    pieces: list[tuple[BlockKind, str, list[int], int]] = []
    for start, end in _raw_blocks(original):
        line_spans = _line_spans(original, start, end)
        heading = _HEADING.match(original[start:end])
        if heading and len(line_spans) == 1:
            hs = start + heading.start(2)
            text, offs = clean_span(original, hs, end)
            if text:
                pieces.append(("heading", text, offs, len(heading.group(1))))
            continue
        table = all(_TABLE_ROW.match(original[s:e]) for s, e in line_spans)
        if table or all(_BULLET.match(original[s:e]) for s, e in line_spans):
            items = []  # list items, or table rows (a row a line, the rule under the header out)
            for s, e in line_spans:
                if table:
                    if not _TABLE_RULE.match(original[s:e]):
                        items.append(clean_span(original, s, e))
                    continue
                m = _BULLET.match(original[s:e])
                assert m is not None
                items.append(clean_span(original, s + m.end(), e))
            text = "\n".join(t for t, _ in items)
            offs = []
            for n, (_, o) in enumerate(items):
                if n:
                    offs.append(o[0] - 1)  # the newline stands for the line break
                offs.extend(o)
            pieces.append(("list", text, offs, 0))
            continue
        text, offs = clean_span(original, start, end)
        if _is_caption(text):
            text, offs = _strip(text, offs, _CREDIT)
            if text:
                pieces.append(("caption", text, offs, 0))
            continue
        if text.endswith(_END_MARK):
            text, offs = text[:-1].rstrip(), offs[: len(text[:-1].rstrip())]
        if not text:
            continue
        prev = pieces[-1] if pieces else None
        if prev and prev[0] == "paragraph" and _is_broken(prev[1]) and not text.startswith(_FENCES):
            joined = _join((prev[1], prev[2]), (text, offs))
            pieces[-1] = ("paragraph", joined[0], joined[1], 0)
        else:
            pieces.append(("paragraph", text, offs, 0))
    blocks = [Block(kind=k, text=t, offsets=tuple(o), level=lv) for k, t, o, lv in pieces]
    return _titled(blocks)


def _titled(blocks: list[Block]) -> list[Block]:
    """A document's first block is its title when it is one short line that ends no
    sentence ("乙醚", "ASCII") and more follows: it then heads the document's passages,
    as a Markdown ``#`` title does, so a sentence naming its subject only as "it" is read
    with it."""
    if len(blocks) < 2:
        return blocks
    first = blocks[0]
    text = first.text
    if first.kind != "paragraph" or "\n" in text or len(text) > MAX_TITLE:
        return blocks
    if text[-1] in _TERMINAL:
        return blocks
    return [dataclasses.replace(first, kind="heading", level=1), *blocks[1:]]


def _line_spans(original: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    pos = start
    for line in original[start:end].split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans
