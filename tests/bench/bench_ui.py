"""Benchmark the web chat: start-up time, then concurrent conversations through ``/chat``.

    .venv/bin/python tests/bench/bench_ui.py [--clients 20] [--index .cache/bench-index]

1. Builds the index from ``seeds/`` (incremental: an up-to-date index is reused as is).
2. Starts ``serve(port=P, index_dir=…)`` in a child process (what ``rag serve`` runs)
   and measures the time until the page answers HTTP 200.
3. Runs ``--clients`` gradio_client conversations at once (one thread each, all released
   together), each asking one question from a list in Traditional Chinese, Simplified
   Chinese and English, and checks the answer contains the expected fact and a citation.
4. Prints how many answers were correct and the p50 / p95 / max answer times.

Loopback only; every wait is bounded (``--timeout`` per answer, ``--deadline`` overall).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from gradio_client import Client

import rag
from tests.chat_server import PROJECT, ChatServer

MARKER = re.compile(r"\[\d+\]")

# (question, any of these facts must appear in the answer)
QUESTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("APEC經濟領袖會議在哪裡舉行？", ("莫斯科康",)),
    ("灣區議程著重哪六大領域？", ("強化供應鏈韌性",)),
    ("数字月讨论了哪些议题？", ("数位贸易", "數位貿易")),  # quoted in the reader's characters
    ("APEC领袖会议在哪里举行？", ("莫斯科康",)),
    ("When is the leaders' meeting at the Moscone Center?", ("11月15日",)),
    ("Who is speaking at the CEO summit?", ("拜登", "Biden")),
]


@dataclass
class Result:
    question: str
    seconds: float
    correct: bool
    answer: str = ""
    error: str = ""


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def converse(
    url: str, question: str, facts: tuple[str, ...], start: threading.Barrier, timeout: float
) -> Result:
    try:
        client = Client(url, verbose=False)
    except Exception as exc:
        start.abort()  # release the others rather than keep them waiting
        return Result(question, float("nan"), False, error=f"connect: {exc!r}")
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait(timeout=timeout)  # all clients ask at once
    began = time.perf_counter()
    try:
        answer = client.submit(question, api_name="/chat").result(timeout=timeout)
    except Exception as exc:
        return Result(question, time.perf_counter() - began, False, error=repr(exc))
    seconds = time.perf_counter() - began
    correct = any(f in answer for f in facts) and bool(MARKER.search(answer))
    return Result(question, seconds, correct, answer=answer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--index", type=Path, default=PROJECT / ".cache" / "bench-index")
    parser.add_argument("--seeds", type=Path, default=PROJECT / "seeds")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per answer")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds for the run")
    args = parser.parse_args(argv)

    began = time.perf_counter()  # incremental: only what changed is embedded again
    try:
        report = rag.build_index(seeds=args.seeds, index=args.index)
    except Exception as exc:  # e.g. an index written by an older version of rag
        print(f"incremental build failed ({exc!r}); rebuilding the index in full")
        report = rag.build_index(seeds=args.seeds, index=args.index, full=True)
    print(
        f"index: {args.index} version {report.version} ({report.passages} passages, "
        f"{report.embedded} embedded in {time.perf_counter() - began:.1f} s)"
    )

    server = ChatServer(
        args.index, port=args.port, log_path=args.index.parent / "bench-ui-server.log"
    )
    server.start(timeout=min(args.deadline, 180.0))
    try:
        print(
            f"start-up: {server.startup_seconds:.2f} s from spawning `serve` to HTTP 200 "
            f"at {server.url}"
        )
        first = converse(server.url, *QUESTIONS[0], threading.Barrier(1), args.timeout)
        print(
            f"first answer right after start-up (the page warms up meanwhile): "
            f"{first.seconds:.2f} s, {'correct' if first.correct else 'WRONG'}"
        )
        start = threading.Barrier(args.clients)
        jobs = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.clients)]
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            futures = [
                pool.submit(converse, server.url, q, facts, start, args.timeout)
                for q, facts in jobs
            ]
            done, pending = wait(futures, timeout=args.deadline)
            for future in pending:
                future.cancel()
        wall = time.perf_counter() - began
    finally:
        server.stop()

    results = [f.result() for f in done]
    times = [r.seconds for r in results if not r.error]
    correct = sum(r.correct for r in results)
    for r in sorted(results, key=lambda r: r.question):
        mark = "ok " if r.correct else "BAD"
        detail = r.error or r.answer.replace("\n", " ")[:90]
        print(f"  {mark} {r.seconds:6.2f} s  {r.question}  →  {detail}")
    print(
        f"conversations: {len(results)}/{args.clients} finished, {correct} correct, "
        f"{len(pending)} timed out, wall {wall:.2f} s"
    )
    print(
        f"answer time: p50 {percentile(times, 50):.2f} s · p95 {percentile(times, 95):.2f} s"
        f" · max {max(times, default=float('nan')):.2f} s"
    )
    return 0 if correct == args.clients else 1


if __name__ == "__main__":
    raise SystemExit(main())
