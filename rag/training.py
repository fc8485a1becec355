"""Fit the learned decision (rag.decision) on public reading-comprehension data.

The training split is SQuAD-like JSON lines (``id``, ``lang``, ``title``, ``context``,
``question``, ``answers``, ``is_impossible``), one paragraph and question a line; the
public one lives outside the repository (``../shared/eval/public/train``). Per
language, articles are written one file each and split by title into two halves; each
half is indexed with :func:`rag.build_index`, exactly as a user's documents are. A
question is asked of its own half (answerable, unless the data marks it impossible:
SQuAD 2.0's near misses) and of the other half (a question about an article the
collection does not hold). Every sentence of the passages retrieved for it is one row:
its features (rag.features) and whether it holds a gold answer of that question's own
article. A quarter of the articles (by title) is held apart from fitting; the decline
threshold is chosen there.

Run: ``rag train --data ../shared/eval/public/train`` (writes rag/data/decision.json;
``make train`` does the same).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.build import build_index
from rag.decision import DEFAULT_MODEL, DecisionModel, fit
from rag.embeddings import Embedder
from rag.features import candidates
from rag.language import to_simplified
from rag.query import analyse, search
from rag.retriever import Retriever
from rag.settings import DEFAULT_POLICY

logger = logging.getLogger(__name__)

FILES = {"en": "en.jsonl", "zh-Hans": "zh-Hans.jsonl", "zh-Hant": "zh-Hant.jsonl"}
# SQuAD 2.0 pages for their near misses; DRCD's own Traditional text, not converted CMRC
SOURCES = {"en": ["squad2-dev-pages"], "zh-Hans": ["cmrc-trial"], "zh-Hant": ["drcd-test"]}
LICENCES = {
    "squad2-dev-pages": "SQuAD 2.0, CC BY-SA 4.0",
    "squad-train-pages": "SQuAD 1.0, CC BY-SA 4.0",
    "cmrc-trial": "CMRC 2018, CC BY-SA 4.0",
    "drcd-test": "DRCD 1.3, CC BY-SA 3.0",
}


@dataclass(frozen=True)
class Row:
    """One question of the training data, about one paragraph of one article."""

    id: str
    lang: str
    title: str
    context: str
    question: str
    answers: tuple[str, ...]
    impossible: bool
    source: str


@dataclass(frozen=True)
class Sample:
    """The candidates of one question asked of one collection, with their labels."""

    question: str
    lang: str
    held_apart: bool  # its article is held apart from fitting
    answerable: bool  # the collection answers it
    values: np.ndarray  # (candidates, features)
    labels: np.ndarray  # 1 where the sentence holds a gold answer of its own article


def read_rows(path: Path, sources: Sequence[str] | None = None) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r.get("converted") or (sources and r["source"] not in sources):
            continue
        if not r["question"].strip():  # a few crowd-written rows are empty
            continue
        rows.append(
            Row(
                id=r["id"],
                lang=r["lang"],
                title=r["title"],
                context=r["context"],
                question=r["question"],
                answers=tuple(r["answers"]),
                impossible=bool(r["is_impossible"]),
                source=r["source"],
            )
        )
    return rows


def _bucket(title: str) -> int:
    return int(hashlib.sha1(title.encode("utf-8")).hexdigest(), 16) % 8


def _within(rows: Sequence[Row], max_chars: int) -> list[Row]:
    """The rows of the first articles (in a fixed pseudo-random order) whose paragraphs
    together hold at most ``max_chars`` characters: embedding them is what takes time."""
    size: dict[str, int] = {}
    for r in dict.fromkeys((r.title, r.context) for r in rows):
        size[r[0]] = size.get(r[0], 0) + len(r[1])
    kept, total = set(), 0
    for title in sorted(size, key=lambda t: hashlib.sha1(t.encode("utf-8")).hexdigest()):
        if total + size[title] > max_chars:
            break
        kept.add(title)
        total += size[title]
    return [r for r in rows if r.title in kept]


def file_name(title: str) -> str:
    return re.sub(r"[^\w.-]+", "_", title)[:80] + ".txt"


def write_articles(rows: Iterable[Row], folder: Path) -> None:
    """One file per article: its title line, then its paragraphs, blank-line separated."""
    folder.mkdir(parents=True, exist_ok=True)
    articles: dict[str, list[str]] = {}
    for r in rows:
        paragraphs = articles.setdefault(r.title, [])
        if r.context not in paragraphs:
            paragraphs.append(r.context)
    for title, paragraphs in articles.items():
        text = "\n\n".join([title.replace("_", " "), *paragraphs]) + "\n"
        (folder / file_name(title)).write_text(text, encoding="utf-8")


def _squash(text: str) -> str:
    return "".join(to_simplified(text).split()).lower()


def samples(
    retriever: Retriever,
    rows: Sequence[Row],
    answerable: bool,
    held_apart: Callable[[Row], bool],
) -> list[Sample]:
    """Ask every row's question of ``retriever``; label the sentences that answer it."""
    out = []
    for r in rows:
        query = analyse(r.question, [], retriever)
        hits = search(query, retriever, DEFAULT_POLICY.k)
        found = candidates(query, hits, retriever)
        if not found:
            continue
        answers = [_squash(a) for a in r.answers if a.strip()]
        labels = []
        for c in found:
            chunk = hits[c.hit].chunk
            quoted = "".join(chunk.text[x:y] for x, y in [c.span, *c.items])
            own = answerable and chunk.source == file_name(r.title)
            labels.append(float(own and any(a in _squash(quoted) for a in answers)))
        out.append(
            Sample(
                question=r.question,
                lang=r.lang,
                held_apart=held_apart(r),
                answerable=answerable,
                values=np.array([c.values for c in found]),
                labels=np.array(labels),
            )
        )
    return out


