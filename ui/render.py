"""HTML for the chat page: escaped messages, the sources panel and the link to it, the
index status line.

Pure functions, no Gradio: every piece of document or user text goes through
:func:`html.escape` before it becomes part of any HTML, so a document or a question
containing ``<script>`` or ``<img onerror=…>`` is shown as text, never run.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable

from rag import Answer, Passage

SOURCES_TITLE = "Sources · 引用來源"
CONFIDENCE_HELP = (
    "How likely the first quoted sentence answers the question, as estimated by a model "
    "trained on public reading-comprehension data"
)
RELATED_TITLE = "Possibly related · 可能相關"
RELATED_NOTE = (
    "These passages did not answer the question, but they may help. · "
    "這些段落沒有回答問題，但可能相關。"
)
NO_SOURCES = "No passage in the documents answers this question. · 文件中沒有回答這個問題的段落。"
SOURCES_EMPTY = (
    "Ask a question: the passages an answer cites appear here, the quoted sentences "
    "highlighted. · 提問後，答案引用的段落會顯示在這裡，並標示引用的句子。"
)
SOURCES_WORKING = "Searching the documents… · 正在查找文件…"
CHARACTERS = "characters"
PAGE = "page"  # a PDF source's page: "page 3"
OPEN_FILE = "Open the file (at this page) · 開啟檔案"
# a passage -> the address of its source file (a PDF's at its page), or None
FileLink = Callable[[Passage], str | None]
# Appended to a declined answer's bubble when related passages are offered: the sources
# panel is beside the chat on a wide screen and after it on a phone, so no "below".
RELATED_POINTER = {
    "en": "Related passages are shown under Sources.",
    "zh-Hant": "可能相關的段落列在「引用來源」中。",
    "zh-Hans": "可能相关的段落列在“引用来源”中。",
}
RELATED_POINTER_BOTH = f"{RELATED_POINTER['en']} · {RELATED_POINTER['zh-Hant']}"
SOURCES_LINK = "Sources · 引用來源"
NO_INDEX_STATUS = "No index yet · 尚未建立索引"
LOADING_STATUS = "Loading the index… · 正在載入索引…"

# Styles for the sources panel, scoped by Gradio to the HTML component (css_template),
# so they apply however the app is launched. Colours follow the theme's variables.
SOURCES_CSS = """
.rag-sources { font-size: 0.95rem; line-height: 1.6; }
.rag-sources h3 { margin: 0 0 0.6rem; font-size: 1.05rem; font-weight: 600; }
.rag-sources h4 { margin: 0 0 0.3rem; font-size: 0.95rem; font-weight: 600; }
.rag-sources .rag-empty { color: var(--body-text-color-subdued); }
.rag-sources .rag-note { color: var(--body-text-color-subdued); margin: 0 0 0.6rem; }
.rag-sources .rag-notice {
  border: 1px solid #f59e0b; background: rgba(245, 158, 11, 0.12);
  border-radius: 8px; padding: 0.5rem 0.75rem; margin-bottom: 0.75rem;
}
.rag-sources .rag-card {
  border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 0.6rem 0.8rem; margin-bottom: 0.75rem;
  background: var(--background-fill-secondary);
}
.rag-sources .rag-meta, .rag-sources .rag-section {
  font-size: 0.85rem; color: var(--body-text-color-subdued); line-height: 1.45;
}
.rag-sources .rag-meta { overflow-wrap: anywhere; }
.rag-sources .rag-section {
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.rag-sources .rag-text { margin-top: 0.35rem; }
.rag-sources .rag-n { font-weight: 700; color: var(--color-accent); margin-right: 0.25rem; }
.rag-sources .rag-file { font-family: var(--font-mono); }
.rag-sources .rag-text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.rag-sources mark {
  background: #fde68a; color: #1f2937; border-radius: 3px; padding: 0 1px;
}
.rag-sources mark.rag-also {  /* quoted as also mentioned, not as the answer */
  background: transparent; color: inherit; border-bottom: 2px dotted #d97706;
}
"""
STATUS_CSS = """
.rag-status {
  font-size: 0.8rem; line-height: 1.4; color: var(--body-text-color-subdued); text-align: center;
}
.rag-status span { color: inherit; }
@media (max-width: 640px) {  /* a line each, without the separator */
  .rag-status span { display: block; }
  .rag-status .rag-sep { display: none; }
}
"""
# The link from the chat to the sources panel, for when the panel is after the chat (phone).
SOURCES_LINK_CSS = """
.rag-sources-link { text-align: right; font-size: 0.85rem; line-height: 1.4; }
.rag-sources-link a {
  color: var(--color-accent); font-weight: 600; text-decoration: none; padding: 0;
  white-space: nowrap;
}
"""


def escape(text: str) -> str:
    """``text`` made safe to put inside HTML (quotes included)."""
    return html.escape(text, quote=True)


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Sorted, non-overlapping ``(start, end)`` ranges clamped to ``[0, length]``."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((max(0, a), min(length, b)) for a, b in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def highlight(
    text: str, spans: Iterable[tuple[int, int]], also: Iterable[tuple[int, int]] = ()
) -> str:
    """``text`` escaped, with each span of ``spans`` wrapped in ``<mark>``; those of
    ``also`` (quoted as also mentioned, not as the answer) in ``<mark class="rag-also">``."""
    also = set(also)
    marks = [(a, b, "") for a, b in merge_spans(set(spans) - also, len(text))]
    marks += [(a, b, ' class="rag-also"') for a, b in merge_spans(also, len(text))]
    out: list[str] = []
    position = 0
    for start, end, css in sorted(marks):
        start = max(start, position)
        if end <= start:
            continue
        out.append(escape(text[position:start]))
        out.append(f"<mark{css}>{escape(text[start:end])}</mark>")
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def passage_meta(passage: Passage) -> str:
    """``source file · page n · characters start–end · section`` as plain text (the page
    for a PDF source only)."""
    parts = [passage.source, f"{CHARACTERS} {passage.start}–{passage.end}"]
    if passage.page is not None:
        parts.insert(1, f"{PAGE} {passage.page}")
    if passage.section:
        parts.append(passage.section)
    return " · ".join(parts)


def passage_card(
    passage: Passage, number: int | None = None, *, marks: bool = True, link: str | None = None
) -> str:
    """One passage: ``[n] source · page p · characters a–b`` (the page for a PDF
    source; the file name opens ``link`` when given), its section path on one line (cut
    with an ellipsis when long, in full in its tooltip), then its highlighted text."""
    label = f'<span class="rag-n">[{number}]</span>' if number is not None else ""
    name = escape(passage.source)
    if link:
        name = (
            f'<a href="{escape(link)}" target="_blank" rel="noopener" '
            f'title="{OPEN_FILE}">{name}</a>'
        )
    page = (
        f'<span class="rag-page">{PAGE} {passage.page}</span> · '
        if passage.page is not None
        else ""
    )
    meta = (
        f'<span class="rag-file">{name}</span> · {page}'
        f'<span class="rag-chars">{CHARACTERS} {passage.start}–{passage.end}</span>'
    )
    section = ""
    if passage.section:
        section = (
            f'<div class="rag-section" title="{escape(passage.section)}">'
            f"{escape(passage.section)}</div>"
        )
    body = escape(passage.text)
    if marks:
        body = highlight(passage.text, passage.highlights, passage.also)
    anchor = f' id="rag-source-{number}"' if number is not None else ""
    return (
        f'<article class="rag-card"{anchor}>'
        f'<div class="rag-meta">{label}{meta}</div>{section}'
        f'<p class="rag-text">{body}</p>'
        "</article>"
    )


def render_sources(
    answer: Answer | None = None,
    *,
    message: str = SOURCES_EMPTY,
    file_link: FileLink | None = None,
) -> str:
    """The sources panel for ``answer``; with no answer, ``message`` under the title.
    With ``file_link``, each card's file name opens the file (a PDF at the page)."""

    def card(passage: Passage, number: int | None = None, marks: bool = True) -> str:
        link = file_link(passage) if file_link is not None else None
        return passage_card(passage, number, marks=marks, link=link)

    parts = ['<section class="rag-sources">']
    if answer is not None and answer.notice:
        parts.append(f'<div class="rag-notice" role="status">⚠ {escape(answer.notice)}</div>')
    if answer is None:
        parts.append(f"<h3>{SOURCES_TITLE}</h3>")
        parts.append(f'<p class="rag-empty">{escape(message)}</p>')
    elif answer.citations:
        parts.append(f"<h3>{SOURCES_TITLE}</h3>")
        if answer.confidence is not None:
            parts.append(confidence_note(answer.confidence))
        parts.extend(card(p, n) for n, p in enumerate(answer.citations, 1))
    elif answer.related:
        parts.append(f"<h3>{SOURCES_TITLE}</h3>")
        parts.append(f"<h4>{RELATED_TITLE}</h4>")
        parts.append(f'<p class="rag-note">{RELATED_NOTE}</p>')
        parts.extend(card(p, marks=False) for p in answer.related)
    else:
        parts.append(f"<h3>{SOURCES_TITLE}</h3>")
        parts.append(f'<p class="rag-empty">{NO_SOURCES}</p>')
    parts.append("</section>")
    return "".join(parts)


def confidence_note(confidence: float) -> str:
    """A quiet line saying how likely the quoted sentence answers the question."""
    share = f"{round(100 * confidence)}%"
    return (
        f'<p class="rag-note rag-confidence" title="{CONFIDENCE_HELP}">'
        f"Answer confidence · 答案可信度: {share}</p>"
    )


def shown_passages(answer: Answer | None) -> int:
    """How many passages the sources panel shows for ``answer``."""
    if answer is None:
        return 0
    return len(answer.citations) if answer.citations else len(answer.related)


def render_sources_link(answer: Answer | None = None, *, pending: bool = False) -> str:
    """``Sources · 引用來源 (n) ↓``: a link to the sources panel, with how many passages
    it shows for ``answer`` (no count before a question or while one is answered)."""
    count = "" if pending or answer is None else f" ({shown_passages(answer)})"
    return (
        '<div class="rag-sources-link">'
        f'<a href="#rag-sources-panel">{SOURCES_LINK}{count} ↓</a>'
        "</div>"
    )


LABELS: dict[str, dict[str, str]] = {  # which answer a bubble shows, in LLM mode
    "quoted": {
        "en": "Quoted from the documents (the language model is writing an answer):",
        "zh-Hant": "直接引用文件（語言模型正在撰寫回答）：",
        "zh-Hans": "直接引用文件（语言模型正在撰写回答）：",
    },
    "writing": {
        "en": "Language model, writing (not yet checked):",
        "zh-Hant": "語言模型撰寫中（尚未核對）：",
        "zh-Hans": "语言模型撰写中（尚未核对）：",
    },
    "checked": {
        "en": "Language model's answer, every sentence checked against the cited passages:",
        "zh-Hant": "語言模型的回答，每句都已與引用段落核對：",
        "zh-Hans": "语言模型的回答，每句都已与引用段落核对：",
    },
    "translated": {
        "en": "Language model's translation of the sentence most likely to answer, checked "
        "against it; the original below:",
        "zh-Hant": "語言模型對最可能回答問題之句子的翻譯，已與該句核對；原文在下：",
        "zh-Hans": "语言模型对最可能回答问题之句子的翻译，已与该句核对；原文在下：",
    },
    "kept": {
        "en": "Quoted from the documents:",
        "zh-Hant": "直接引用文件：",
        "zh-Hans": "直接引用文件：",
    },
}


def labelled(label: str, language: str, body: str) -> str:
    """A bubble's ``body`` (already escaped) under the label saying which answer it is."""
    text = LABELS[label].get(language, LABELS[label]["en"])
    return f"<b>{html.escape(text, quote=False)}</b>\n{body}"


def answer_message(answer: Answer) -> str:
    """The bubble for a final answer: its text, then, for a declined question offering
    related passages, where to find them; then any notice."""
    text = answer.text
    if answer.abstained and answer.related:
        text += "\n\n" + RELATED_POINTER.get(answer.language, RELATED_POINTER_BOTH)
    return chat_message(text, answer.notice)


def chat_message(text: str, notice: str = "") -> str:
    """A chat bubble's content: ``<``, ``>`` and ``&`` escaped, then the notice.

    The Chatbot renders messages as (sanitised) HTML even without Markdown, so escaping
    is what makes ``<script>`` in a question or a document show as text. Quotes are
    left alone: they are harmless outside tags and stay readable when a bubble is copied.
    """
    shown = html.escape(text, quote=False)
    if notice:
        shown += "\n\n⚠ " + html.escape(notice, quote=False)
    return shown


def render_status(
    version: str | None, passages: int = 0, documents: int = 0, built_at: str = "", error: str = ""
) -> str:
    """The index status line under the title, in words a reader knows: how many documents
    and passages, and when the index was built (``version`` only tells whether there is
    one: the internal version id is for the logs, never shown)."""
    if version is None:
        return status_line(error or NO_INDEX_STATUS)
    docs = f"{documents} document{'s' if documents != 1 else ''}"
    english = f"Index: {docs}, {passages} passage{'s' if passages != 1 else ''}"
    if built_at:
        english += f", built {built_at[:16].replace('T', ' ')}"
    return status_line(english, f"索引：{documents} 份文件、{passages} 個段落")


def status_line(*parts: str) -> str:
    """The status line: ``parts`` joined by `` · `` (on a phone, a line each)."""
    spans = '<span class="rag-sep"> · </span>'.join(
        f"<span>{escape(part)}</span>" for part in parts
    )
    return f'<div class="rag-status">{spans}</div>'
