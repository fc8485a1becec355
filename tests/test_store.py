"""The on-disk index: round trips, corruption, missing files, killed builds, pruning."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import rag
from rag import store
from rag.build import passage_texts
from rag.chunking import chunk_document
from rag.documents import load_documents
from rag.lexical import DocumentTerms, tokenize
from rag.settings import VectorIndexSettings
from rag.store import IndexStoreError, load_index, load_manifest, save_index
from tests.conftest import FakeEmbedder, synthetic_data, write_old_format


def versions(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.is_dir() and p.name.startswith("v"))


def current(index: Path) -> str:
    return (index / "CURRENT").read_text(encoding="utf-8").strip()


def flip_bytes(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    pos = int(len(data) * at)
    data[pos] ^= 0xFF
    data[pos + 1] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.fixture
def built(seeds_dir: Path, tmp_path: Path, fake: FakeEmbedder) -> Path:
    index = tmp_path / "index"
    rag.build_index(seeds_dir, index, embedder=fake)
    return index


def test_round_trip(built: Path, seeds_dir: Path, tmp_path: Path) -> None:
    data = load_index(built)
    expected = [c for doc in load_documents(seeds_dir) for c in chunk_document(doc)]
    assert data.chunks == expected
    # the terms come back as bags (BM25 counts them), sorted
    assert [sorted(t) for t in data.terms] == [
        sorted(tokenize(c.section + "\n" + c.text)) for c in expected
    ]
    m = data.manifest
    assert (m.embedder, m.dim, m.passages) == ("fake", 16, len(expected))
    assert set(m.sources) == {"trade.md", "tea.txt", "notes/meeting.md"}
    assert sum(s.passages for s in m.sources.values()) == len(expected)
    assert m.script == "zh-Hant"
    assert set(m.files) >= {"passages.jsonl", "vectors.npy", "sentence_vectors.npy"}
    assert m.format_version == store.FORMAT_VERSION
    assert set(m.sizes) == set(m.files)
    assert set(m.files) | {"manifest.json"} == {p.name for p in (built / data.version).iterdir()}
    assert data.version == current(built)

    fake = FakeEmbedder()
    assert data.vectors.shape == (len(expected), 16)
    assert data.sentence_vectors.shape == (sum(len(c.sentences) for c in expected), 16)
    for i, chunk in enumerate(data.chunks):  # every vector sits next to its own chunk
        want = fake.embed_passages(passage_texts(chunk))
        np.testing.assert_allclose(data.vectors[i], want[0], atol=1e-6)
        rows = data.sentence_rows[i : i + 2]
        np.testing.assert_allclose(data.sentence_vectors[rows[0] : rows[1]], want[1:], atol=1e-6)

    copy = tmp_path / "copy"
    save_index(copy, data)
    again = load_index(copy)
    for field in dataclasses.fields(again):  # every part of the index survives the trip
        if field.name in ("manifest", "version"):
            continue
        a, b = getattr(again, field.name), getattr(data, field.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=field.name)
        elif isinstance(a, store.PassageTable):
            for name, array in a.arrays().items():
                np.testing.assert_array_equal(array, b.arrays()[name], err_msg=name)
        elif field.name in ("chunks", "terms"):
            assert list(a) == list(b), field.name
        else:
            assert a == b, field.name
    assert again.manifest.sources == data.manifest.sources
    assert again.manifest.chunking == data.manifest.chunking
    assert again.manifest.files == data.manifest.files


def test_layout(built: Path) -> None:
    version = current(built)
    assert versions(built) == [version]
    names = {p.name for p in (built / version).iterdir()}
    assert names >= {"manifest.json", "passages.jsonl", "vectors.npy", "sentence_vectors.npy"}
    assert names >= {"bm25.vocabulary.json", "bm25.indptr.npy", "bm25.docs.npy", "offsets.npy"}
    assert not names & {"passages.ivf", "sentences.ivf"}  # a small index is scanned exactly
    assert not [p for p in built.iterdir() if p.name.startswith(".tmp-")]


def test_corrupt_file_says_rebuild(built: Path, tmp_path: Path) -> None:
    names = sorted(load_index(built).manifest.files)
    assert {"passages.jsonl", "vectors.npy", "bm25.docs.npy"} <= set(names)
    for name in names:
        copy = tmp_path / f"copy-{name}"
        shutil.copytree(built, copy)
        flip_bytes(copy / current(copy) / name)
        with pytest.raises(IndexStoreError, match="rag build") as err:
            load_index(copy)
        assert name in str(err.value)
        with pytest.raises(IndexStoreError, match="rag build"):
            rag.Retriever.load(copy, embedder=FakeEmbedder())


@pytest.mark.parametrize("name", ["passages.jsonl", "vectors.npy", "bm25.counts.npy"])
def test_truncated_file_says_rebuild(built: Path, name: str) -> None:
    path = built / current(built) / name
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(IndexStoreError, match="rag build"):
        load_index(built)


@pytest.mark.parametrize("name", ["vectors.npy", "manifest.json"])
def test_missing_file_says_rebuild(built: Path, name: str) -> None:
    (built / current(built) / name).unlink()
    with pytest.raises(IndexStoreError, match="rag build") as err:
        load_index(built)
    assert name in str(err.value)


def test_corrupt_manifest_says_rebuild(built: Path) -> None:
    (built / current(built) / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexStoreError, match="rag build"):
        load_manifest(built)


def test_manifest_from_another_format_says_rebuild(built: Path) -> None:
    path = built / current(built) / "manifest.json"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"format_version": 4', '"format_version": 99'),
        encoding="utf-8",
    )
    with pytest.raises(IndexStoreError, match="rag build"):
        load_index(built)


def test_current_pointing_nowhere_says_rebuild(built: Path) -> None:
    (built / "CURRENT").write_text("v0-gone\n", encoding="utf-8")
    with pytest.raises(IndexStoreError, match="rag build"):
        load_index(built)


def test_missing_index(tmp_path: Path) -> None:
    for folder in (tmp_path / "never-built", tmp_path):
        with pytest.raises(IndexStoreError, match="rag build") as err:
            load_index(folder)
        assert str(folder) in str(err.value)
    assert rag.IndexStoreError is IndexStoreError


def test_an_index_path_that_is_a_file_or_cannot_be_made_says_so(
    tmp_path: Path, seeds_dir: Path, fake: FakeEmbedder
) -> None:
    a_file = tmp_path / "index.txt"
    a_file.write_text("not an index")
    with pytest.raises(IndexStoreError, match="is a file, not an index folder"):
        load_index(a_file)
    with pytest.raises(IndexStoreError, match="is a file, not an index folder"):
        rag.build_index(seeds_dir, a_file, embedder=fake)
    with pytest.raises(IndexStoreError, match="cannot create the index folder"):
        rag.build_index(seeds_dir, a_file / "inside", embedder=fake)
    assert a_file.read_text() == "not an index"


def test_build_killed_while_embedding_leaves_old_index(
    built: Path, seeds_dir: Path, fake: FakeEmbedder
) -> None:
    before = current(built)
    old = load_index(built)
    (seeds_dir / "tea.txt").write_text("Oolong is rolled into tight balls.\n", encoding="utf-8")
    fake.fail_on_passages = True
    with pytest.raises(KeyboardInterrupt):
        rag.build_index(seeds_dir, built, embedder=fake)
    assert current(built) == before
    assert versions(built) == [before]
    assert load_index(built).chunks == old.chunks


def test_build_killed_while_saving_leaves_old_index(
    built: Path, seeds_dir: Path, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = current(built)
    old = load_index(built)
    (seeds_dir / "tea.txt").write_text("Oolong is rolled into tight balls.\n", encoding="utf-8")
    real_write = store._save_array
    calls = []

    def write_then_die(path: Path, array: np.ndarray) -> None:
        calls.append(path)
        real_write(path, array)
        if len(calls) == 2:
            raise KeyboardInterrupt(f"killed after writing {path}")

    monkeypatch.setattr(store, "_save_array", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        rag.build_index(seeds_dir, built, embedder=fake)
    monkeypatch.undo()

    assert current(built) == before
    assert load_index(built).chunks == old.chunks
    leftovers = [p for p in built.iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1  # the half-written version

    report = rag.build_index(seeds_dir, built, embedder=fake)
    assert report.changed == ["tea.txt"]
    assert not [p for p in built.iterdir() if p.name.startswith(".tmp-")]
    assert versions(built) == [current(built)] != [before]
    assert any("Oolong" in c.text for c in load_index(built).chunks)


def test_build_killed_before_switching_current_leaves_old_index(
    built: Path, seeds_dir: Path, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = current(built)
    (seeds_dir / "tea.txt").write_text("Oolong is rolled into tight balls.\n", encoding="utf-8")
    real_replace = os.replace

    def die_on_current(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == "CURRENT":
            raise KeyboardInterrupt("killed before the switch")
        real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", die_on_current)
    with pytest.raises(KeyboardInterrupt):
        rag.build_index(seeds_dir, built, embedder=fake)
    monkeypatch.undo()

    assert current(built) == before
    assert len(versions(built)) == 2  # the finished but never published version
    assert not any("Oolong" in c.text for c in load_index(built).chunks)

    rag.build_index(seeds_dir, built, embedder=fake)
    assert versions(built) == [current(built)]
    assert any("Oolong" in c.text for c in load_index(built).chunks)


def test_leftover_tmp_folder_is_ignored_then_pruned(
    built: Path, seeds_dir: Path, fake: FakeEmbedder
) -> None:
    before = current(built)
    junk = built / ".tmp-v1-999"
    junk.mkdir()
    (junk / "passages.jsonl").write_text('{"half": ', encoding="utf-8")
    assert load_index(built).version == before
    assert rag.Retriever.load(built, embedder=fake).version == before

    (seeds_dir / "extra.md").write_text("# 新文件\n\n新增的內容。\n", encoding="utf-8")
    rag.build_index(seeds_dir, built, embedder=fake)
    assert not junk.exists()
    assert versions(built) == [current(built)]


def test_old_versions_are_pruned(built: Path, seeds_dir: Path, fake: FakeEmbedder) -> None:
    seen = {current(built)}
    for n in range(3):
        (seeds_dir / "tea.txt").write_text(f"Tea harvest number {n}.\n", encoding="utf-8")
        rag.build_index(seeds_dir, built, embedder=fake)
        assert versions(built) == [current(built)]
        seen.add(current(built))
    assert len(seen) == 4  # each build made a new version


def test_unrelated_folders_survive_pruning(
    built: Path, seeds_dir: Path, fake: FakeEmbedder
) -> None:
    (built / "notes").mkdir()
    (built / ".gitkeep").write_text("", encoding="utf-8")
    (seeds_dir / "tea.txt").write_text("Changed.\n", encoding="utf-8")
    rag.build_index(seeds_dir, built, embedder=fake)
    assert (built / "notes").is_dir()
    assert (built / ".gitkeep").exists()


def test_loaded_arrays_are_read_only_memory_maps(built: Path) -> None:
    data = load_index(built)
    for array in (data.vectors, data.sentence_vectors):
        assert isinstance(array, np.memmap) and not array.flags.writeable
        with pytest.raises(ValueError):
            array[0, 0] = 1.0
    assert isinstance(data.terms, DocumentTerms)
    assert isinstance(data.terms.postings.docs, np.memmap)


def test_a_large_set_gets_ivf_codes_that_load_memory_mapped(tmp_path: Path) -> None:
    data = synthetic_data(400, dim=16)
    settings = VectorIndexSettings(exact_max_vectors=300, train_per_list=10)
    save_index(tmp_path / "index", data, settings)
    loaded = load_index(tmp_path / "index")
    names = set(loaded.manifest.files)
    assert "sentences.ivf" in names  # 800 sentence vectors: above the threshold
    assert "passages.ivf" in names  # 400 passages: above it too
    assert loaded.sentence_codes is not None and loaded.sentence_codes.ntotal == 800
    assert loaded.passage_codes is not None and loaded.passage_codes.ntotal == 400
    save_index(tmp_path / "small", data)  # the default threshold: scanned exactly
    small = load_index(tmp_path / "small")
    assert small.passage_codes is None and small.sentence_codes is None


def test_large_files_are_checked_by_size_unless_verified(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = built / current(built) / "vectors.npy"
    flip_bytes(path, at=0.9)  # same size, other bytes
    monkeypatch.setattr(store, "LOAD_CHECKSUM_MAX_BYTES", 16)
    assert load_index(built).manifest.passages > 0  # only sizes checked above 16 bytes
    with pytest.raises(IndexStoreError, match=r"vectors\.npy"):
        load_index(built, verify=True)


def test_an_index_of_format_3_is_reused_by_a_build_and_refused_by_search(
    seeds_dir: Path, tmp_path: Path, fake: FakeEmbedder
) -> None:
    index = tmp_path / "index"
    rag.build_index(seeds_dir, index, embedder=fake)
    write_old_format(index)
    with pytest.raises(IndexStoreError, match=r"format 3.*rag build"):
        rag.Retriever.load(index, embedder=fake)
    old = load_index(index, store.REUSABLE_FORMATS)
    assert old.manifest.format_version == 3
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert report.embedded == 0  # every vector reused
    assert fake.passages_embedded == 0
    new = load_index(index)
    assert new.manifest.format_version == store.FORMAT_VERSION
    np.testing.assert_array_equal(new.vectors, old.vectors)
    np.testing.assert_array_equal(new.sentence_vectors, old.sentence_vectors)
