"""Shared fakes and fixtures: a tiny deterministic embedder, small seeds, the real index."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

PROJECT = Path(__file__).resolve().parent.parent
REAL_SEEDS = PROJECT / "seeds"
SEED_NAME = "000_7f4d32dbbaba2872.txt"
# the list under 「灣區議程」著重於下列六大領域的執行工作： in the real seed
SIX_AREAS = [
    "強化供應鏈韌性",
    "提升反貪腐成效",
    "建構中小企業韌性",
    "促進APEC經濟體連結性",
    "為經濟成長打造有利的環境",
    "強化APEC利害關係人網絡",
]


class FakeEmbedder:
    """Hashed character bigrams in 16 buckets, L2-normalised: similar texts, similar vectors."""

    def __init__(self, name: str = "fake", dim: int = 16) -> None:
        self.name = name
        self.dim = dim
        self.passages_embedded = 0  # how many texts embed_passages embedded
        self.passage_texts: list[str] = []  # and which
        self.fail_on_passages = False  # simulate a build killed during embedding
        self.queries_embedded = 0

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            text = f" {text.lower()} "
            for i in range(len(text) - 1):
                out[row, zlib.crc32(text[i : i + 2].encode("utf-8")) % self.dim] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries_embedded += len(texts)
        return self._vectors(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail_on_passages:
            raise KeyboardInterrupt("build killed while embedding")
        self.passages_embedded += len(texts)
        self.passage_texts.extend(texts)
        return self._vectors(texts)

    def reset(self) -> None:
        self.passages_embedded = 0
        self.passage_texts = []


# A sentence broken across a blank line (PDF extraction), a heading, a list with its
# lead-in, a caption with a photo credit, an end mark; English; Simplified in a subfolder.
SMALL_SEEDS = {
    "trade.md": (
        "# 供應鏈韌性報告\n\n"
        "作者 張三\n\n"
        "本報告說明亞太區域各經濟體如何強化供應鏈韌性，並且提出具體的政策建議與後續的執行\n\n"
        "步驟，以因應未來任何大型的區域危機。\n\n"
        "會議確定了下列兩大重點工作：\n\n"
        "- 強化供應鏈韌性\n"
        "- 提升反貪腐成效\n\n"
        "會議現場的照片。（圖／APEC官網）\n\n"
        "各經濟體承諾持續合作。■\n"
    ),
    "tea.txt": (
        "Green tea grows best on misty hillsides in the mountains of Taiwan.\n\n"
        "The harvest begins in early spring, when the first tender leaves appear.\n"
    ),
    "notes/meeting.md": (
        "# 会议记录\n\n"
        "领袖会议将于十一月在旧金山的莫斯科康会议中心举行，美国总统将出席并发表演说。\n"
    ),
}


def write_seeds(folder: Path, files: dict[str, str] = SMALL_SEEDS) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def seeds_dir(tmp_path: Path) -> Path:
    """A fresh copy of the small seeds, safe to edit."""
    return write_seeds(tmp_path / "seeds")


@pytest.fixture(scope="session")
def real_original() -> str:
    return (REAL_SEEDS / SEED_NAME).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real seeds built with the real default embedder (for the slow end-to-end tests)."""
    import rag

    index = tmp_path_factory.mktemp("real-index")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("RAG_EMBEDDER", raising=False)
        mp.chdir(PROJECT)
        rag.build_index(seeds="seeds", index=index)  # exactly as DESIGN.md calls it
    return index


@pytest.fixture(scope="session")
def small_retriever(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The small seeds indexed with the fake embedder."""
    import rag

    root = tmp_path_factory.mktemp("small-retriever")
    seeds = write_seeds(root / "seeds")
    rag.build_index(seeds, root / "index", embedder=FakeEmbedder())
    return rag.Retriever.load(root / "index", embedder=FakeEmbedder())


def synthetic_data(n: int, dim: int = 16, seed: int = 0, topics: int = 20):  # type: ignore[no-untyped-def]
    """An in-memory index of ``n`` synthetic passages of two sentences each (one source
    per 10 passages), vectors in ``topics`` clusters and BM25 terms from a small
    vocabulary: for index and search tests that need more passages than the seeds give."""
    from rag.chunking import Chunk
    from rag.store import IndexData, Manifest, SourceInfo

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, dim)).astype(np.float32)

    def clustered(rows: int) -> np.ndarray:
        v = centres[rng.integers(topics, size=rows)] + 0.5 * rng.standard_normal((rows, dim))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    words = [f"word{i}" for i in range(50)]
    chunks, terms = [], []
    for i in range(n):
        source = f"doc{i // 10:04d}.txt"
        picked = [words[j] for j in rng.integers(len(words), size=6)]
        first, second = " ".join(picked[:3]) + ".", " ".join(picked[3:]) + "."
        text = f"{first} {second}"
        spans = ((0, len(first)), (len(first) + 1, len(text)))
        start = (i % 10) * 100
        chunks.append(
            Chunk(f"{source}#{start}", source, start, start + len(text), text, "", "text", spans)
        )
        terms.append(picked)
    sources = {f"doc{d:04d}.txt": SourceInfo(f"{d:064x}", 10) for d in range((n + 9) // 10)}
    manifest = Manifest(
        embedder="fake", dim=dim, chunking={}, sources=sources, passages=n, script=""
    )
    return IndexData(manifest, chunks, terms, clustered(n), clustered(2 * n))


def write_old_format(index: Path, format_version: int = 3) -> None:
    """Rewrite the live version of ``index`` as formats 2 and 3 wrote it: BM25 terms
    inside passages.jsonl, the vectors in FAISS flat files."""
    import dataclasses
    import json

    import faiss

    from rag import store

    folder = index / str(store.current_version(index))
    data = store.load_index(index)
    rows = list(zip(data.chunks, data.terms, strict=True))  # read before the file is rewritten
    with open(folder / "passages.jsonl", "w", encoding="utf-8") as out:
        for chunk, terms in rows:
            out.write(json.dumps(dataclasses.asdict(chunk) | {"terms": terms}) + "\n")
    for name, vectors in (("dense", data.vectors), ("sentences", data.sentence_vectors)):
        flat = faiss.IndexFlatIP(data.manifest.dim)
        flat.add(np.ascontiguousarray(vectors))
        faiss.write_index(flat, str(folder / f"{name}.faiss"))
    names = ["passages.jsonl", "dense.faiss", "sentences.faiss", "glossary.json"]
    for path in folder.iterdir():
        if path.name not in names and path.name != "manifest.json":
            path.unlink()
    manifest = dataclasses.replace(
        data.manifest,
        format_version=format_version,
        files={name: store._sha256(folder / name) for name in names},
        sizes={},
    )
    (folder / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
