"""The chat page in a real browser (system Chromium through Playwright).

A Chinese question is typed, the streamed answer appears with its citation, the cited
passage is shown beside it with the quoted sentence highlighted, and a screenshot is
saved to ``artifacts/chat.png``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.chat_server import ChatServer
from tests.openai_server import FakeOpenAIServer
from ui.render import SOURCES_EMPTY, SOURCES_WORKING

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT / "artifacts"
TIMEOUT_MS = 90_000

QUESTION = "#rag-question textarea"
CHAT = "#rag-chatbot"
BOT = f'{CHAT} [data-testid="bot"]'
USER = f'{CHAT} [data-testid="user"]'
SOURCES = "#rag-sources-panel"


@pytest.fixture(scope="module")
def server(real_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChatServer]:
    log = tmp_path_factory.mktemp("ui-browser") / "server.log"
    with ChatServer(real_index, log_path=log) as running:
        yield running
        print(running.log[-4000:])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, server: ChatServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-TW")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url)
    page.wait_for_selector(QUESTION)
    yield page
    context.close()


def ask(page: Page, question: str) -> None:
    page.fill(QUESTION, question)
    page.press(QUESTION, "Enter")


def wait_for_answer(page: Page) -> None:
    """Until a bot message is shown and the sources panel is no longer 'searching'."""
    page.wait_for_function(
        """(working) => document.querySelectorAll('#rag-chatbot [data-testid="bot"]').length > 0
            && !document.querySelector('#rag-sources-panel').innerText.includes(working)""",
        arg=SOURCES_WORKING,
    )


def test_chinese_question_streams_answer_and_highlights_cited_passage(page: Page) -> None:
    ask(page, "APEC經濟領袖會議在哪裡舉行？")
    page.wait_for_selector(f"{SOURCES} .rag-card mark")  # the final answer has arrived
    answer = page.locator(BOT).last.inner_text()
    assert "舊金山" in answer or "莫斯科康" in answer, answer
    assert "[1]" in answer, answer
    card = page.locator(f"{SOURCES} .rag-card").first
    meta = card.locator(".rag-meta").inner_text()
    assert re.search(r"\[1\]\s*\S+\.txt · .+ · characters \d+–\d+", meta), meta
    marked = card.locator("mark").first.inner_text().strip()
    assert marked and marked in answer  # the highlighted sentence is the one quoted
    assert "引用來源" in page.locator(SOURCES).inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)


def test_html_in_a_question_is_shown_as_text(page: Page) -> None:
    evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>領袖會議'
    ask(page, evil)
    wait_for_answer(page)
    assert page.locator(USER).last.inner_text().strip() == evil
    assert page.locator(f"{CHAT} img[src='x'], {CHAT} script").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_example_and_new_conversation(page: Page) -> None:
    page.get_by_text("灣區議程著重哪六大領域？").click()
    page.wait_for_selector(f"{SOURCES} .rag-card mark")
    assert "強化供應鏈韌性" in page.locator(BOT).last.inner_text()
    page.get_by_role("button", name="New conversation · 新對話").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#rag-chatbot [data-testid=\"bot\"]').length === 0"
    )
    page.wait_for_selector(f"{SOURCES} .rag-empty")
    assert SOURCES_EMPTY in page.locator(SOURCES).inner_text()
    assert page.locator(f"{SOURCES} .rag-card").count() == 0


# ---------------------------------------------------------------------------- with an LLM

LLM_REPLY = "根據文件，APEC經濟領袖會議將於11月15日至17日在舊金山的莫斯科康會議中心舉行 [1]。"


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(reply=LLM_REPLY, chunk_size=3, chunk_delay=0.1) as fake:
        yield fake


@pytest.fixture(scope="module")
def llm_server(
    real_index: Path, llm: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChatServer]:
    log = tmp_path_factory.mktemp("ui-browser-llm") / "server.log"
    env = {"RAG_LLM_BASE_URL": llm.base_url, "RAG_LLM_MODEL": "fake", "RAG_LLM_TIMEOUT": "10"}
    with ChatServer(real_index, log_path=log, env=env) as running:
        yield running
        print(running.log[-4000:])


@pytest.fixture
def llm_page(browser: Browser, llm_server: ChatServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(llm_server.url)
    page.wait_for_selector(QUESTION)
    yield page
    context.close()


def test_llm_answer_streams_into_the_chat(llm_page: Page, llm: FakeOpenAIServer) -> None:
    llm.status = 200
    ask(llm_page, "APEC經濟領袖會議在哪裡舉行？")
    seen: list[str] = []
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        bots = llm_page.locator(BOT)
        if bots.count():
            text = bots.last.inner_text()
            if not seen or seen[-1] != text:
                seen.append(text)
            if llm_page.locator(f"{SOURCES} .rag-card").count():
                break
        time.sleep(0.05)
    final = llm_page.locator(BOT).last.inner_text()
    assert final.strip() == LLM_REPLY, final
    partial = [s for s in seen if s.strip() and len(s.strip()) < len(LLM_REPLY)]
    assert partial and all(LLM_REPLY.startswith(s.strip()) for s in partial), seen
    assert llm.requests, "the app did not call the LLM"
    meta = llm_page.locator(f"{SOURCES} .rag-card .rag-meta").first.inner_text()
    assert meta.startswith("[1]"), meta


def test_llm_failure_shows_the_fallback_notice(llm_page: Page, llm: FakeOpenAIServer) -> None:
    llm.status = 500
    try:
        ask(llm_page, "APEC經濟領袖會議在哪裡舉行？")
        llm_page.wait_for_selector(f"{SOURCES} .rag-notice")
        wait_for_answer(llm_page)
    finally:
        llm.status = 200
    notice = llm_page.locator(f"{SOURCES} .rag-notice").inner_text()
    assert "HTTP 500" in notice, notice
    answer = llm_page.locator(BOT).last.inner_text()
    assert "⚠" in answer and "HTTP 500" in answer, answer
    assert "莫斯科康" in answer  # the documents answered instead
    assert llm_page.locator(f"{SOURCES} .rag-card mark").count() > 0
