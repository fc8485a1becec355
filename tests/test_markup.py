"""Word documents and web pages as Markdown-like text."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.markup import docx_text, html_text
from tests.make_documents import write_docx


def test_docx_keeps_order_headings_lists_and_tables(tmp_path: Path) -> None:
    text = "# 港口\n\n港口於1901年啟用。\n\n## Cranes\n\n- Tower crane\n- Gantry crane\n\nThe end."
    path = write_docx(text, tmp_path / "port.docx", table=[["Year", "Ships"], ["1901", "12"]])
    assert docx_text(path.read_bytes()) == (
        "# 港口\n\n港口於1901年啟用。\n\n## Cranes\n\n- Tower crane\n- Gantry crane\n\n"
        "The end.\n\n- Year | Ships\n- 1901 | 12\n"
    )


def test_a_damaged_docx_says_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"save it again as \.docx"):
        docx_text(b"PK\x03\x04 not really a zip")


def test_html_keeps_the_main_text_and_drops_navigation() -> None:
    page = b"""<!doctype html><html><head><title>T</title><style>p{}</style></head><body>
    <header><a href="/">Site</a></header><nav><ul><li>Home</li><li>News</li></ul></nav>
    <main><h1>Harbour &amp; docks</h1><p>The harbour <b>opened</b> in 1901.</p>
    Loose text.<div><p>In a div.</p></div>
    <ul><li>cranes</li><li><p>docks</p></li></ul>
    <table><tr><th>Year</th><th>Ships</th></tr><tr><td>1901</td><td>12</td></tr></table>
    <script>var x = 1;</script><form><button>Subscribe</button></form></main>
    <aside>Related links</aside><footer>(c) 2024</footer></body></html>"""
    assert html_text(page) == (
        "# Harbour & docks\n\nThe harbour opened in 1901.\n\nLoose text.\n\nIn a div.\n\n"
        "- cranes\n\ndocks\n\n- Year | Ships\n- 1901 | 12\n"
    )


def test_a_saved_wiki_page_is_its_article_without_the_wikis_chrome() -> None:
    page = """<!DOCTYPE html><html lang="zh"><head><meta charset="UTF-8"></head><body>
    <a class="mw-jump-link" href="#bodyContent">跳至內容</a>
    <header class="vector-header">主選單 搜尋</header>
    <main id="content"><header class="mw-body-header"><h1>火山島</h1></header>
    <div id="siteSub">維基百科，自由的百科全書</div>
    <div role="note" class="hatnote">關於其他用法，請見「火山島 (消歧義)」。</div>
    <div style="display:none">隱藏的簡介</div>
    <p>火山島位於北部。<sup class="reference"><a href="#cite_note-1">&#91;1&#93;</a></sup>
    最近一次噴發在1912年。<sup class="noprint Template-Fact">[<i>來源請求</i>]</sup></p>
    <div class="mw-heading2"><h2>歷史</h2><span class="mw-editsection">[<a>編輯</a>]</span></div>
    <p>觀測站成立於1950年。</p>
    <div class="mw-heading2"><h2>參考資料</h2></div>
    <div class="reflist"><ol class="references"><li>^ 《島嶼火山》，1990年。</li></ol></div>
    <div role="navigation" class="navbox">火山列表</div>
    <div class="printfooter">取自「https://zh.wikipedia.org/w/index.php?title=火山島」</div>
    <div id="catlinks" class="catlinks">分類：火山</div></main>
    <footer>本頁面最後修訂於2026年1月1日。</footer></body></html>"""
    assert html_text(page.encode("utf-8")) == (
        "# 火山島\n\n火山島位於北部。 最近一次噴發在1912年。\n\n## 歷史\n\n觀測站成立於1950年。\n"
    )


def test_html_without_main_reads_the_body() -> None:
    assert html_text(b"<p>One.</p><p>Two.</p>") == "One.\n\nTwo.\n"
    assert html_text(b"<html><body><nav>Menu</nav></body></html>") == ""


@pytest.mark.parametrize(
    ("encoding", "head"),
    [
        ("big5", '<meta charset="big5">'),
        ("gb2312", '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'),
        ("utf-16", ""),  # Notepad's "Unicode": a byte-order mark, no declaration
        ("utf-8", '<meta charset="iso-8859-1">'),  # UTF-8 bytes, whatever the page says
    ],
)
def test_a_page_is_read_in_the_encoding_it_is_in(encoding: str, head: str) -> None:
    page = f"<html><head>{head}</head><body><p>博物館於1884年開幕。</p></body></html>"
    text = "博物館於1884年開幕。\n" if encoding != "gb2312" else "博物馆于1884年开幕。\n"
    if encoding == "gb2312":
        page = page.replace("博物館於1884年開幕", "博物馆于1884年开幕")
    assert html_text(page.encode(encoding)) == text
