"""What each part is worth: every question file with all parts on, and with each part off
(or each optional rule on), in one table.

    python scripts/ablation.py [PUBLIC] [--only NAME ...]      (make ablation)

PUBLIC is the public development set (default ``../shared/eval/public``, not part of the
repository). Each collection is built into an empty temporary folder: the three public
corpora, the DRCD and SQuAD articles in one collection (for
``tests/data/public/crosslingual.jsonl``) and the bundled seeds (for the question files in
``rag/data``). Then every variant below is asked every question, without an LLM. A
variant changes search settings (``rag.settings.FusionParams``) or the decline stages
(``rag.decide``); nothing is refitted, so a part whose signal is also a feature of the
learned decision still counts there. Takes about 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.answer import Assistant
from rag.build import build_index
from rag.decide import OPTIONAL, STAGES, Stage
from rag.evaluation import (
    Question,
    evaluate_answers,
    evaluate_retrieval,
    load_originals,
    load_questions,
)
from rag.retriever import Retriever
from rag.settings import DEFAULT_FUSION

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "tests" / "data" / "public"
BUNDLED_FILES = ("eval", "heldout", "blind", "conversation", "offtopic")


@dataclass(frozen=True)
class Variant:
    """A change from the defaults: search settings, and stages left out or added."""

    fusion: dict[str, float] = field(default_factory=dict)
    without: tuple[str, ...] = ()  # stage names taken out of rag.decide.STAGES
    adding: tuple[str, ...] = ()  # stage names of rag.decide.OPTIONAL put in
    alone: bool = False  # a follow-up is asked without the conversation before it

    def stages(self) -> tuple[Stage, ...]:
        kept = tuple(s for s in STAGES if s.__name__ not in self.without)
        return kept + tuple(OPTIONAL[name] for name in self.adding)


VARIANTS: dict[str, Variant] = {
    "all parts (the defaults)": Variant(),
    "dense vote alone (no BM25)": Variant({"dense_share": 1.0}),
    "BM25 votes alone (no dense)": Variant({"dense_share": 0.0}),
    "no glossary vote (translated BM25)": Variant(
        {"cross_lingual_weight": 0.0, "mixed_translated_weight": 0.0}
    ),
    "no glossary in the query vector": Variant({"translated_query_share": 0.0}),
    "no multilingual encoder vote": Variant(
        {"multilingual_weight": 0.0, "mixed_multilingual_weight": 0.0}
    ),
    "no kind bonus in search": Variant({"kind_bonus": 0.0}),
    "no conversation (follow-ups asked alone)": Variant(alone=True),
    "no learned decline (stage learned)": Variant(without=("learned",)),
    "no rule kind_nowhere": Variant(without=("kind_nowhere",)),
    "no rule other_of_series": Variant(without=("other_of_series",)),
    **{f"+ rule {name}": Variant(adding=(name,)) for name in OPTIONAL},
}


@dataclass
class Collection:
    """A built collection and the question files asked of it."""

    retriever: Retriever
    originals: dict[str, str]
    files: dict[str, list[Question]]


def build(name: str, seeds: Path, work: Path, files: dict[str, Path]) -> Collection:
    started = time.perf_counter()
    index = work / f"{name}-index"
    build_index(seeds=seeds, index=index)
    print(f"built {name} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return Collection(
        Retriever.load(index),
        load_originals(seeds),
        {key: load_questions(path) for key, path in files.items()},
    )


def collections(public: Path, work: Path) -> list[Collection]:
    both = work / "both"
    both.mkdir()
    for corpus in ("drcd", "squad"):
        for doc in sorted((public / corpus / "docs").iterdir()):
            (both / doc.name).symlink_to(doc)
    bundled = {f: ROOT / "rag" / "data" / f"{f}_questions.jsonl" for f in BUNDLED_FILES}
    return [
        build("drcd", public / "drcd" / "docs", work, {"drcd": public / "drcd/questions.jsonl"}),
        build("cmrc", public / "cmrc" / "docs", work, {"cmrc": public / "cmrc/questions.jsonl"}),
        build(
            "squad",
            public / "squad" / "docs",
            work,
            {"squad": public / "squad/questions.jsonl", "near": OWN / "squad_nearmiss.jsonl"},
        ),
        build("both", both, work, {"across": OWN / "crosslingual.jsonl"}),
        build("bundled", ROOT / "seeds", work, bundled),
    ]


def measure(collection: Collection, variant: Variant) -> dict[str, dict[str, Any]]:
    """Per question file: Hit@1 and its answers' figures (with the counts behind them)."""
    retriever = collection.retriever
    retriever.fusion = replace(DEFAULT_FUSION, **variant.fusion)
    assistant = Assistant(retriever, llm=None, stages=variant.stages())
    out = {}
    for key, questions in collection.files.items():
        if variant.alone:
            questions = [replace(q, history=()) for q in questions]
        answerable = sum(q.answerable for q in questions)
        hits = evaluate_retrieval(retriever.search, questions, collection.originals)
        answers = evaluate_answers(assistant.ask, questions)["all"]
        out[key] = {
            "answerable": answerable,
            "unanswerable": len(questions) - answerable,
            "hit1": hits["all"].hit1 if "all" in hits else None,
            "fact": answers.fact_rate,
            "declined": answers.wrong_refusals,
            "unanswerable_declined": answers.abstention,
        }
    return out


