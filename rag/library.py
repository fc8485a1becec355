"""The documents of an index: list them, read the text their citations point into, add
files and remove one.

Adding and removing go through the seeds folder and :func:`rag.build_index`, the same
path as ``rag build``, and are atomic: a file that cannot be read is refused before
anything changes (the result says which and why), and when the build fails the seeds
folder is put back as it was and the live index is untouched (a build only ever
switches to a complete new version). One change at a time per index.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rag import config
from rag.build import BuildReport, build_index
from rag.documents import DocumentError, read_source
from rag.embeddings import Embedder
from rag.formats import SUFFIXES, read_text
from rag.milvus_store import is_store_uri
from rag.store import REUSABLE_FORMATS, IndexStoreError, build_lock, load_manifest, stored_text

logger = logging.getLogger(__name__)

# (share of the work done, 0..1, what is being done) for a progress bar
Report = Callable[[float, str], None]
_LOCK = ".library.lock"
_READ_SHARE = 0.2  # of the progress bar: reading the new files; the rest is embedding


class LibraryError(RuntimeError):
    """A change to the documents that could not be made; nothing was changed."""


@dataclass(frozen=True)
class IndexedDocument:
    """A document in the live index, as the document list shows it."""

    source: str
    size: int  # bytes
    added: str  # ISO 8601
    passages: int
    format: str
    pages: int  # PDF pages, 0 for other formats


@dataclass(frozen=True)
class Change:
    """What adding files did: the files added (or replaced), the ones refused with why,
    and the build's report (None when every file was refused)."""

    added: list[str]
    failed: dict[str, str] = field(default_factory=dict)
    report: BuildReport | None = None


def list_documents(index: str | Path = config.DEFAULT_INDEX) -> list[IndexedDocument]:
    """The documents in the live index, by name; [] when there is no index."""
    try:
        _, manifest = load_manifest(index, REUSABLE_FORMATS)
    except IndexStoreError:
        return []
    return [
        IndexedDocument(name, info.size, info.added, info.passages, info.format, info.pages)
        for name, info in sorted(manifest.sources.items())
    ]


def source_text(
    source: str, index: str | Path = config.DEFAULT_INDEX, seeds: str | Path = config.DEFAULT_SEEDS
) -> str:
    """The text a passage's ``start`` and ``end`` point into: for a PDF, Word or HTML
    source the text extracted from it (kept in the index), for a text source the file's
    own text (line ends made ``\\n``)."""
    text = stored_text(index, source)
    if text is not None:
        return text
    path = _inside(Path(seeds), source)
    try:
        return read_text(path.read_bytes()).text
    except FileNotFoundError as exc:
        raise DocumentError(f"{source} is not in the seeds folder {seeds}") from exc
    except ValueError as exc:
        raise DocumentError(f"{source} {exc}") from exc


def add_files(
    files: Iterable[str | Path],
    seeds: str | Path = config.DEFAULT_SEEDS,
    index: str | Path = config.DEFAULT_INDEX,
    *,
    embedder: Embedder | str | None = None,
    progress: Report | None = None,
) -> Change:
    """Copy ``files`` into the seeds folder (a file of the same name is replaced) and
    update the index. A file that cannot be read is left out, with why; if the build
    fails, the seeds folder is restored and :class:`LibraryError` says why."""
    _refuse_store(index)
    paths = [Path(f) for f in files]
    seeds_dir = Path(seeds)
    seeds_dir.mkdir(parents=True, exist_ok=True)
    with build_lock(index, _LOCK):
        failed: dict[str, str] = {}
        good: list[Path] = []
        for n, path in enumerate(paths):
            _say(progress, _READ_SHARE * n / len(paths), f"Reading {path.name}")

            def on_page(done: int, pages: int, n: int = n, name: str = path.name) -> None:
                share = _READ_SHARE * (n + done / pages) / len(paths)
                _say(progress, share, f"Reading {name}: page {done} of {pages}")

            try:
                _check_name(path.name)
                read_source(path, path.parent, on_page)
            except DocumentError as exc:
                failed[path.name] = str(exc)
                logger.warning("not added: %s", exc)
                continue
            good.append(path)
        if not good:
            return Change(added=[], failed=failed)
        with tempfile.TemporaryDirectory(dir=Path(index), prefix=".library-") as backup:
            placed = _place(good, seeds_dir, Path(backup))
            report = _build_or_restore(seeds_dir, index, placed, Path(backup), embedder, progress)
    added = [p.name for p in good if p.name not in report.skipped]
    failed.update({p.name: report.skipped[p.name] for p in good if p.name in report.skipped})
    return Change(added=added, failed=failed, report=report)