def collect(
    data: Path,
    work: Path,
    per_language: int,
    max_chars: int,
    embedder: Embedder | None = None,
    seed: int = 0,
) -> tuple[list[Sample], dict[str, int]]:
    """Build the two half-collections per language and ask every question of both."""
    missing = [name for name in FILES.values() if not (data / name).is_file()]
    if missing:  # before any index is built
        raise ValueError(f"{data} lacks {', '.join(missing)}: point --data at the training split")
    rng = random.Random(seed)
    all_samples: list[Sample] = []
    counts: dict[str, int] = {}
    for lang, name in FILES.items():
        rows = read_rows(data / name, SOURCES[lang])
        rows = _within(rows, max_chars)
        counts[lang] = len(rows)
        halves = [[r for r in rows if _bucket(r.title) % 2 == h] for h in (0, 1)]
        for h, own_rows in enumerate(halves):
            other_rows = halves[1 - h]
            if not own_rows:
                continue
            folder = work / f"{lang}-{h}"
            write_articles(own_rows, folder / "docs")
            build_index(seeds=folder / "docs", index=folder / "index", embedder=embedder)
            retriever = Retriever.load(folder / "index", embedder=embedder)
            asked = rng.sample(own_rows, min(len(own_rows), per_language // 2))
            elsewhere = rng.sample(other_rows, min(len(other_rows), per_language // 4))
            held = lambda r: _bucket(r.title) >= 6  # noqa: E731  a quarter of the articles
            logger.info("%s half %d: %d + %d questions", lang, h, len(asked), len(elsewhere))
            all_samples += samples(retriever, [r for r in asked if not r.impossible], True, held)
            all_samples += samples(retriever, [r for r in asked if r.impossible], False, held)
            all_samples += samples(retriever, elsewhere, False, held)
    return all_samples, counts


def outcomes(model: DecisionModel, chosen: Sequence[Sample]) -> list[tuple[bool, float, bool]]:
    """Per question: is it answerable, its best probability, does the best candidate answer?"""
    out = []
    for s in chosen:
        p = model.probabilities(s.values)
        best = int(p.argmax())
        out.append((s.answerable, float(p[best]), bool(s.labels[best])))
    return out


# Refusing an answerable question costs a user more than being shown a quote that does
# not answer (it is cited, and can be checked): the threshold may refuse at most this share
# of the held-apart answerable questions.
MAX_WRONGLY_DECLINED = 0.02


def _rates(results: Sequence[tuple[bool, float, bool]], threshold: float) -> dict[str, float]:
    """At ``threshold``: answerable questions answered right and wrongly declined, and
    unanswerable ones declined, each as a share."""
    answerable = [r for r in results if r[0]]
    unanswerable = [r for r in results if not r[0]]
    n, m = max(1, len(answerable)), max(1, len(unanswerable))
    return {
        "answered_right": float(sum(p >= threshold and ok for _, p, ok in answerable) / n),
        "wrongly_declined": float(sum(p < threshold for _, p, _ in answerable) / n),
        "unanswerable_declined": float(sum(p < threshold for _, p, _ in unanswerable) / m),
    }


def choose_threshold(results: Sequence[tuple[bool, float, bool]]) -> tuple[float, dict[str, float]]:
    """The threshold that maximises (answerable questions answered right) + (unanswerable
    ones declined), each as a share, on held-apart questions, among those that decline at
    most ``MAX_WRONGLY_DECLINED`` of the answerable ones."""
    best: tuple[float, float, dict[str, float]] = (-1.0, 0.02, {})
    for t in np.arange(0.02, 0.98, 0.01):
        rates = _rates(results, float(t))
        score = rates["answered_right"] + rates["unanswerable_declined"]
        if rates["wrongly_declined"] <= MAX_WRONGLY_DECLINED and score > best[0]:
            best = (score, round(float(t), 2), {k: round(v, 3) for k, v in rates.items()})
    return best[1], best[2]


def train(
    data: Path,
    work: Path,
    out: Path = DEFAULT_MODEL,
    per_language: int = 1600,
    max_chars: int = 250_000,
    l2: float = 1.0,
    embedder: Embedder | None = None,
) -> DecisionModel:
    """Collect samples, fit on three quarters of the articles, choose the threshold on the
    rest, refit on all with that threshold, and save the model to ``out``."""
    all_samples, counts = collect(data, work, per_language, max_chars, embedder)
    model = fit_model(all_samples, counts, l2)
    model.save(out)
    logger.info("saved %s (threshold %.2f): %s", out, model.threshold, model.meta["held_apart"])
    return model


def fit_model(
    all_samples: Sequence[Sample], counts: dict[str, int], l2: float = 1.0
) -> DecisionModel:
    """Fit on three quarters of the articles, choose the threshold on the rest, and refit
    on all with that threshold."""
    fitting = [s for s in all_samples if not s.held_apart]
    held = [s for s in all_samples if s.held_apart]

    def stack(chosen: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray]:
        return np.vstack([s.values for s in chosen]), np.concatenate([s.labels for s in chosen])

    model = fit(*stack(fitting), l2=l2)
    threshold, held_metrics = choose_threshold(outcomes(model, held))
    per_language_metrics = {
        lang: choose_metrics(model, [s for s in held if s.lang == lang], threshold)
        for lang in FILES
    }
    meta = {
        "trained_on": {
            "data": "public reading-comprehension training split (SQuAD 2.0 dev pages outside "
            "the CS224n dev half, CMRC 2018 trial, DRCD 1.3 test), articles disjoint from "
            "every evaluation set",
            "licences": sorted(set(LICENCES.values())),
            "rows_read": counts,
            "questions": len(all_samples),
            "candidates": int(sum(len(s.labels) for s in all_samples)),
        },
        "held_apart": {"questions": len(held), "all": held_metrics, **per_language_metrics},
        "l2": l2,
    }
    final = fit(*stack(all_samples), l2=l2, meta=meta)
    return replace(final, threshold=threshold)


def choose_metrics(
    model: DecisionModel, chosen: Sequence[Sample], threshold: float
) -> dict[str, float]:
    """Answered right and unanswerable declined at ``threshold``, and how many questions."""
    results = outcomes(model, chosen)
    rates = _rates(results, threshold)
    return {
        "answered_right": round(rates["answered_right"], 3),
        "unanswerable_declined": round(rates["unanswerable_declined"], 3),
        "questions": len(results),
    }
