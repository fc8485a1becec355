"""The web chat: questions in Chinese or English, streamed answers, cited passages beside them.

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
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # after the environment is set

from ui.chat import Conversation, Message, api_turn, chat_turn
from ui.engine import LiveAssistant
from ui.render import SOURCES_CSS, STATUS_CSS, escape, render_sources, render_status

logger = logging.getLogger(__name__)

TITLE = "Document Q&A · 文件問答"
SUBTITLE = (
    "Answers come only from the indexed documents, with citations [1], [2] to the passages "
    "they quote. Ask in English, 繁體中文 or 简体中文. · 答案只根據已索引的文件，並以 [1]、[2] "
    "標註引用的段落。"
)
EXAMPLES = [
    "APEC經濟領袖會議在哪裡舉行？",
    "灣區議程著重哪六大領域？",
    "数字月讨论了哪些议题？",
    "Who is speaking at the CEO summit?",
    "What are the six focus areas of the Bay Area Agenda?",
]
CHAT_LABEL = "Conversation · 對話"
PLACEHOLDER = "Ask a question about the documents… · 請輸入關於文件的問題…"
ASK = "Ask · 提問"
NEW_CONVERSATION = "New conversation · 新對話"
CHAT_PLACEHOLDER = (
    "**Ask about the documents · 向文件提問**\n\n"
    "Try one of these examples, or type your own question below. · "
    "點選範例，或在下方輸入問題。"
)
CONCURRENCY = 4  # questions answered at once (page and API together)

HEADER_CSS = """
.rag-header { text-align: center; margin: 0.25rem 0 0; }
.rag-header h1 { font-size: 1.6rem; margin: 0 0 0.25rem; }
.rag-header p { margin: 0; color: var(--body-text-color-subdued); }
"""
# Page-wide styles given to launch(); the HTML components carry their own (css_template).
CSS = """
#rag-sources-panel { max-height: 680px; overflow-y: auto; }
#rag-chatbot .message-content, #rag-chatbot .md { white-space: pre-wrap; }
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


def create_app(
    index_dir: str | Path = "index", llm: Any = "env", live: LiveAssistant | None = None
) -> gr.Blocks:
    """The chat page over the index in ``index_dir``.

    ``llm`` goes to :class:`rag.Assistant` (``"env"``: use ``RAG_LLM_*`` if set; ``None``:
    quote the documents; or an ``LLMConfig`` / ``ChatClient``). The app starts even when
    there is no index yet: questions then get a message saying how to build one, and the
    index is picked up as soon as it appears. Without ``live``, the assistant is made
    here and warmed up in the background.
    """
    if live is None:
        live = LiveAssistant(index_dir, llm=llm)
        start_warm_up(live)

    def status() -> str:
        info = live.info()
        return render_status(info.version, info.passages, info.documents, info.built_at, info.error)

    def respond(
        question: str, conversation: Conversation | None
    ) -> Iterator[tuple[str, list[Message], str, Conversation, str | Any]]:
        version = live.version
        last = None
        for last in chat_turn(live, question, conversation):
            yield (*last, gr.skip())
        if last is not None and live.version != version:
            yield (*last, status())  # the index was (re)loaded for this question

    def respond_to_example(
        event: gr.SelectData, conversation: Conversation | None
    ) -> Iterator[tuple[str, list[Message], str, Conversation, str | Any]]:
        value = event.value if isinstance(event.value, dict) else {"text": str(event.value)}
        yield from respond(str(value.get("text", "")), conversation)

    def api_chat(
        message: str, conversation: Conversation | None
    ) -> Iterator[tuple[str, Conversation]]:
        """Answer ``message`` from the documents, following up on this session's conversation.

        Yields the answer text as it is written; the last value is the final answer, with
        citation markers [1], [2] … (or a message saying why there is none).
        """
        yield from api_turn(live, message, conversation)

    def reset_page() -> tuple[list[Message], str, Conversation, str]:
        return [], render_sources(), Conversation(), ""

    def api_new_conversation() -> Conversation:
        """Forget this session's conversation: the next /chat question starts afresh."""
        return Conversation()

    with gr.Blocks(title=TITLE, fill_width=False) as app:
        conversation = gr.State(Conversation())
        gr.HTML(
            f'<div class="rag-header"><h1>{escape(TITLE)}</h1><p>{escape(SUBTITLE)}</p></div>',
            css_template=HEADER_CSS,
            js_on_load=None,
        )
        index_status = gr.HTML(
            render_status(None), css_template=STATUS_CSS, elem_id="rag-status", js_on_load=None
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
                clear = gr.Button(
                    NEW_CONVERSATION, variant="secondary", size="sm", elem_id="rag-new-conversation"
                )
            with gr.Column(scale=2, min_width=320):
                sources = gr.HTML(
                    render_sources(),
                    css_template=SOURCES_CSS,
                    elem_id="rag-sources-panel",
                    padding=True,
                    js_on_load=None,
                )
        api_box = gr.Textbox(visible=False, label="message")
        api_answer = gr.Textbox(visible=False, label="answer")
        api_trigger = gr.Button(visible=False)
        api_reset = gr.Button(visible=False)

        outputs = [textbox, chatbot, sources, conversation, index_status]
        answering: dict[str, Any] = {  # typed and example questions answer alike
            "api_visibility": "private",
            "show_progress": "minimal",
            "show_progress_on": [chatbot],
            "concurrency_limit": CONCURRENCY,
            "concurrency_id": "answer",
        }
        ask = textbox.submit(respond, [textbox, conversation], outputs, **answering)
        example = chatbot.example_select(respond_to_example, [conversation], outputs, **answering)
        gr.on(
            [clear.click, chatbot.clear],
            reset_page,
            None,
            [chatbot, sources, conversation, textbox],
            cancels=[ask, example],
            api_visibility="private",
            queue=False,
        )
        api_trigger.click(
            api_chat,
            [api_box, conversation],
            [api_answer, conversation],
            api_name="chat",
            concurrency_limit=CONCURRENCY,
            concurrency_id="answer",
        )
        api_reset.click(
            api_new_conversation, None, [conversation], api_name="new_conversation", queue=False
        )
        app.load(status, None, index_status, api_visibility="private")
    return app


def start_warm_up(live: LiveAssistant) -> None:
    threading.Thread(target=live.warm_up, name="rag-warm-up", daemon=True).start()


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    index_dir: str | Path = "index",
    open_browser: bool = False,
    llm: Any = "env",
) -> None:
    """Launch the chat on ``host:port`` over ``index_dir``, print its URL, block until Ctrl+C."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    live = LiveAssistant(index_dir, llm=llm)
    app = create_app(index_dir, llm=llm, live=live)
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
