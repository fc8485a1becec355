"""The real chat server, asked through gradio_client's ``/chat`` endpoint.

One server (``serve()`` in a child process, as ``rag serve`` runs it) starts on an
empty index folder; the real seeds are then built into that folder with the real
default embedder, and the server must pick the index up without a restart.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gradio_client import Client

import rag
from rag.answer import NOT_COVERED
from tests.chat_server import ChatServer
from ui.chat import EMPTY_QUESTION

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"\[\d+\]")
TIMEOUT = 120  # seconds for one answer

NEW_DOC = "999_coral_festival.txt"
NEW_FACT = (
    "# 澎湖珊瑚礁保育節\n\n"
    "第一屆澎湖珊瑚礁保育節將於2031年4月在七美嶼舉行，由藍鯨海洋基金會主辦。\n\n"
    "活動包括珊瑚復育工作坊與淨灘行動，預計吸引三千名志工參加。\n"
)
NEW_QUESTION = "澎湖珊瑚礁保育節在哪裡舉行？"


@dataclass
class Running:
    server: ChatServer
    seeds: Path
    index: Path
    before_index: str  # the answer given while there was no index yet


def build(seeds: Path, index: Path) -> rag.BuildReport:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("RAG_EMBEDDER", raising=False)
        return rag.build_index(seeds=seeds, index=index)


def ask(server: ChatServer, question: str, client: Client | None = None) -> str:
    client = client or Client(server.url, verbose=False)
    result = client.submit(question, api_name="/chat").result(timeout=TIMEOUT)
    assert isinstance(result, str), result
    return result


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("ui-e2e")
    seeds = root / "seeds"
    shutil.copytree(PROJECT / "seeds", seeds)
    index = root / "index"
    server = ChatServer(index, log_path=root / "server.log")
    server.start()
    try:
        before = ask(server, "APEC經濟領袖會議在哪裡舉行？")
        build(seeds, index)  # the index appears while the server runs
        yield Running(server, seeds, index, before)
    finally:
        server.stop()
        print(server.log[-4000:])  # shown by pytest when a test failed


def test_no_index_at_start_is_a_readable_message(running: Running) -> None:
    assert "No index yet" in running.before_index and "rag build" in running.before_index
    assert "尚未建立索引" in running.before_index
    assert "Traceback" not in running.before_index


def test_traditional_chinese_question_is_answered_with_citation(running: Running) -> None:
    answer = ask(running.server, "APEC經濟領袖會議在哪裡舉行？")
    assert "莫斯科康" in answer or "舊金山" in answer, answer
    assert MARKER.search(answer), answer


def test_english_question_is_answered_with_citation(running: Running) -> None:
    answer = ask(running.server, "When is the leaders' meeting at the Moscone Center?")
    assert "11月15日" in answer, answer
    assert "[1]" in answer, answer


def test_simplified_chinese_question_is_answered(running: Running) -> None:
    answer = ask(running.server, "数字月讨论了哪些议题？")
    # quoted in Simplified characters, the document's own words (數位 → 数位, not 数字)
    assert "数位贸易" in answer, answer
    assert MARKER.search(answer), answer


@pytest.mark.parametrize(
    ("question", "language"),
    [("如何烤麵包？", "zh-Hant"), ("What is the best recipe for chocolate cake?", "en")],
)
def test_unanswerable_question_is_declined(running: Running, question: str, language: str) -> None:
    answer = ask(running.server, question)
    assert NOT_COVERED[language] in answer, answer
    assert not MARKER.search(answer), answer


def test_follow_up_uses_the_conversation(running: Running) -> None:
    client = Client(running.server.url, verbose=False)
    first = ask(running.server, "APEC經濟領袖會議在哪裡舉行？", client)
    assert "舊金山" in first, first
    follow_up = ask(running.server, "那什麼時候？", client)
    assert "11月15日" in follow_up, follow_up


def test_empty_question_gets_a_friendly_message(running: Running) -> None:
    assert ask(running.server, "   ") == EMPTY_QUESTION


def test_rebuilt_index_is_used_without_restart(running: Running) -> None:
    before = ask(running.server, NEW_QUESTION)
    assert "七美嶼" not in before
    (running.seeds / NEW_DOC).write_text(NEW_FACT, encoding="utf-8")
    report = build(running.seeds, running.index)
    assert NEW_DOC in report.added
    answer = ask(running.server, NEW_QUESTION)
    assert "七美嶼" in answer, answer
    assert MARKER.search(answer), answer
    assert "index version" in running.server.log  # the reload was logged
