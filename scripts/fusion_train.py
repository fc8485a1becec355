"""Retrieval Hit@1 on the public training split over a grid of fusion settings.

    python scripts/fusion_train.py DATA WORK [QUESTIONS_PER_HALF]

DATA is the training split (``../shared/eval/public/train``), WORK the folder where
``rag train`` built its half-collections (``--work``, default ``.cache/train``): each
``<language>-<half>/index`` is searched with the answerable questions about its own
articles. A hit is a passage of the question's article that holds one of its answers.
Prints Hit@1 per language for each setting: the fusion weights are chosen here, on
articles disjoint from the development set they are reported on.
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path

from rag.retriever import Retriever
from rag.settings import DEFAULT_FUSION
from rag.training import FILES, SOURCES, _bucket, _squash, _within, file_name, read_rows

GRID = {
    "dense alone": {"dense_share": 1.0},
    "BM25 alone": {"dense_share": 0.0},
    "dense share 0.4": {"dense_share": 0.4},
    "dense share 0.5": {"dense_share": 0.5},
    "dense share 0.6": {"dense_share": 0.6},
    "default (0.7)": {},
    "dense share 0.8": {"dense_share": 0.8},
    "no kind bonus": {"kind_bonus": 0.0},
    "kind bonus 0.2": {"kind_bonus": 0.2},
}


def main(data: Path, work: Path, per_half: int) -> None:
    rng = random.Random(0)
    sets = []
    for lang, name in FILES.items():
        rows = _within(read_rows(data / name, SOURCES[lang]), 250_000)
        for h in (0, 1):
            index = work / f"{lang}-{h}" / "index"
            if not index.exists():
                continue
            own = [r for r in rows if _bucket(r.title) % 2 == h and not r.impossible]
            asked = rng.sample(own, min(len(own), per_half))
            sets.append((lang, Retriever.load(index), asked))
    for label, change in GRID.items():
        fusion = replace(DEFAULT_FUSION, **change)
        hits: dict[str, list[float]] = {}
        for lang, retriever, asked in sets:
            retriever.fusion = fusion
            for r in asked:
                top = retriever.search(r.question, 1)
                answers = [_squash(a) for a in r.answers if a.strip()]
                ok = bool(top) and top[0].source == file_name(r.title)
                ok = ok and any(a in _squash(top[0].text) for a in answers)
                hits.setdefault(lang, []).append(float(ok))
        row = " ".join(f"{lang} {sum(v) / len(v):.3f}" for lang, v in hits.items())
        print(f"{label:18s} {row}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 150)
