"""Read a source file of any supported format into text that cleaning and citations use.

One reader per format, picked by the file's extension and checked against its first
bytes (its signature), so a file whose extension does not match what it holds (a Word
file named ``.pdf``, a PDF named ``.txt``) is refused with a message saying what it is:

* ``.txt``, ``.md``: UTF-8 text, as is (line ends made ``\\n``), or UTF-16 text that
  starts with its byte-order mark (what Windows Notepad saves as "Unicode");
* ``.pdf``: the text layer of every page (rag.pdf), with where each page starts;
* ``.docx``: paragraphs, headings (as ``#`` lines), list items (as ``- `` lines) and
  tables (one ``- `` line per row, cells joined by `` | ``), in document order;
* ``.html``, ``.htm``: the main text (``<main>`` or ``<article>`` when there is one),
  headings kept as ``#`` lines, navigation, headers, footers, scripts and forms dropped.

For every format but plain text the result is *extracted* text: it is what a passage's
``start`` and ``end`` point into, and the index keeps a copy (see rag.store). Every
failure raises :class:`FormatError` with a message that names the file and what to do.
"""

from __future__ import annotations

import codecs
import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rag.pdf import PageProgress, PdfReadError, read_pdf
from rag.settings import DEFAULT_FORMATS, FormatSettings

logger = logging.getLogger(__name__)

# extension -> format
FORMATS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}
SUFFIXES = tuple(FORMATS)
EXTRACTED = frozenset({"pdf", "docx", "html"})  # formats whose text is not the file itself
_NAMES = {
    "text": "plain text",
    "markdown": "Markdown text",
    "pdf": "a PDF",
    "docx": "a Word document (.docx)",
    "html": "a web page (HTML)",
    "doc": "an old-style Word document (.doc)",
    "zip": "a ZIP archive",
    "image": "an image",
    "binary": "binary data",
}
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # a UTF-16 file's first bytes
_RENAME = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "text": ".txt"}


class FormatError(ValueError):
    """A file that cannot be read; the message names it and says what to do."""


@dataclass(frozen=True)
class Extracted:
    """A file's text: what offsets point into, where each page starts (PDF only), and
    spans to leave out of passages (headers and footers repeated on every page)."""

    text: str
    format: str
    pages: tuple[int, ...] = ()
    hidden: tuple[tuple[int, int], ...] = ()

    @property
    def extracted(self) -> bool:
        """The text is not the file's own bytes: the index keeps a copy of it."""
        return self.format in EXTRACTED


def sniff(head: bytes) -> str:
    """What the first bytes of a file look like: a format of FORMATS, or "doc", "zip",
    "image", "binary"."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"  # a .docx is a ZIP archive; :func:`_kind` looks inside
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "doc"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        return "image"
    if head.startswith(UTF16_BOMS):  # Notepad's "Unicode": its zero bytes are no binary
        head = head[: len(head) // 2 * 2].decode("utf-16", errors="replace").encode()
    try:
        text = head.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut by the end of ``head``
            return "text" if b"\x00" not in head else "binary"
        text = head[: exc.start].decode("utf-8")
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered[:512]:
        return "html"
    return "text" if "\x00" not in text else "binary"


def _kind(data: bytes) -> str:
    kind = sniff(data[:4096])
    if kind == "zip":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return "binary"
        return "docx" if "word/document.xml" in names else "zip"
    return kind


def detect(path: Path, data: bytes) -> str:
    """The format to read ``path`` (holding ``data``) as; :class:`FormatError` when its
    extension is not supported or does not match its contents."""
    claimed = FORMATS.get(path.suffix.lower())
    if claimed is None:
        raise FormatError(
            f"{path.name}: {path.suffix or 'no extension'} files are not read "
            f"(supported: {', '.join(SUFFIXES)})"
        )
    actual = _kind(data)
    textual = actual in ("text", "html")
    if claimed in ("text", "markdown") and textual:
        return claimed
    if claimed == "html" and textual:
        return "html"
    if claimed == actual:
        return claimed
    advice = (
        f"rename it to {path.stem}{_RENAME[actual]} and add it again"
        if actual in _RENAME
        else "save or export it again in one of the supported formats"
    )
    raise FormatError(
        f"{path.name} is named {path.suffix} but holds {_NAMES[actual]}, not "
        f"{_NAMES[claimed]}: {advice}"
    )


def read_file(
    path: Path, settings: FormatSettings = DEFAULT_FORMATS, on_page: PageProgress | None = None
) -> tuple[Extracted, bytes]:
    """Read ``path`` in the format its extension names (checked against its contents):
    the extracted text and the file's bytes. ``on_page`` follows a PDF page by page."""
    size = path.stat().st_size
    if size > settings.max_file_mb * 1e6:
        raise FormatError(
            f"{path.name} is {size / 1e6:.0f} MB, over the {settings.max_file_mb:.0f} MB "
            "limit: split it into smaller files (or save it without images) and add those"
        )
    if size == 0:
        raise FormatError(f"{path.name} is empty: add some text to it, or remove it")
    data = path.read_bytes()
    kind = detect(path, data)
    try:
        if kind == "pdf":
            pdf = read_pdf(data, settings, on_page)
            extracted = Extracted(pdf.text, "pdf", pdf.pages, pdf.hidden)
        else:
            extracted = _READERS[kind](data, settings)
    except PdfReadError as exc:
        raise FormatError(f"{path.name} {exc}") from exc
    except FormatError as exc:
        raise FormatError(f"{path.name} {exc}") from exc
    if not extracted.text.strip():
        raise FormatError(f"{path.name} has no text: add some text to it, or remove it")
    return extracted, data


def read_text(data: bytes, settings: FormatSettings = DEFAULT_FORMATS) -> Extracted:
    utf16 = data.startswith(UTF16_BOMS)
    try:
        text = data.decode("utf-16") if utf16 else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"is not {'UTF-16' if utf16 else 'UTF-8'} text (byte {exc.start}): save it as "
            "UTF-8 (Notepad: Save As, Encoding UTF-8; or `iconv -f BIG5 -t UTF-8`, with "
            "GB18030 or CP1252 for a file in those) and rebuild"
        ) from exc
    return Extracted(text.replace("\r\n", "\n").replace("\r", "\n"), "text")


def _read_markdown(data: bytes, settings: FormatSettings = DEFAULT_FORMATS) -> Extracted:
    return Extracted(read_text(data).text, "markdown")


def _read_docx(data: bytes, settings: FormatSettings = DEFAULT_FORMATS) -> Extracted:
    from rag.markup import docx_text

    return Extracted(docx_text(data), "docx")


def _read_html(data: bytes, settings: FormatSettings = DEFAULT_FORMATS) -> Extracted:
    from rag.markup import html_text

    return Extracted(html_text(data), "html")


_READERS = {
    "text": read_text,
    "markdown": _read_markdown,
    "docx": _read_docx,
    "html": _read_html,
}
