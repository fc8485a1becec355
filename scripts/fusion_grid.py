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
    "dense alone": {"lexical_weight": 0.0, "cross_lingual_weight": 0.0},
    "BM25 alone": {"dense_weight": 0.0},
    "default": {},
    "lexical 0.75": {"lexical_weight": 0.75},
    "lexical 1.0": {"lexical_weight": 1.0},
    "lexical 0.25": {"lexical_weight": 0.25},
    "rrf_c 30": {"rrf_c": 30.0},
    "rrf_c 60, lexical 1.0": {"rrf_c": 60.0, "lexical_weight": 1.0},
    "candidates 100": {"candidates": 100},
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
