"""The documents panel: add files (button or drag and drop), see the documents in the
index with their size and when they were added, remove one.

Adding and removing call :func:`rag.add_files` / :func:`rag.remove_document`: the same
build as ``rag build``, incremental and atomic. A progress bar follows the reading and
the embedding; the message under it names every file that was added and every file
that was not, with why. The chat picks the new index up before its next question
(:class:`ui.engine.LiveAssistant`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from rag import IndexedDocument, LibraryError, add_files, list_documents, remove_document
from rag.formats import SUFFIXES
from ui.render import escape

logger = logging.getLogger(__name__)

PANEL_TITLE = "Documents · 文件"
UPLOAD_LABEL = "Add files · 新增檔案 (PDF, Word, HTML, TXT, MD)"
REMOVE_LABEL = "Document to remove · 要移除的文件"
REMOVE = "Remove · 移除"
NO_DOCUMENTS = "No documents in the index yet. · 索引中尚無文件。"
LIBRARY_CSS = """
.rag-docs { font-size: 0.8rem; line-height: 1.4; }
.rag-docs table { width: 100%; border-collapse: collapse; border: none; margin: 0; }
.rag-docs th, .rag-docs td {
  text-align: left; padding: 0.25rem 0.3rem; border: none;
  border-bottom: 1px solid var(--border-color-primary); font-weight: normal;
}
.rag-docs th { color: var(--body-text-color-subdued); white-space: nowrap; }
.rag-docs td.rag-num, .rag-docs th.rag-num { text-align: right; white-space: nowrap; }
.rag-docs .rag-name { word-break: break-word; font-family: var(--font-mono); min-width: 7em; }
.rag-docs .rag-ok { color: #15803d; }
.rag-docs .rag-failed { color: #b91c1c; }
.rag-docs ul { margin: 0.2rem 0 0.4rem 1rem; padding: 0; }
"""


def human_size(size: int) -> str:
    """``size`` bytes as ``812 B``, ``14.2 KB``, ``3.1 MB``."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.1f} MB"


def _when(added: str) -> str:
    """``2026-11-29T13:27:05+0000`` as the date over the time (a narrow column)."""
    if not added:
        return "–"
    day, _, time = added.partition("T")
    return f"{escape(day)}<br>{escape(time[:5])}" if time else escape(day)


def render_documents(documents: list[IndexedDocument]) -> str:
    """The documents as a table: name, size, pages, passages, when added."""
    if not documents:
        return f'<div class="rag-docs"><p>{escape(NO_DOCUMENTS)}</p></div>'
    rows = "".join(
        "<tr>"
        f'<td class="rag-name">{escape(d.source)}</td>'
        f'<td class="rag-num">{human_size(d.size) if d.size else "–"}</td>'
        f'<td class="rag-num">{d.pages or "–"}</td>'
        f'<td class="rag-num">{d.passages}</td>'
        f'<td class="rag-num">{_when(d.added)}</td>'
        "</tr>"
        for d in documents
    )
    head = (
        "<tr><th>File<br>檔案</th><th class='rag-num'>Size<br>大小</th>"
        "<th class='rag-num'>Pages<br>頁數</th><th class='rag-num'>Passages<br>段落</th>"
        "<th class='rag-num'>Added<br>加入時間</th></tr>"
    )
    return f'<div class="rag-docs"><table>{head}{rows}</table></div>'


def render_change(added: list[str], failed: dict[str, str], removed: str = "") -> str:
    """What a change did: the files added or removed, the files refused with why."""
    parts = ['<div class="rag-docs">']
    if removed:
        parts.append(f'<p class="rag-ok">✓ Removed · 已移除：{escape(removed)}</p>')
    if added:
        items = "".join(f"<li>{escape(name)}</li>" for name in added)
        parts.append(f'<p class="rag-ok">✓ Added · 已加入：</p><ul>{items}</ul>')
    if failed:
        items = "".join(
            f"<li><b>{escape(name)}</b>: {escape(why)}</li>" for name, why in failed.items()
        )
        parts.append(f'<p class="rag-failed">✗ Not added · 未加入：</p><ul>{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


def render_failure(message: str) -> str:
    return f'<div class="rag-docs"><p class="rag-failed">✗ {escape(message)}</p></div>'


# Gradio gives a handler whose argument defaults to a Progress the event's progress bar
# (a default is made once, so one instance for both handlers is the same thing)
_PROGRESS = gr.Progress()


class _Handlers:
    """What the panel's events do: list, add and remove documents."""

    def __init__(self, seeds_dir: Path, index_dir: Path, status: Callable[[], str]) -> None:
        self.seeds_dir, self.index_dir, self.status = seeds_dir, index_dir, status

    def listing(self) -> tuple[str, Any]:
        """The document table and the choices of the remove list."""
        docs = list_documents(self.index_dir)
        return render_documents(docs), gr.update(choices=[d.source for d in docs], value=None)

    def add(self, files: list[str] | None, progress: gr.Progress = _PROGRESS) -> tuple[Any, ...]:
        if not files:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            change = add_files(
                files, self.seeds_dir, self.index_dir, progress=lambda s, w: progress(s, w)
            )
            message = render_change(change.added, change.failed)
        except LibraryError as exc:
            message = render_failure(str(exc))
        return (message, *self.listing(), None, self.status())

    def remove(self, name: str | None, progress: gr.Progress = _PROGRESS) -> tuple[Any, ...]:
        if not name:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            remove_document(
                name, self.seeds_dir, self.index_dir, progress=lambda s, w: progress(s, w)
            )
            message = render_change([], {}, removed=name)
        except LibraryError as exc:
            message = render_failure(str(exc))
        return (message, *self.listing(), self.status())


def documents_panel(
    app: gr.Blocks,
    seeds_dir: Path,
    index_dir: Path,
    status: Callable[[], str],
    status_box: gr.HTML,
) -> None:
    """The panel's components and events, inside ``app`` (being built); ``status``
    renders the index status line shown in ``status_box``."""
    handlers = _Handlers(seeds_dir, index_dir, status)
    with gr.Sidebar(
        label=PANEL_TITLE, open=False, position="right", width=420, elem_id="rag-library"
    ):
        gr.Markdown(f"### {PANEL_TITLE}")
        upload = gr.File(
            label=UPLOAD_LABEL,
            file_count="multiple",
            file_types=list(SUFFIXES),
            type="filepath",
            elem_id="rag-upload",
        )
        message = gr.HTML("", css_template=LIBRARY_CSS, elem_id="rag-library-message")
        table = gr.HTML(render_documents([]), css_template=LIBRARY_CSS, elem_id="rag-documents")
        choice = gr.Dropdown(choices=[], label=REMOVE_LABEL, elem_id="rag-remove-choice")
        remove_button = gr.Button(REMOVE, variant="stop", size="sm", elem_id="rag-remove")
    library: dict[str, Any] = {
        "api_visibility": "private",
        "concurrency_limit": 1,
        "concurrency_id": "library",
    }
    upload.upload(handlers.add, [upload], [message, table, choice, upload, status_box], **library)
    remove_button.click(handlers.remove, [choice], [message, table, choice, status_box], **library)
    app.load(
        handlers.listing, None, [table, choice], api_visibility="private", show_progress="hidden"
    )
