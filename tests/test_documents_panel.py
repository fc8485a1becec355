"""The documents panel's HTML: the document list and what a change did, escaped."""

from __future__ import annotations

import re

from rag import IndexedDocument
from ui.documents_panel import NO_DOCUMENTS, human_size, render_change, render_documents


def test_sizes_read_as_people_write_them() -> None:
    assert [human_size(n) for n in (812, 14_200, 3_100_000)] == ["812 B", "14.2 KB", "3.1 MB"]


def test_the_list_shows_name_size_pages_passages_and_date_escaped() -> None:
    docs = [
        IndexedDocument("<b>r</b>.pdf", 2_500_000, "2026-11-29T13:27:05+0000", 40, "pdf", 12),
        IndexedDocument("tea.txt", 59, "", 1, "text", 0),
    ]
    html = render_documents(docs)
    assert "<b>r</b>" not in html and "&lt;b&gt;r&lt;/b&gt;.pdf" in html
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert cells == [
        "&lt;b&gt;r&lt;/b&gt;.pdf", "2.5 MB", "12", "40", "2026-11-29<br>13:27",
        "tea.txt", "59 B", "–", "1", "–",
    ]  # fmt: skip
    assert NO_DOCUMENTS in render_documents([])


def test_a_change_names_each_file_added_and_each_refused_with_why() -> None:
    html = render_change(["a.pdf"], {"scan.pdf": "scan.pdf has no text layer: run OCR <now>"})
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Added" in text and "a.pdf" in text
    assert "Not added" in text and "scan.pdf has no text layer: run OCR &lt;now&gt;" in text
    assert "Removed" in render_change([], {}, removed="tea.txt")
