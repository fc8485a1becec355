"""Reading speed of a long text PDF: pages a second, against the 20 pages/s target.

Run from anywhere (paths are resolved from this file)::

    .venv/bin/python tests/bench/bench_formats.py               # 300 pages, 3 rounds
    .venv/bin/python tests/bench/bench_formats.py --build       # then index it, with progress

The PDF is written first with fpdf2 from the bundled article (``seeds/``), repeated to
``--pages`` pages, in Noto Sans CJK with a running header and a page number on every
page. Printed, all measured in this one run, median of ``--rounds`` rounds:

* PDFium's text layer alone (rag.pdf.page_lines), pages a second;
* reading as a build reads (rag.documents.read_source: text layer, layout, headers and
  footers, cleaning), pages a second, and its ratio to the target;
* chunking the result (rag.chunking.chunk_document), pages a second.

With ``--build`` the PDF is then indexed with the default embedder through ``rag build``,
which shows its progress bars (embedding takes minutes on a small CPU). A report, not a
test: it always exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT))

TARGET = 20.0  # pages a second


def median_seconds(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def write_long_pdf(folder: Path, pages: int) -> Path:
    from rag.pdf import page_lines
    from tests.make_documents import write_pdf

    article = next((PROJECT / "seeds").glob("*.txt")).read_text(encoding="utf-8")
    path = folder / "long.pdf"
    repeat = 1
    while True:  # the article makes about 3 pages: repeat it until there are enough
        write_pdf(article, path, repeat=repeat)
        made = len(page_lines(path.read_bytes()))
        if made >= pages:
            return path
        repeat = max(repeat + 1, int(repeat * pages / made) + 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", action="store_true", help="also index it with rag build")
    args = parser.parse_args()

    from rag.chunking import chunk_document
    from rag.documents import read_source
    from rag.pdf import page_lines

    with tempfile.TemporaryDirectory(prefix="bench-formats-") as tmp:
        folder = Path(tmp) / "seeds"
        folder.mkdir()
        started = time.perf_counter()
        pdf = write_long_pdf(folder, args.pages)
        data = pdf.read_bytes()
        pages = len(page_lines(data))
        print(
            f"PDF: {pages} pages, {len(data) / 1e6:.1f} MB, written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        layer = median_seconds(lambda: page_lines(data), args.rounds)
        reading = median_seconds(lambda: read_source(pdf, folder), args.rounds)
        doc = read_source(pdf, folder)
        chunking = median_seconds(lambda: chunk_document(doc), args.rounds)
        print(f"{'text layer (PDFium)':34s} {pages / layer:8.1f} pages/s  ({layer:.2f} s)")
        print(
            f"{'read_source (layer+layout+clean)':34s} {pages / reading:8.1f} pages/s  "
            f"({reading:.2f} s)"
        )
        print(f"{'chunk_document':34s} {pages / chunking:8.1f} pages/s  ({chunking:.2f} s)")
        print(
            f"reading vs target {TARGET:.0f} pages/s: {pages / reading / TARGET:.1f}x "
            f"({len(doc.original)} characters, {len(doc.blocks)} blocks, "
            f"{len(chunk_document(doc))} passages)"
        )
        if args.build:
            from rag.cli import main as rag_main

            started = time.perf_counter()
            rag_main(["build", "--seeds", str(folder), "--index", str(Path(tmp) / "index")])
            print(f"indexed in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
