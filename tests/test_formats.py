"""Reading files by format: signatures, misleading extensions, bad files, each format."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rag.formats import FormatError, detect, read_file, sniff
from tests.make_documents import write_docx, write_html, write_pdf

TEXT = "# Harbour\n\nThe harbour opened in 1901.\n\n- cranes\n- docks\n"


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 60), "white").save(buffer, "PNG")
    return buffer.getvalue()


def _pdf(**kwargs: object) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "The harbour opened in 1901.")
    if kwargs.get("password"):
        pdf.set_encryption(owner_password="owner", user_password=str(kwargs["password"]))
    return bytes(pdf.output())


def _scanned_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(io.BytesIO(_png()), x=10, y=10, w=150)
    return bytes(pdf.output())


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"PK\x03\x04rest", "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "doc"),
        (b"\x89PNG\r\n", "image"),
        (b"<!DOCTYPE html><html>", "html"),
        (b"  <html lang='zh'>", "html"),
        ("一段中文文字".encode(), "text"),
        ("一段中文".encode()[:-1], "text"),  # a character cut by the end of the head
        (b"\x00\x01\x02\x03binary", "binary"),
    ],
)
def test_sniff_tells_formats_by_their_first_bytes(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


def test_each_format_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT.replace("\n", "\r\n"), encoding="utf-8")
    write_docx(TEXT, tmp_path / "b.docx")
    write_html(TEXT, tmp_path / "c.html")
    write_pdf(TEXT, tmp_path / "d.pdf")
    texts = {p.name: read_file(p)[0] for p in sorted(tmp_path.iterdir())}
    assert texts["a.txt"].text == TEXT and not texts["a.txt"].extracted
    assert texts["b.docx"].text == "# Harbour\n\nThe harbour opened in 1901.\n\n- cranes\n- docks\n"
    assert texts["c.html"].text == texts["b.docx"].text  # navigation and footer dropped
    pdf = texts["d.pdf"]
    assert pdf.extracted and pdf.format == "pdf" and pdf.pages == (0,)
    assert "# Harbour\n\nThe harbour opened in 1901." in pdf.text
    hidden = [pdf.text[a:b] for a, b in pdf.hidden]
    assert hidden == ["- 1 -"]  # the page number; one page: the header is not "repeated"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.pdf", "docx", r"report\.pdf is named \.pdf but holds a Word document .*"
         r"rename it to report\.docx"),
        ("notes.txt", "pdf", r"notes\.txt is named \.txt but holds a PDF.*rename it to notes\.pdf"),
        ("photo.docx", "png", r"photo\.docx is named \.docx but holds an image.*export it again"),
        ("page.html", "pdf", r"page\.html is named \.html but holds a PDF"),
        ("old.docx", "doc", r"old\.docx .* holds an old-style Word document \(\.doc\)"),
    ],
)  # fmt: skip
def test_a_misleading_extension_is_named_with_what_to_do(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    data = {
        "docx": lambda: write_docx(TEXT, tmp_path / "x.docx").read_bytes(),
        "pdf": _pdf,
        "png": _png,
        "doc": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
    }[content]()
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(FormatError, match=message):
        read_file(path)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_text_file_with_its_byte_order_mark_is_text(tmp_path: Path, encoding: str) -> None:
    # what Windows Notepad saves as "Unicode": zero bytes everywhere, and no binary data
    text = "\ufeff博物館於1884年開幕。\r\nThe museum opened in 1884.\r\n"
    path = tmp_path / "notepad.txt"
    path.write_bytes(text.encode(encoding))
    extracted, _ = read_file(path)
    assert extracted.text == "博物館於1884年開幕。\nThe museum opened in 1884.\n"
    path.write_bytes(text.encode(encoding)[:-1])  # cut inside its last character
    with pytest.raises(FormatError, match=r"notepad\.txt is not UTF-16 text .* save it as UTF-8"):
        read_file(path)


def test_html_in_a_text_file_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "snippet.md"
    path.write_text("<html> is how a page starts.\n", encoding="utf-8")
    assert detect(path, path.read_bytes()) == "markdown"


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("scan.pdf", _scanned_pdf, r"scan\.pdf has no text layer \(2 pages, 0 characters.*OCR"),
        ("locked.pdf", lambda: _pdf(password="pw"), r"locked\.pdf is encrypted.*unprotected copy"),
        ("broken.pdf", lambda: _pdf()[:300], r"broken\.pdf is damaged .*save or export it again"),
        ("empty.docx", lambda: b"", r"empty\.docx is empty: add some text to it, or remove it"),
        ("blank.txt", lambda: b"\n \n", r"blank\.txt has no text"),
        ("latin.txt", lambda: "café".encode("latin-1"), r"latin\.txt is not UTF-8 text"),
        ("zipped.docx", lambda: b"PK\x03\x04" + b"\0" * 60, r"zipped\.docx .* binary data"),
        ("table.xlsx", lambda: b"PK\x03\x04", r"table\.xlsx: \.xlsx files are not read"),
    ],
)
def test_bad_files_get_a_message_naming_them(
    tmp_path: Path, name: str, make: object, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(make())  # type: ignore[operator]
    with pytest.raises(FormatError, match=message):
        read_file(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with open(path, "wb") as handle:
        handle.truncate(200_000_000)  # 200 MB, sparse: nothing is written
    with pytest.raises(FormatError, match=r"huge\.pdf is 200 MB, over the 100 MB limit: split it"):
        read_file(path)
