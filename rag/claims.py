"""Check a generated answer, sentence by sentence, against the passages it may cite.

:meth:`ClaimChecker.check` splits an answer into sentences and gives each the passages
that support it:

- a marker ``[n]`` the writer put on a sentence is kept when passage ``n`` resembles the
  sentence (dense and lexical similarity with its best sentence) and, with the other
  kept markers, holds every fact the sentence states (rag.facts);
- a sentence without such a marker is attributed to the passage whose sentence
  supports it best and that holds its facts, across scripts and languages (an English
  sentence's words are looked up in the documents' glossary);
- a sentence no passage supports is dropped, with the facts that were missing.

It works on any text and any passages: the passages are plain strings, or
:class:`Source` objects carrying the sentence spans and vectors an index already has.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rag.answer_types import AnswerKind, holds
from rag.chunking import split_sentences
from rag.embeddings import Embedder
from rag.facts import Evidence, Facts, evidence_of, facts_of, latin_names, missing, with_digits
from rag.language import to_simplified_characters
from rag.languages import NEGATION
from rag.lexical import is_han, normalise, tag, tokenize
from rag.settings import DEFAULT_CLAIMS, ClaimSettings
from rag.translation import Glossary, translate

logger = logging.getLogger(__name__)

MARKER = re.compile(r"\s*\[(\d{1,3})\]")
# a sentence ends at 。！？；!?; or a full stop before a space (not "U.S. President"),
# with its closing quotes and the markers written after it
_END = re.compile(
    r"(?:[。！？；!?;]|(?<![A-Z])\.(?=\s|$|\[))[」』”’)）]*(?:\s*\[\d{1,3}\])*\s*|\n+"
)
_ENUMERATOR = re.compile(r"\s*(?:\d{1,2}|[a-zA-Z])[.)]\s*")
# jieba's tags of the names such answers give (it tags 西雅圖 alone as a person's name)
_NAMED = {"place": ("ns", "nr", "nt", "nz"), "author": ("nr",), "chair": ("nr", "ns", "nt")}
_LEADING = re.compile(r"^\s*(?:\d{1,2}[.)、](?!\d)\s*|[-*•]\s+)")  # "1. ", "3.包容", "- "
_WORDY = re.compile(r"[A-Za-z0-9\u3400-\u9fff]")
_TERMINAL = re.compile(r"[。！？；!?;.:：]*[」』”’)）]*\s*$")


@dataclass(frozen=True)
class Source:
    """A passage that may be cited: its text, its sentences' ``(start, end)`` spans in
    it and, when known, one L2-normalised vector per sentence."""

    text: str
    sentences: tuple[tuple[int, int], ...] = ()
    vectors: np.ndarray | None = None


@dataclass(frozen=True)
class Claim:
    """One sentence of the answer and what the check made of it."""

    text: str  # the sentence as written, without its markers
    gap: str  # the whitespace that followed it in the answer
    raw: str  # the sentence with its markers, as written
    written: tuple[int, ...]  # passage numbers of the markers written on it
    cited: tuple[int, ...]  # the passages that support it; empty when it is dropped
    attributed: bool  # cited by the check rather than by the writer
    support: float  # similarity with the best supporting sentence of a cited passage
    missing: tuple[str, ...] = ()  # facts that no candidate passage held (when dropped)
    resting: tuple[int, ...] = ()  # per cited passage, the index of its best sentence

    @property
    def kept(self) -> bool:
        return bool(self.cited)


@dataclass(frozen=True)
class Checked:
    """An answer after the check: every sentence, kept or dropped."""

    claims: tuple[Claim, ...]

    @property
    def kept(self) -> list[Claim]:
        return [c for c in self.claims if c.kept]

    @property
    def dropped(self) -> list[Claim]:
        return [c for c in self.claims if not c.kept]

    @property
    def text(self) -> str:
        """The kept sentences, each with its markers (numbered as the passages are)."""
        return "".join(shown(c) + (c.gap or " ") for c in self.kept).strip()


def shown(claim: Claim) -> str:
    """A kept sentence as shown: with the writer's markers where it put them (those
    that did not hold removed), or with the attributed marker before its full stop."""
    if not claim.attributed:
        cited = set(claim.cited)
        return MARKER.sub(lambda m: m.group() if int(m.group(1)) in cited else "", claim.raw)
    body = claim.text.rstrip()
    end = _TERMINAL.search(body)
    cut = end.start() if end else len(body)
    markers = "".join(f"[{n}]" for n in claim.cited)
    space = "" if is_han(body[cut - 1 : cut] or "a") else " "
    return f"{body[:cut]}{space}{markers}{body[cut:]}"


@dataclass(frozen=True)
class Piece:
    """A sentence of an answer as split: without and with its markers."""

    text: str
    gap: str
    raw: str
    markers: tuple[int, ...]


def split_claims(text: str) -> list[Piece]:
    """The sentences of ``text``, each with the markers written on it."""
    out = []
    pos = 0
    for m in _END.finditer(text):
        if m.end() > pos:
            out.append(text[pos : m.end()])
            pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    merged: list[str] = []
    for raw in out:  # "1." of a numbered list starts the sentence after it; a sentence
        # does not end inside brackets ("在《CDTV×Sacas！》節目中")
        if merged and (_ENUMERATOR.fullmatch(merged[-1]) or _open(merged[-1])):
            merged[-1] += raw
        else:
            merged.append(raw)
    pieces = []
    for raw in merged:
        numbers = tuple(int(n) for n in MARKER.findall(raw))
        sentence = MARKER.sub("", raw)
        body = sentence.rstrip()
        gap = "\n" if "\n" in sentence[len(body) :] else " "
        if _WORDY.search(body):
            pieces.append(Piece(body.strip(), gap, raw.strip(), numbers))
    return pieces


_OPENING, _CLOSING = "《「『（(“", "》」』）)”"


def _open(text: str) -> bool:
    """Does ``text`` open more brackets than it closes?"""
    return sum(map(text.count, _OPENING)) > sum(map(text.count, _CLOSING))


class ClaimChecker:
    """Checks answers against passages; ``embedder`` adds dense similarity (without it,
    lexical alone), ``glossary`` carries words across languages (rag.translation)."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        glossary: Glossary | None = None,
        settings: ClaimSettings = DEFAULT_CLAIMS,
    ) -> None:
        self.embedder = embedder
        self.glossary = glossary or {}
        self.settings = settings

    def check(self, text: str, passages: Sequence[str | Source]) -> Checked:
        """Every sentence of ``text`` with the passages (numbered from 1) that support it."""
        sources = [p if isinstance(p, Source) else Source(p) for p in passages]
        sources = [s if s.sentences else Source(s.text, _spans(s.text), s.vectors) for s in sources]
        pieces = split_claims(text)
        if not pieces:
            return Checked(())
        support, best = self._support([p.text for p in pieces], sources)
        evidence = [_windows(s, self.settings.window) for s in sources]
        claims = [
            self._claim(piece, support[i], sources, evidence) for i, piece in enumerate(pieces)
        ]
        claims = [
            replace(c, resting=tuple(int(best[i, n - 1]) for n in c.cited))
            for i, c in enumerate(claims)
        ]
        return Checked(_whole_lists([_same_polarity(c, sources) for c in claims]))

    def _claim(
        self,
        piece: Piece,
        support: np.ndarray,
        sources: Sequence[Source],
        evidence: Sequence[Sequence[Evidence]],
    ) -> Claim:
        sentence, gap, raw, written = piece.text, piece.gap, piece.raw, piece.markers
        s = self.settings
        facts = facts_of(_LEADING.sub("", sentence))  # "1." of a list is no claim
        marked = [n for n in dict.fromkeys(written) if 1 <= n <= len(sources)]
        kept = [n for n in marked if support[n - 1] >= s.min_marked_support]
        if kept and not self._missing(facts, [evidence[n - 1] for n in kept]):
            best = max(support[n - 1] for n in kept)
            return Claim(sentence, gap, raw, tuple(written), tuple(kept), False, float(best))
        lacking: list[str] = []
        for i in np.argsort(-support, kind="stable"):
            if support[i] < s.min_support:
                break
            absent = self._missing(facts, [evidence[i]])
            if not absent:
                cited = (int(i) + 1,)
                return Claim(sentence, gap, raw, tuple(written), cited, True, float(support[i]))
            lacking = lacking or absent
        if not lacking and len(sources):
            lacking = self._missing(facts, [evidence[int(np.argmax(support))]])
        best = float(support.max()) if len(support) else 0.0
        return Claim(sentence, gap, raw, tuple(written), (), False, best, tuple(lacking))

    def lost(self, original: str, translation: str) -> list[str]:
        """The numbers, dates and Latin-script names of ``original`` that its
        ``translation`` does not hold (Chinese names and titles are left out: a
        translation renders them in its own words)."""
        facts = replace(facts_of(original), entities=(), titles=())
        return missing(facts, evidence_of(translation), self.glossary)

    def _missing(self, facts: Facts, passages: Sequence[Sequence[Evidence]]) -> list[str]:
        """The facts that no passage of ``passages`` holds within one of its windows of
        sentences (each passage's window holding the most of them): facts stated together
        must be stated together there, not in unrelated sentences of the passage."""
        left = None
        for windows in passages:
            best = min((missing(facts, w, self.glossary) for w in windows), key=len)
            left = best if left is None else [f for f in left if f in best]
        return left or []

    def _support(
        self, sentences: Sequence[str], sources: Sequence[Source]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(sentences, passages): how well each passage's best sentence supports each,
        and which of its sentences that is."""
        out = np.zeros((len(sentences), len(sources)), dtype=np.float32)
        best = np.zeros((len(sentences), len(sources)), dtype=np.int64)
        if not sources:
            return out, best
        held = [[set(tokenize(s.text[a:b])) for a, b in s.sentences] for s in sources]
        lexical = [[self._overlap(x, h) for h in held] for x in sentences]
        dense = self._dense(sentences, sources)
        share = self.settings.dense_share if dense is not None else 0.0
        for j in range(len(sources)):
            for i in range(len(sentences)):
                lex = np.asarray(lexical[i][j])
                both = (1 - share) * lex
                if dense is not None:
                    both = both + share * dense[i][j]
                if both.size:
                    out[i, j], best[i, j] = float(both.max()), int(both.argmax())
        return out, best

    def _dense(
        self, sentences: Sequence[str], sources: Sequence[Source]
    ) -> list[list[np.ndarray]] | None:
        """Per sentence and passage: each passage sentence's cosine, scaled to 0..1."""
        if self.embedder is None:
            return None
        s = self.settings
        mine = self.embedder.embed_queries(list(sentences))
        out: list[list[np.ndarray]] = [[] for _ in sentences]
        for source in sources:
            vectors = source.vectors
            if vectors is None or len(vectors) != len(source.sentences):
                texts = [source.text[a:b] for a, b in source.sentences]
                vectors = self.embedder.embed_passages(texts)
            cosines = mine @ np.asarray(vectors).T
            scaled = np.clip((cosines - s.cosine_floor) / (1.0 - s.cosine_floor), 0.0, 1.0)
            for i in range(len(sentences)):
                out[i].append(scaled[i])
        return out

    def _overlap(self, sentence: str, held: Sequence[set[str]]) -> list[float]:
        """Per passage sentence (its words ``held``): the share of ``sentence``'s words
        it holds; a word counts when it or one of its glossary translations is there."""
        words = list(dict.fromkeys(tokenize(sentence)))
        if not words:
            return [0.0 for _ in held]
        options = [{w, *translate(w, self.glossary)} for w in words]
        return [sum(bool(o & h) for o in options) / len(options) for h in held]


def _same_polarity(claim: Claim, sources: Sequence[Source]) -> Claim:
    """``claim`` cited only by the passages whose supporting sentence denies what it
    denies: "the 70% target was agreed" is not supported by "該目標未獲所有經濟體的共識",
    which holds its facts. Dropped when no passage is left."""
    denies = bool(NEGATION.search(claim.text))
    agree = [
        (n, i)
        for n, i in zip(claim.cited, claim.resting, strict=True)
        if bool(NEGATION.search(_sentence(sources[n - 1], i))) == denies
    ]
    if len(agree) == len(claim.cited):
        return claim
    cited, resting = (tuple(x) for x in zip(*agree, strict=True)) if agree else ((), ())
    missing = claim.missing if agree else ("a denial" if not denies else "an affirmation",)
    return replace(claim, cited=cited, resting=resting, missing=missing)


def _whole_lists(claims: Sequence[Claim]) -> tuple[Claim, ...]:
    """A list stands or falls whole: when one of its items (lines opening with "1.", "-",
    "•") is dropped, so are the others and the line leading in to them ("The three
    priorities are:"). A list that lost items says something the passages do not: "the
    three priorities are: 2. Innovation 3. Inclusion"."""
    out = list(claims)
    i = 0
    while i < len(out):
        end = i
        while end < len(out) and _LEADING.match(out[end].text):
            end += 1
        if end == i:
            i += 1
            continue
        start = i - 1 if i > 0 and out[i - 1].text.rstrip().endswith((":", "：")) else i
        if any(not c.kept for c in out[i:end]):
            for j in range(start, end):
                if out[j].kept:
                    out[j] = replace(out[j], cited=(), resting=(), missing=("its list",))
        i = end
    return tuple(out)


def _sentence(source: Source, i: int) -> str:
    a, b = source.sentences[i] if 0 <= i < len(source.sentences) else (0, len(source.text))
    return source.text[a:b]


def beyond_question(sentence: str, question: str) -> str:
    """What ``sentence`` says beyond repeating ``question``: its English words that the
    question has and its runs of two or more Chinese characters found in the question
    (either script) are taken out. "这篇文章作者是美国" after "这篇文章作者是谁？" is "美国"."""
    asked = to_simplified_characters(question)
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9']+", question)}
    text = re.sub(
        r"[A-Za-z0-9']+", lambda m: "" if m.group().lower() in words else m.group(), sentence
    )
    folded = to_simplified_characters(text)
    out, i = [], 0
    while i < len(text):
        n = 0
        while i + n < len(text) and is_han(folded[i + n]) and folded[i : i + n + 1] in asked:
            n += 1
        if n >= 2:
            i += n
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def answers_kind(claims: Sequence[Claim], question: str, kind: AnswerKind | None) -> bool:
    """Does a sentence of ``claims`` hold the kind of answer ``question`` asks for (a
    person for "who wrote", a date for "when"; rag.answer_types) beyond repeating the
    question? True when it asks for no particular kind."""
    if kind is None or kind in ("statement", "outcome"):  # asked by a verb the answer repeats
        return True
    if kind == "items":  # a list is all its sentences together
        return holds("\n".join(c.text for c in claims), kind)
    beyond = [with_digits(beyond_question(c.text, question)) for c in claims]
    if any(holds(text, kind) for text in beyond):
        return True
    # a name is tagged in its context (西雅圖 alone is a person's name to jieba, 西雅圖市
    # in a sentence a place): a place or person named in a sentence, not in the question
    flags = _NAMED.get(kind, ())
    asked = normalise(question)
    if flags and any(latin_names(text) for text in beyond):
        return True
    return any(f in flags and w not in asked for c in claims for w, f in tag(c.text))


def _windows(source: Source, size: int) -> list[Evidence]:
    """The evidence of every run of ``size`` consecutive sentences of ``source``."""
    spans = source.sentences
    if len(spans) <= size:
        return [evidence_of(source.text)]
    return [
        evidence_of(source.text[spans[i][0] : spans[i + size - 1][1]])
        for i in range(len(spans) - size + 1)
    ]


def _spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(split_sentences(text)) or ((0, len(text)),)
