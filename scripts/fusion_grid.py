"""Retrieval Hit@1 over a grid of fusion settings, on question files with built indexes.

    python scripts/fusion_grid.py SEEDS INDEX QUESTIONS [SEEDS INDEX QUESTIONS ...]

Prints, per setting, Hit@1 on each collection: dense alone, BM25 alone, and fusion
weights around the defaults (rag.settings.FusionParams). Used to choose the fusion
weights on the public development set (``../shared/eval/public``).
"""

from __future__ import annotations

import sys
from dataclasses import replace

from rag.evaluation import evaluate_retrieval, load_originals, load_questions
from rag.retriever import Retriever
from rag.settings import DEFAULT_FUSION

GRID = {
    "dense alone": {"dense_share": 1.0},
    "BM25 alone": {"dense_share": 0.0},
    "default": {},
    "dense share 0.5": {"dense_share": 0.5},
    "dense share 0.6": {"dense_share": 0.6},
    "dense share 0.8": {"dense_share": 0.8},
    "own words 0.5": {"lexical_weight": 0.5},
    "candidates 100": {"candidates": 100},
    "no kind bonus": {"kind_bonus": 0.0},
    "kind bonus 0.02": {"kind_bonus": 0.02},
    "kind bonus 0.2": {"kind_bonus": 0.2},
    "no caption weight": {"caption_weight": 1.0},
}


def main(argv: list[str]) -> None:
    sets = [argv[i : i + 3] for i in range(0, len(argv), 3)]
    loaded = [
        (Retriever.load(index), load_originals(seeds), load_questions(questions))
        for seeds, index, questions in sets
    ]
    for name, change in GRID.items():
        fusion = replace(DEFAULT_FUSION, **change)
        row = []
        for retriever, originals, questions in loaded:
            retriever.fusion = fusion
            scores = evaluate_retrieval(retriever.search, questions, originals)["all"]
            row.append(f"{scores.hit1:.3f}")
        print(f"{name:24s} " + " ".join(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