def pooled(rows: Sequence[dict[str, Any]], metric: str) -> float | None:
    """``metric`` over several files, each weighted by the questions it is a share of."""
    weight = "unanswerable" if metric == "unanswerable_declined" else "answerable"
    pairs = [(r[metric], r[weight]) for r in rows if r[weight] and r[metric] is not None]
    total = sum(n for _, n in pairs)
    return sum(v * n for v, n in pairs) / total if total else None


def cell(*values: float | None) -> str:
    return " / ".join("–" if v is None else f"{v:.2f}" for v in values)


COLUMNS = (
    "variant",
    "public: Hit@1 / fact / answerable declined / unanswerable declined",
    "SQuAD near misses declined",
    "across languages: Hit@1 / fact / near misses declined",
    "bundled: Hit@1 / fact / answerable declined / unanswerable declined",
)


def row(name: str, files: dict[str, dict[str, Any]]) -> str:
    public = [files[c] for c in ("drcd", "cmrc", "squad")]
    bundled = [files[f] for f in BUNDLED_FILES]
    metrics = ("hit1", "fact", "declined", "unanswerable_declined")
    across = files["across"]
    cells = [
        name,
        cell(*(pooled(public, m) for m in metrics)),
        cell(files["near"]["unanswerable_declined"]),
        cell(across["hit1"], across["fact"], across["unanswerable_declined"]),
        cell(*(pooled(bundled, m) for m in metrics)),
    ]
    return "| " + " | ".join(cells) + " |"


def per_corpus(name: str, files: dict[str, dict[str, Any]]) -> str:
    metrics = ("hit1", "fact", "declined", "unanswerable_declined")
    cells = [cell(*(files[c][m] for m in metrics)) for c in ("drcd", "cmrc", "squad")]
    return "| " + " | ".join([name, *cells]) + " |"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("public", nargs="?", default=str(ROOT.parent / "shared/eval/public"))
    parser.add_argument("--only", nargs="*", choices=list(VARIANTS), help="these variants")
    args = parser.parse_args(argv)
    public = Path(args.public)
    if not (public / "drcd" / "questions.jsonl").is_file():
        print(f"no public development set in {public}: pass its folder", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    chosen = {n: VARIANTS[n] for n in (args.only or VARIANTS)}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="ablation.") as tmp:
        built = collections(public, Path(tmp))
        for name, variant in chosen.items():
            started = time.perf_counter()
            results[name] = {}
            for collection in built:
                results[name].update(measure(collection, variant))
            seconds = time.perf_counter() - started
            print(f"measured {name!r} in {seconds:.0f} s", file=sys.stderr, flush=True)
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for name, files in results.items():
        print(row(name, files))
    print()
    figures = "Hit@1 / fact / answerable declined / unanswerable declined"
    print(f"| variant | DRCD: {figures} | CMRC 2018: {figures} | SQuAD: {figures} |")
    print("|---|---|---|---|")
    for name, files in results.items():
        print(per_corpus(name, files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
