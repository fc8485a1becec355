"""Load source documents and clean them into blocks that keep their original offsets.

A source is a UTF-8 ``.txt`` or ``.md`` file. Cleaning repairs what PDF extraction
breaks (a sentence split across blank lines, stray spaces inside Chinese text),
recognises Markdown headings, bullet lists and image captions such as
``（圖／APEC官網）``, and drops nothing else. Every cleaned character remembers the
position in the original file text it came from, so a passage can always point back
at ``original[start:end]``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

SOURCE_SUFFIXES = (".txt", ".md")

BlockKind = Literal["heading", "paragraph", "list", "caption"]

# A sentence, line or list lead-in that is complete ends with one of these.
_TERMINAL = set("。！？；：:!?;.…」』”’）)】■")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:[-*•・]|\d+[.)、])\s+")
# Photo credit: （圖／APEC官網） or (圖／2023年APEC CEO Summit 官網)
_CREDIT = re.compile(
    r"[（(]\s*(?:圖|图|照片|攝影|摄影|photo|image)\s*[／/:：][^（）()]*[）)]", re.I
)
_END_MARK = "■"
_MIN_PROSE = 30


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
    original: str
    sha256: str
    blocks: tuple[Block, ...]


def find_sources(folder: str | Path) -> list[Path]:
    """The ``.txt`` / ``.md`` files under ``folder``, sorted; errors name the folder."""
    root = Path(folder)
    if not root.exists():
        raise DocumentError(
            f"seeds folder not found: {root} (create it and put .txt or .md files in it)"
        )
    if not root.is_dir():
        raise DocumentError(f"seeds path is not a folder: {root}")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        raise DocumentError(f"no .txt or .md files in seeds folder: {root}")
    return files


def read_source(path: Path, root: Path) -> Document:
    """Read and clean one file; a file that is not UTF-8 raises :class:`DocumentError`."""
    data = path.read_bytes()
    try:
        original = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path} is not UTF-8 text (byte {exc.start}): convert it to UTF-8 and rebuild"
        ) from exc
    original = original.replace("\r\n", "\n").replace("\r", "\n")
    return Document(
        source=path.relative_to(root).as_posix(),
        original=original,
        sha256=hashlib.sha256(data).hexdigest(),
        blocks=tuple(parse_blocks(original)),
    )


def load_documents(folder: str | Path) -> list[Document]:
    """Every source document under ``folder``."""
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
    """Clean ``original[start:end]``: fold whitespace, drop spaces between CJK characters.

    Returns the cleaned text and, for every character of it, its original index.
    """
    out: list[str] = []
    offs: list[int] = []
    i = start
    while i < end:
        ch = original[i]
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


def displayed(span: str) -> str:
    """What a span of an original file is shown as once cleaned: Markdown heading marks,
    bullets, photo credits and end marks dropped, whitespace folded (none between Chinese
    characters, one space between words). A quoted sentence is ``displayed`` of its span."""
    lines = [_BULLET.sub("", re.sub(r"^\s*#{1,6}\s+", "", line)) for line in span.split("\n")]
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

    Short unterminated lines (a byline, a date line) stand on their own.
    """
    return len(text) >= _MIN_PROSE and text[-1] not in _TERMINAL


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
        if all(_BULLET.match(original[s:e]) for s, e in line_spans):
            items = []
            for s, e in line_spans:
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
        if prev and prev[0] == "paragraph" and _is_broken(prev[1]):
            joined = _join((prev[1], prev[2]), (text, offs))
            pieces[-1] = ("paragraph", joined[0], joined[1], 0)
        else:
            pieces.append(("paragraph", text, offs, 0))
    return [Block(kind=k, text=t, offsets=tuple(o), level=lv) for k, t, o, lv in pieces]


def _line_spans(original: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    pos = start
    for line in original[start:end].split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans
