"""The web chat: questions in Chinese or English, streamed answers, cited passages beside them.

On a wide screen the chat and the sources panel sit side by side and fit the window; on
a phone the panel follows the chat, and a link beside "New conversation" leads to it.

``create_app(index_dir)`` builds the Gradio page; ``serve()`` launches it. The page's
chat and the ``/chat`` API endpoint (for ``gradio_client``: message in, answer text out,
the conversation kept per client session) share one :class:`ui.engine.LiveAssistant`,
which picks up a rebuilt index before the next question without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # after the environment is set

from rag import Passage
from ui.chat import Conversation, Message, api_turn, chat_turn
from ui.documents_panel import documents_panel
from ui.engine import LiveAssistant
from ui.render import (
    LOADING_STATUS,
    SOURCES_CSS,
    SOURCES_LINK_CSS,
    STATUS_CSS,
    FileLink,
    escape,
    render_sources,
    render_sources_link,
    render_status,
    status_line,
)

logger = logging.getLogger(__name__)

TITLE = "Document Q&A · 文件問答"
SUBTITLE = (
    "Answers quote only the indexed documents and cite them [1], [2]. Ask in English, "
    "繁體中文 or 简体中文. · 答案只根據已索引的文件，並以 [1]、[2] 標註引用的段落。"
)
EXAMPLES = [
    "APEC經濟領袖會議在哪裡舉行？",
    "灣區議程著重哪六大領域？",
    "数字月讨论了哪些议题？",
    "Who is speaking at the CEO summit?",
    "What are the six focus areas of the Bay Area Agenda?",
]
CHAT_LABEL = "Conversation · 對話"
PLACEHOLDER = "Ask a question… · 請輸入問題…"
ASK = "Ask · 提問"
NEW_CONVERSATION = "New conversation · 新對話"
CHAT_PLACEHOLDER = (
    "**Ask about the documents · 向文件提問**\n\n"
    "Answers quote only the documents, with citations [1], [2]. Try an example or type "
    "your own question. · 答案只根據文件，並標註引用。點選範例，或輸入您的問題。"
)
CONCURRENCY = 4  # questions answered at once (page and API together)

HEADER_CSS = """
.rag-header { text-align: center; }
.rag-header h1 { font-size: 1.35rem; line-height: 1.3; margin: 0; }
.rag-header p {
  margin: 0.15rem 0 0; font-size: 0.85rem; line-height: 1.4;
  color: var(--body-text-color-subdued);
}
@media (max-width: 640px) {
  .rag-header h1 { font-size: 1.15rem; }
  .rag-header p { display: none; }  /* the chat's placeholder says the same */
}
"""
# Page-wide styles given to launch(); the HTML components carry their own (css_template).
# Wide screens: chat and sources side by side, both fitting the window (the offsets are
# what sits above and below them: header, status, question box, button, gaps).
# Narrow screens (the columns stack): a compact page, a chat that grows with the
# conversation up to what fits above the question box, and the link to the sources.
# Gradio scopes the rules inside a media query to the page's content (``.contain``),
# so those name only elements inside it.
CSS = """
.gradio-container .main.app { padding: clamp(8px, 1.25vw, 16px) clamp(10px, 2.5vw, 32px); }
#rag-chatbot, #rag-sources-panel { --rag-chat-offset: 240px; --rag-panel-offset: 124px; }
#rag-chatbot {
  height: calc(100dvh - var(--rag-chat-offset)) !important; min-height: 320px;
}
#rag-chatbot .message-content, #rag-chatbot .md { white-space: pre-wrap; }
/* The chat's label is a header row above the messages, never floating over them. */
#rag-chatbot > .wrapper > label[data-testid="block-label"] { position: static; flex: none; }
#rag-chatbot > .wrapper > .bubble-wrap {
  flex: 1 1 0; min-height: 0; height: auto; padding-top: var(--spacing-md);
}
#rag-sources-panel {
  max-height: calc(100dvh - var(--rag-panel-offset)); min-height: 0; overflow-y: auto;
}
#rag-header .html-container, #rag-status .html-container, #rag-sources-link .html-container {
  padding: 0;
}
#rag-status { margin-top: -10px; }
#rag-actions { flex-wrap: nowrap; align-items: center; }
#rag-new-conversation { flex: none; white-space: nowrap; }
@media (min-width: 801px) {
  #rag-sources-link { display: none !important; }
}
@media (max-width: 800px) {
  .column, .row { gap: 10px; }
  #rag-chatbot { --rag-chat-offset: 200px; height: auto !important; min-height: 0; }
  #rag-chatbot > .wrapper { max-height: calc(100dvh - var(--rag-chat-offset)); }
  #rag-chatbot > .wrapper > .bubble-wrap { flex: 0 1 auto; }
  #rag-sources-panel { max-height: none; overflow-y: visible; }
}
"""
FONTS = [
    "ui-sans-serif",
    "system-ui",
    "Noto Sans CJK TC",
    "Noto Sans CJK SC",
    "PingFang TC",
    "Microsoft JhengHei",
    "sans-serif",
]


def theme() -> gr.themes.Base:
    """The page theme, with local fonts only (no web fonts: the app works offline)."""
    return gr.themes.Soft(
        primary_hue="blue",
        neutral_hue="slate",
        font=FONTS,
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def launch_options() -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` that give the page its look."""
    return {"theme": theme(), "css": CSS}


class ChatHandlers:
    """What the page's events call: answering typed and example questions, the /chat and
    /new_conversation API, starting afresh, the status line."""

    def __init__(self, live: LiveAssistant, file_link: FileLink) -> None:
        self.live = live
        self.file_link = file_link

    def status(self) -> str:
        info = self.live.info()
        return render_status(info.version, info.passages, info.documents, info.built_at, info.error)

    def respond(
        self, question: str, conversation: Conversation | None
    ) -> Iterator[tuple[str, list[Message], str, Conversation, str, str | Any]]:
        version = self.live.version
        before = conversation or Conversation()
        last = None
        for last in chat_turn(self.live, question, before):
            done = last[3] is not before  # the turn's conversation is made at its end
            link = render_sources_link(last[3].answer, pending=not done)
            if done and last[3].answer is not None:  # the final cards link to the files
                cards = render_sources(last[3].answer, file_link=self.file_link)
                last = (last[0], last[1], cards, last[3])
            yield (*last, link, gr.skip())
        if last is not None and self.live.version != version:
            yield (*last, link, self.status())  # the index was (re)loaded for this question

    def respond_to_example(
        self, event: gr.SelectData, conversation: Conversation | None
    ) -> Iterator[tuple[str, list[Message], str, Conversation, str, str | Any]]:
        value = event.value if isinstance(event.value, dict) else {"text": str(event.value)}
        yield from self.respond(str(value.get("text", "")), conversation)

    def api_chat(
        self, message: str, conversation: Conversation | None
    ) -> Iterator[tuple[str, Conversation]]:
        """Answer ``message`` from the documents, following up on this session's conversation.

        Yields the answer text as it is written; the last value is the final answer, with
        citation markers [1], [2] … (or a message saying why there is none).
        """
        yield from api_turn(self.live, message, conversation)

    @staticmethod
    def reset_page() -> tuple[list[Message], str, str, Conversation, str]:
        return [], render_sources(), render_sources_link(), Conversation(), ""

    @staticmethod
    def api_new_conversation() -> Conversation:
        """Forget this session's conversation: the next /chat question starts afresh."""
        return Conversation()


@dataclass
class ChatPage:
    """The components of the chat page."""

    conversation: gr.State
    index_status: gr.HTML
    chatbot: gr.Chatbot
    textbox: gr.Textbox
    clear: gr.Button
    sources_link: gr.HTML
    sources: gr.HTML


def create_app(
    index_dir: str | Path = "index",
    llm: Any = "env",
    live: LiveAssistant | None = None,
    seeds_dir: str | Path = "seeds",
) -> gr.Blocks:
    """The chat page over the index in ``index_dir``, with a panel that adds documents
    to ``seeds_dir`` and the index, lists them and removes them.

    ``llm`` goes to :class:`rag.Assistant` (``"env"``: use ``RAG_LLM_*`` if set; ``None``:
    quote the documents; or an ``LLMConfig`` / ``ChatClient``). The app starts even when
    there is no index yet: questions then get a message saying how to build one, and the
    index is picked up as soon as it appears. Without ``live``, the assistant is made
    here and warmed up in the background.
    """
    if live is None:
        live = LiveAssistant(index_dir, llm=llm)
        start_warm_up(live)
    handlers = ChatHandlers(live, file_links(seeds_dir))
    with gr.Blocks(title=TITLE, fill_width=False) as app:
        page = _chat_page()
        _answering_events(handlers, page)
        _api_events(handlers, page.conversation)
        app.load(
            handlers.status,
            None,
            page.index_status,
            api_visibility="private",
            show_progress="hidden",
        )
        documents_panel(app, Path(seeds_dir), Path(index_dir), handlers.status, page.index_status)
    return app


