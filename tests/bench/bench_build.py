"""Full build speed: the bundled model's C engine vs. the default runtime, same documents.

Run from anywhere (paths are resolved from this file)::

    .venv/bin/python tests/bench/bench_build.py             # seeds + the DRCD articles
    .venv/bin/python tests/bench/bench_build.py --docs DIR  # seeds + another folder

The documents are the bundled seeds plus, when present, the public DRCD articles in
``../shared/eval/public/drcd/docs`` (read where they are: the temporary seeds folder
holds links to them). In this one run, in turn:

1. ``rag build --full`` with ``RAG_E5_RUNTIME=engine`` (the package's 4-bit C engine);
2. ``rag build --full`` with the default runtime (``auto``: the torch runtime when torch
   is installed and the processor has native bf16);
3. the default runtime embedding the texts as builds sent them before: every
   ``passage_texts`` text (a one-sentence passage twice), in calls of 16;
4. ``rag build --full`` as a user runs it, in a fresh process (every model and the
   dictionary loaded inside the time), by this code and by an earlier release's
   (``--baseline REV``, default 9a38386, checked out with ``git worktree``; skipped,
   saying why, when the clone does not hold it).

In 1–2, torch, the weights and the CC-CEDICT dictionary are loaded first, not timed (a process
reads the dictionary once, for its builds and its answers alike). Printed: seconds and
passages a second of each, the ratios, and how closely the two builds' vectors agree
(cosine of each passage and sentence vector, min and mean). A report, not a test: it
always exits 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[2]
SEEDS = PROJECT / "seeds"
DRCD = PROJECT.parent / "shared" / "eval" / "public" / "drcd" / "docs"
BASELINE = "9a38386"  # the release whose build speed the target is set against


def linked_seeds(folder: Path, extra: Path | None) -> Path:
    """A seeds folder of links to the bundled seeds and the ``extra`` documents."""
    folder.mkdir()
    sources = sorted(SEEDS.glob("*.txt")) + (sorted(extra.glob("*.txt")) if extra else [])
    for path in sources:
        (folder / path.name).symlink_to(path.resolve())
    return folder


def cold_build(code: Path, seeds: Path, index: Path) -> float:
    """Seconds of ``rag build --full`` run by the package in ``code``, in a new process."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [sys.executable, "-m", "rag.cli", "build", "--seeds", str(seeds)]
    started = time.perf_counter()
    subprocess.run(
        [*command, "--index", str(index), "--full"],
        cwd=code,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def against_release(rev: str, seeds: Path, tmp: Path) -> str:
    """The cold build times of release ``rev`` and of this code, side by side."""
    older = tmp / "baseline"
    made = subprocess.run(
        ["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(older), rev],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        return f"\n   release {rev} not compared: {made.stderr.strip() or 'git failed'}"
    try:
        then = cold_build(older, seeds, tmp / "baseline-index")
        now = cold_build(PROJECT, seeds, tmp / "now-index")
    finally:
        subprocess.run(["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(older)])
    return (
        f"\n   rag build --full in a new process: release {rev} {then:.1f} s, "
        f"this code {now:.1f} s\n   release {rev} / this code = {then / now:.2f}x  (target >= 3x)"
    )


def agreement(a: np.ndarray, b: np.ndarray) -> str:
    cos = np.sum(np.asarray(a) * np.asarray(b), axis=1)
    return f"min {cos.min():.4f}, mean {cos.mean():.4f} (n={len(cos)})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=DRCD if DRCD.is_dir() else None)
    parser.add_argument("--baseline", default=BASELINE, help="release to compare cold builds with")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT))
    from rag.build import build_index, passage_texts
    from rag.embeddings import E5Embedder
    from rag.store import load_index
    from rag.translation import dictionary_ready

    print(
        f"build benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"documents: seeds + {args.docs or 'nothing else'}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="rag-build-bench-") as tmp:
        seeds = linked_seeds(Path(tmp) / "seeds", args.docs)
        engine, default = E5Embedder(runtime="engine"), E5Embedder()
        default.embed_passages(["warm-up"] * 16)  # loads torch and the weights, not timed
        dictionary_ready()  # CC-CEDICT, read once a process (answering reads it too)
        timings, reports = {}, {}
        for name, embedder in (("engine", engine), ("default", default)):
            started = time.perf_counter()
            reports[name] = build_index(seeds, Path(tmp) / name, embedder=embedder, full=True)
            timings[name] = time.perf_counter() - started
            runtime = "torch" if embedder._torch is not None else "engine"
            print(f"   {name} ({runtime}): {reports[name].summary()}", flush=True)
        data = {name: load_index(Path(tmp) / name) for name in timings}
        texts = [t for c in data["default"].chunks for t in passage_texts(c)]
        agree = {
            kind: agreement(getattr(data["default"], kind), getattr(data["engine"], kind))
            for kind in ("vectors", "sentence_vectors")
        }
        started = time.perf_counter()
        for pos in range(0, len(texts), 16):
            default.embed_passages(texts[pos : pos + 16])
        before = time.perf_counter() - started
        release = against_release(args.baseline, seeds, Path(tmp)) if args.baseline else ""

    n = reports["default"].passages
    print(f"\n{n} passages, {len(texts)} passage and sentence texts")
    for name, seconds in timings.items():
        print(f"   full build, {name:<8} {seconds:7.1f} s  {n / seconds:6.1f} passages/s")
    print(f"   embedding alone as builds sent it before (calls of 16, every text): {before:.1f} s")
    ratio = timings["engine"] / timings["default"]
    print(f"   full build: engine / default = {ratio:.2f}x  (target >= 3x)")
    print(f"   previous embedding alone / default full build = {before / timings['default']:.2f}x")
    print(f"   vectors, default vs engine: passages {agree['vectors']}  (target >= 0.99)")
    print(f"   vectors, default vs engine: sentences {agree['sentence_vectors']}")
    print(release)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