def _refuse_store(index: str | Path) -> None:
    """Files are added and removed here beside an index folder; a Milvus store is rebuilt
    with `rag build --store` (see docs/milvus.md)."""
    if is_store_uri(index):
        raise LibraryError(
            f"adding or removing files here needs an index folder, not the Milvus store "
            f"{index}: put them in the seeds folder and run `rag build --store {index}`"
        )


def remove_document(
    source: str,
    seeds: str | Path = config.DEFAULT_SEEDS,
    index: str | Path = config.DEFAULT_INDEX,
    *,
    embedder: Embedder | str | None = None,
    progress: Report | None = None,
) -> BuildReport:
    """Delete ``source`` from the seeds folder and the index; if the build fails (or the
    file is the last document), it is put back and :class:`LibraryError` says why."""
    _refuse_store(index)
    seeds_dir = Path(seeds)
    path = _inside(seeds_dir, source)
    if not path.is_file():
        raise LibraryError(f"{source} is not in the seeds folder {seeds_dir}")
    with (
        build_lock(index, _LOCK),
        tempfile.TemporaryDirectory(dir=Path(index), prefix=".library-") as backup,
    ):
        kept = Path(backup) / "removed"
        shutil.move(path, kept)
        placed: dict[Path, Path | None] = {path: kept}
        try:
            return _build_or_restore(seeds_dir, index, placed, None, embedder, progress)
        except LibraryError as exc:
            raise LibraryError(f"{source} was not removed: {exc}") from exc


def _place(paths: list[Path], seeds: Path, backup: Path) -> dict[Path, Path | None]:
    """Copy each file into ``seeds``: its place -> where the file it replaced was kept
    (None when it is new)."""
    placed: dict[Path, Path | None] = {}
    for n, path in enumerate(paths):
        target = seeds / path.name
        kept = None
        if target.exists():
            kept = backup / f"{n}-{path.name}"
            shutil.copy2(target, kept)
        staging = seeds / f".adding-{path.name}"  # hidden: no build sees it half-copied
        shutil.copyfile(path, staging)
        staging.replace(target)
        placed[target] = kept
    return placed


def _build_or_restore(
    seeds: Path,
    index: str | Path,
    placed: dict[Path, Path | None],
    backup: Path | None,
    embedder: Embedder | str | None,
    progress: Report | None,
) -> BuildReport:
    """Build; when that fails, put every file of ``placed`` back as it was (``backup``
    None: they were removed, put them back; else remove the new ones and restore the
    ones they replaced)."""

    def embedding(done: int, total: int) -> None:
        share = _READ_SHARE + (1 - _READ_SHARE) * done / max(total, 1)
        _say(progress, share, f"Embedding passages: {done} of {total} texts")

    def reading(done: int, total: int, what: str) -> None:
        _say(progress, _READ_SHARE, f"Indexing: reading {what}" if what else "Indexing")

    try:
        report = build_index(seeds, index, embedder=embedder, progress=embedding, reading=reading)
    except BaseException as exc:  # interrupted too: the folder goes back as it was
        for target, kept in placed.items():
            if backup is not None:
                target.unlink(missing_ok=True)
            if kept is not None:
                shutil.move(kept, target)
        logger.exception("build failed; the seeds folder was restored")
        if not isinstance(exc, Exception):
            raise
        raise LibraryError(f"the index could not be updated ({exc}); nothing was changed") from exc
    _say(progress, 1.0, "Done")
    return report


def _check_name(name: str) -> None:
    if name.startswith(".") or "/" in name or "\\" in name:
        raise DocumentError(f"{name}: a hidden file or a name with a path is not added")
    if Path(name).suffix.lower() not in SUFFIXES:
        raise DocumentError(
            f"{name}: {Path(name).suffix or 'no extension'} files are not read "
            f"(supported: {', '.join(SUFFIXES)})"
        )


def _inside(folder: Path, source: str) -> Path:
    """``folder / source``, refused when it would point outside ``folder``."""
    path = (folder / source).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise LibraryError(f"{source} is not a document of the seeds folder {folder}")
    return path


def _say(progress: Report | None, share: float, what: str) -> None:
    if progress is not None:
        progress(share, what)