def _chat_page() -> ChatPage:
    """The header, status line, chat, question box and sources panel."""
    conversation = gr.State(Conversation())
    gr.HTML(
        f'<div class="rag-header"><h1>{escape(TITLE)}</h1><p>{escape(SUBTITLE)}</p></div>',
        css_template=HEADER_CSS,
        elem_id="rag-header",
        js_on_load=None,
    )
    index_status = gr.HTML(
        status_line(LOADING_STATUS), css_template=STATUS_CSS, elem_id="rag-status", js_on_load=None
    )
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=420):
            chatbot = gr.Chatbot(
                label=CHAT_LABEL,
                elem_id="rag-chatbot",
                height=560,
                render_markdown=False,  # messages are escaped text, shown as is
                sanitize_html=True,
                latex_delimiters=[],
                buttons=["copy", "copy_all"],
                placeholder=CHAT_PLACEHOLDER,
                examples=[{"text": q} for q in EXAMPLES],
                feedback_options=None,
            )
            textbox = gr.Textbox(
                show_label=False,
                placeholder=PLACEHOLDER,
                submit_btn=ASK,
                max_lines=6,
                autofocus=True,
                elem_id="rag-question",
            )
            with gr.Row(equal_height=True, elem_id="rag-actions"):
                clear = gr.Button(
                    NEW_CONVERSATION,
                    variant="secondary",
                    size="sm",
                    scale=0,
                    min_width=0,
                    elem_id="rag-new-conversation",
                )
                sources_link = gr.HTML(  # shown when the sources follow the chat
                    render_sources_link(),
                    css_template=SOURCES_LINK_CSS,
                    elem_id="rag-sources-link",
                    scale=1,
                    min_width=0,
                    js_on_load=None,
                )
        with gr.Column(scale=2, min_width=320):
            sources = gr.HTML(
                render_sources(),
                css_template=SOURCES_CSS,
                elem_id="rag-sources-panel",
                padding=True,
                js_on_load=None,
            )
    return ChatPage(conversation, index_status, chatbot, textbox, clear, sources_link, sources)


def _answering_events(handlers: ChatHandlers, page: ChatPage) -> None:
    """Typed and example questions answer alike; "New conversation" starts afresh."""
    outputs = [
        page.textbox,
        page.chatbot,
        page.sources,
        page.conversation,
        page.sources_link,
        page.index_status,
    ]
    answering: dict[str, Any] = {
        "api_visibility": "private",
        "show_progress": "minimal",
        "show_progress_on": [page.chatbot],
        "concurrency_limit": CONCURRENCY,
        "concurrency_id": "answer",
    }
    ask = page.textbox.submit(
        handlers.respond, [page.textbox, page.conversation], outputs, **answering
    )
    example = page.chatbot.example_select(
        handlers.respond_to_example, [page.conversation], outputs, **answering
    )
    gr.on(
        [page.clear.click, page.chatbot.clear],
        handlers.reset_page,
        None,
        [page.chatbot, page.sources, page.sources_link, page.conversation, page.textbox],
        cancels=[ask, example],
        api_visibility="private",
        queue=False,
    )


def _api_events(handlers: ChatHandlers, conversation: gr.State) -> None:
    """/chat and /new_conversation for gradio_client, on hidden components."""
    api_box = gr.Textbox(visible=False, label="message")
    api_answer = gr.Textbox(visible=False, label="answer")
    api_trigger = gr.Button(visible=False)
    api_reset = gr.Button(visible=False)
    api_trigger.click(
        handlers.api_chat,
        [api_box, conversation],
        [api_answer, conversation],
        api_name="chat",
        concurrency_limit=CONCURRENCY,
        concurrency_id="answer",
    )
    api_reset.click(
        handlers.api_new_conversation,
        None,
        [conversation],
        api_name="new_conversation",
        queue=False,
    )


def file_links(seeds_dir: str | Path) -> FileLink:
    """Where the page opens a passage's source file: the file as the server gives it (see
    ``serve``: ``allowed_paths``), a PDF at the passage's page; None for no such file."""
    seeds_root = Path(seeds_dir).resolve()

    def file_link(passage: Passage) -> str | None:
        path = (seeds_root / passage.source).resolve()
        if not path.is_relative_to(seeds_root) or not path.is_file():
            return None
        page = f"#page={passage.page}" if passage.page is not None else ""
        return f"gradio_api/file={quote(str(path))}{page}"

    return file_link


def start_warm_up(live: LiveAssistant) -> None:
    threading.Thread(target=live.warm_up, name="rag-warm-up", daemon=True).start()


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    index_dir: str | Path = "index",
    open_browser: bool = False,
    llm: Any = "env",
    seeds_dir: str | Path = "seeds",
) -> None:
    """Launch the chat on ``host:port`` over ``index_dir`` (documents added from the page
    go to ``seeds_dir``), print its URL, block until Ctrl+C."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    live = LiveAssistant(index_dir, llm=llm)
    app = create_app(index_dir, llm=llm, live=live, seeds_dir=seeds_dir)
    app.queue(default_concurrency_limit=CONCURRENCY)
    try:
        _, local_url, _ = app.launch(
            server_name=host,
            server_port=port,
            inbrowser=open_browser,
            prevent_thread_lock=True,
            quiet=True,
            show_error=False,
            ssr_mode=False,
            allowed_paths=[str(Path(seeds_dir).resolve())],  # source cards open the files
            **launch_options(),
        )
    except OSError as exc:
        raise OSError(
            f"cannot serve on {host}:{port} ({exc}): choose another port with --port"
        ) from exc
    start_warm_up(live)  # after the page is up: the two would slow each other down
    print(f"rag chat is running at {local_url} (index: {index_dir}; Ctrl+C to stop)", flush=True)
    print(f"聊天介面已啟動：{local_url}", flush=True)
    app.block_thread()
