"""The live assistant behind the chat, swapped for a new one when the index is rebuilt.

Before each question :meth:`LiveAssistant.get` compares the index's live version
(``rag.store.current_version``: the atomic ``CURRENT`` pointer, so never a half-written
index) with the loaded one. When it changed, a new :class:`rag.Retriever` and
:class:`rag.Assistant` are loaded and swapped in under a lock; questions asked while
that happens keep using the old assistant. If loading fails, the old assistant stays
and the failure is logged; the same version is retried after ``retry_after`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag import Assistant, Retriever, current_version
from rag.milvus_store import is_store_uri

logger = logging.getLogger(__name__)

NO_INDEX = (
    "No index yet: run `rag build` to index the documents in seeds/, then ask again "
    "(this page picks the index up by itself). · 尚未建立索引：請先執行 `rag build` 為 seeds/ "
    "中的文件建立索引，再重新提問（本頁面會自動載入新索引）。"
)
INDEX_ERROR = "The index could not be loaded: {reason} · 無法載入索引：{reason}"

Loader = Callable[[Path], tuple[Assistant, str]]


class IndexUnavailableError(Exception):
    """No usable index: ``str(error)`` is a bilingual message for the chat."""


@dataclass(frozen=True)
class IndexInfo:
    """What is loaded: shown in the status line."""

    version: str | None
    passages: int = 0
    documents: int = 0
    built_at: str = ""
    error: str = ""


class LiveAssistant:
    """Holds the :class:`rag.Assistant` for the live version of an index folder."""

    def __init__(
        self,
        index_dir: str | Path,
        llm: Any = "env",
        *,
        loader: Loader | None = None,
        retry_after: float = 10.0,
    ) -> None:
        # a folder, or a Milvus store URI (rag.milvus_store), which a Path would mangle
        self.index_dir = index_dir if is_store_uri(index_dir) else Path(index_dir)
        self.llm = llm
        self.retry_after = retry_after
        self._loader = loader or self._load
        self._swap = threading.Lock()  # guards _assistant and _version
        self._loading = threading.Lock()  # one load at a time
        self._assistant: Assistant | None = None
        self._version: str | None = None
        self._failed: tuple[str, float] | None = None  # version that failed, when
        self._error = ""  # why the last load failed

    def _load(self, index_dir: str | Path) -> tuple[Assistant, str]:
        retriever = Retriever.load(index_dir)
        return Assistant(retriever, llm=self.llm), retriever.version

    @property
    def version(self) -> str | None:
        """The loaded version (None before the first successful load)."""
        with self._swap:
            return self._version

    def get(self) -> Assistant:
        """The assistant for the live index, reloaded first when the index changed.

        Raises :class:`IndexUnavailableError` when there is no index, or none could be loaded.
        """
        live = current_version(self.index_dir)
        with self._swap:
            assistant, loaded = self._assistant, self._version
        if live is not None and live != loaded and not self._recently_failed(live):
            self._reload(wait=assistant is None)
            with self._swap:
                assistant = self._assistant
        if assistant is None:
            if live is None:
                raise IndexUnavailableError(NO_INDEX)
            raise IndexUnavailableError(INDEX_ERROR.format(reason=self._error or "unknown error"))
        return assistant

    def info(self) -> IndexInfo:
        """The loaded index (loading it if needed), for the status line."""
        try:
            assistant = self.get()
        except IndexUnavailableError as exc:
            return IndexInfo(version=None, error=str(exc) if self._error else "")
        manifest = assistant.retriever.data.manifest
        return IndexInfo(
            version=assistant.retriever.version,
            passages=manifest.passages,
            documents=len(manifest.sources),
            built_at=manifest.built_at,
        )

    def _recently_failed(self, live: str) -> bool:
        failed = self._failed
        return (
            failed is not None
            and failed[0] == live
            and time.monotonic() - failed[1] < self.retry_after
        )

    def _reload(self, wait: bool) -> None:
        """Load the live version; without ``wait``, skip if another thread is loading."""
        if not self._loading.acquire(blocking=wait):
            return  # someone else is loading; keep answering with the old assistant
        try:
            live = current_version(self.index_dir)
            with self._swap:
                if live is None or live == self._version:
                    return  # loaded by another thread meanwhile, or gone
            started = time.perf_counter()
            try:
                assistant, version = self._loader(self.index_dir)
            except Exception as exc:
                self._failed = (live, time.monotonic())
                self._error = str(exc)
                kept = f"keeping version {self._version}" if self._version else "no index loaded"
                logger.exception("could not load index version %s (%s)", live, kept)
                return
            with self._swap:
                previous = self._version
                self._assistant, self._version = assistant, version
            self._failed = None
            self._error = ""
            logger.info(
                "index version %s loaded in %.2f s%s",
                version,
                time.perf_counter() - started,
                f" (replacing {previous})" if previous else "",
            )
        finally:
            self._loading.release()

    def warm_up(self) -> None:
        """Load the index and what answering loads lazily, so the first question is
        quick; never raises."""
        try:
            self.get().warm_up()
        except IndexUnavailableError as exc:
            logger.warning("%s", exc)
        except Exception:
            logger.exception("warm-up search failed")
