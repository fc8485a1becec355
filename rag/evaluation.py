"""The evaluation set and the metrics ``rag eval`` prints.

A question file is JSON lines: ``id``, ``lang`` (zh-Hant / zh-Hans / en), ``question``,
``answerable``, ``evidence`` (strings of the original source; a retrieved passage is
relevant when its original span contains one), ``facts`` (an answer is right when it
contains one, compared in Simplified script without whitespace) and, for a follow-up,
``history``: the questions asked before it in the same conversation, in order.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.answer import LEAD_IN, markers_consistent
from rag.documents import load_sources
from rag.embeddings import Embedder
from rag.language import to_simplified, to_simplified_characters
from rag.query import History, retrieval_query
from rag.types import Answer, Passage

logger = logging.getLogger(__name__)

DEFAULT_QUESTIONS = Path(__file__).parent / "data" / "eval_questions.jsonl"
LANGUAGES = ("zh-Hant", "zh-Hans", "en")


@dataclass(frozen=True)
class Question:
    id: str
    lang: str
    question: str
    answerable: bool
    evidence: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    history: tuple[str, ...] = ()  # the questions asked before it in the conversation


def load_questions(path: str | Path = DEFAULT_QUESTIONS) -> list[Question]:
    """Read a question file; a missing or unreadable file, or a malformed line, raises
    ``ValueError`` naming the file (and the line)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"no question file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read question file {path}: {exc}") from exc
    questions = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("a line must be a JSON object")
            history = row.get("history", [])
            if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
                raise ValueError("history must be a list of questions")
            questions.append(
                Question(
                    id=row["id"],
                    lang=row["lang"],
                    question=row["question"],
                    answerable=bool(row["answerable"]),
                    evidence=tuple(row.get("evidence", ())),
                    facts=tuple(row.get("facts", ())),
                    history=tuple(history),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a valid question ({exc})") from exc
    return questions


_MARKER = re.compile(r"\[\d{1,3}\]")


def _squash(text: str, fold: Callable[[str], str] = to_simplified) -> str:
    return "".join(fold(text).split()).lower()


def is_relevant(passage: Passage, question: Question, originals: dict[str, str]) -> bool:
    """The passage's original span contains one of the question's evidence strings, line
    breaks and spaces aside (text extracted from a PDF breaks lines where the page did)."""
    span = originals.get(passage.source, "")[passage.start : passage.end]
    if any(ev in span for ev in question.evidence):
        return True
    folded = "".join(span.split())
    return any("".join(ev.split()) in folded for ev in question.evidence)


def has_fact(answer_text: str, question: Question) -> bool:
    """Does the answer hold one of the question's facts? Citation markers are no part of
    its words ("全国性防御[1]。" holds "全国性防御。"). Scripts are folded both ways: with
    mainland phrasing, and character by character as a quotation is shown to a reader of
    the other script (數位經濟政策 is 数位经济政策 there, not 数字经济政策)."""
    bare = _MARKER.sub("", answer_text)
    for fold in (to_simplified, to_simplified_characters):
        text = _squash(bare, fold)
        if any(_squash(fact, fold) in text for fact in question.facts):
            return True
    return False


@dataclass
class RetrievalScores:
    n: int = 0
    hit1: float = 0.0
    recall3: float = 0.0
    mrr: float = 0.0
    misses: list[str] = field(default_factory=list)


def evaluate_retrieval(
    search: Callable[[str, int], Sequence[Passage]],
    questions: Iterable[Question],
    originals: dict[str, str],
    depth: int = 10,
) -> dict[str, RetrievalScores]:
    """Hit@1, Recall@3 and MRR@depth per language and overall ("all")."""
    rows: dict[str, list[tuple[float, float, float]]] = {}
    misses: dict[str, list[str]] = {}
    for q in questions:
        if not q.answerable:
            continue
        query = retrieval_query(q.question, [{"role": "user", "content": h} for h in q.history])
        ranks = [i for i, p in enumerate(search(query, depth)) if is_relevant(p, q, originals)]
        first = ranks[0] if ranks else None
        row = (
            float(first == 0),
            float(first is not None and first < 3),
            1.0 / (first + 1) if first is not None else 0.0,
        )
        for key in (q.lang, "all"):
            rows.setdefault(key, []).append(row)
        if first != 0:
            for key in (q.lang, "all"):
                misses.setdefault(key, []).append(q.id)
    out = {}
    for key, values in rows.items():
        out[key] = RetrievalScores(
            n=len(values),
            hit1=statistics.fmean(v[0] for v in values),
            recall3=statistics.fmean(v[1] for v in values),
            mrr=statistics.fmean(v[2] for v in values),
            misses=misses.get(key, []),
        )
    return out


@dataclass
class AnswerScores:
    answerable: int = 0
    unanswerable: int = 0
    fact_rate: float = 0.0  # answerable questions whose answer holds the expected fact
    first_fact: float = 0.0  # … whose first quoted line holds it (what is read first)
    wrong_refusals: float = 0.0  # answerable questions that were declined
    abstention: float = 0.0  # unanswerable questions that were declined
    markers_ok: float = 0.0  # answers whose markers all resolve and citations are all used
    median_chars: float = 0.0
    failures: list[str] = field(default_factory=list)


def evaluate_answers(
    ask: Callable[[str, History], Answer], questions: Iterable[Question]
) -> dict[str, AnswerScores]:
    """Answer quality per language and overall ("all"). A follow-up is asked after its
    conversation: each earlier question is asked in turn, with the answers so far."""
    per: dict[str, list[tuple[Question, Answer]]] = {}
    for q in questions:
        history: list[dict[str, str]] = []
        for earlier in q.history:
            reply = ask(earlier, list(history))
            history += [
                {"role": "user", "content": earlier},
                {"role": "assistant", "content": reply.text},
            ]
        answer = ask(q.question, history)
        for key in (q.lang, "all"):
            per.setdefault(key, []).append((q, answer))
    out = {}
    for key, pairs in per.items():
        answerable = [(q, a) for q, a in pairs if q.answerable]
        refused = [(q, a) for q, a in pairs if not q.answerable]
        scores = AnswerScores(answerable=len(answerable), unanswerable=len(refused))
        if answerable:
            scores.fact_rate = statistics.fmean(
                float(not a.abstained and has_fact(a.text, q)) for q, a in answerable
            )
            scores.first_fact = statistics.fmean(
                float(not a.abstained and has_fact(first_line(a.text), q)) for q, a in answerable
            )
            scores.wrong_refusals = statistics.fmean(float(a.abstained) for _, a in answerable)
            scores.median_chars = (
                statistics.median(len(a.text) for _, a in answerable if not a.abstained)
                if any(not a.abstained for _, a in answerable)
                else 0.0
            )
        if refused:
            scores.abstention = statistics.fmean(float(a.abstained) for _, a in refused)
        scores.markers_ok = statistics.fmean(float(markers_consistent(a)) for _, a in pairs)
        scores.failures = [
            q.id
            for q, a in pairs
            if (q.answerable and (a.abstained or not has_fact(a.text, q)))
            or (not q.answerable and not a.abstained)
        ]
        out[key] = scores
    return out


def first_line(answer_text: str) -> str:
    """The first line an answer quotes or says, after its lead-in ("From the documents:")."""
    lines = [line for line in answer_text.splitlines() if line.strip()]
    if lines and lines[0].strip() in LEAD_IN.values():
        lines = lines[1:]
    return lines[0] if lines else ""


def load_originals(seeds: str | Path) -> dict[str, str]:
    """Original text of every source, by its name relative to the seeds folder, with the
    page headers and footers of a PDF blanked (the offsets stay): evidence that runs on
    across a page break is found in the passage that holds it."""
    return {doc.source: doc.visible for doc in load_sources(seeds)[0]}


class WindowBaseline:
    """The baseline: fixed 200-character windows of the cleaned text, dense search alone."""

    def __init__(self, seeds: str | Path, embedder: Embedder, width: int = 200) -> None:
        import numpy as np

        self.embedder = embedder
        self.passages: list[Passage] = []
        for doc in load_sources(seeds)[0]:
            text = "\n".join(b.text for b in doc.blocks)
            offsets = [o for b in doc.blocks for o in (*b.offsets, b.offsets[-1] + 1)]
            for a in range(0, len(text), width):
                piece = text[a : a + width]
                self.passages.append(
                    Passage(
                        id=f"{doc.source}#w{a}",
                        text=piece,
                        score=0.0,
                        source=doc.source,
                        start=offsets[a],
                        end=offsets[min(a + width, len(text)) - 1] + 1,
                    )
                )
        self._vectors = np.vstack(
            [
                embedder.embed_passages([p.text for p in self.passages[i : i + 16]])
                for i in range(0, len(self.passages), 16)
            ]
        )

    def search(self, query: str, k: int = 5) -> list[Passage]:
        scores = self._vectors @ self.embedder.embed_queries([query])[0]
        order = scores.argsort()[::-1][:k]
        return [self.passages[i] for i in order]
