"""Incremental builds: only new and changed sources are embedded; reports say what happened."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

import rag
from rag.build import BuildReport, passage_texts, plan
from rag.chunking import Chunk, chunk_document
from rag.documents import DocumentError, load_documents
from rag.settings import DEFAULT_CHUNKING
from rag.store import load_index, load_manifest, save_index
from rag.translation import GLOSSARY_RULES
from tests.conftest import FakeEmbedder, write_old_format, write_seeds

ALL = ["notes/meeting.md", "tea.txt", "trade.md"]


def chunks_of(seeds: Path, source: str) -> list[Chunk]:
    """The chunks a fresh build makes of one source."""
    (doc,) = [d for d in load_documents(seeds) if d.source == source]
    return chunk_document(doc)


def reads(chunks: list[Chunk]) -> Counter[str]:
    """The passage texts the embedder must read for these chunks."""
    return Counter(t for c in chunks for t in passage_texts(c))


def assert_embedded_exactly(fake: FakeEmbedder, fresh: list[Chunk], kept: list[Chunk]) -> None:
    """Every passage text of ``fresh`` was embedded once, however often it occurs (a
    one-sentence passage is also its own sentence); none of ``kept`` was embedded.

    (The build may embed other texts too, such as vocabulary words; those are not passages.)
    """
    seen = Counter(fake.passage_texts)
    assert fake.passages_embedded == len(fake.passage_texts)
    want = reads(fresh)
    assert {t: seen[t] for t in want} == dict.fromkeys(want, 1)
    kept_texts = set(reads(kept)) - set(want)
    assert not kept_texts & set(seen)


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return tmp_path / "index"


def test_first_build_embeds_everything(seeds_dir: Path, index: Path, fake: FakeEmbedder) -> None:
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert isinstance(report, BuildReport)
    assert sorted(report.added) == ALL
    assert report.changed == report.removed == report.unchanged == []
    every = [c for s in ALL for c in chunks_of(seeds_dir, s)]
    assert report.passages == report.embedded == len(every)
    assert_embedded_exactly(fake, every, [])
    assert report.embedder == "fake"
    assert report.version == (index / "CURRENT").read_text(encoding="utf-8").strip()
    assert report.seconds >= 0
    assert "3 added" in report.summary()


def test_nothing_changed_embeds_nothing(seeds_dir: Path, index: Path, fake: FakeEmbedder) -> None:
    first = rag.build_index(seeds_dir, index, embedder=fake)
    fake.reset()
    second = rag.build_index(seeds_dir, index, embedder=fake)
    assert fake.passages_embedded == 0
    assert second.embedded == 0
    assert sorted(second.unchanged) == ALL
    assert second.added == second.changed == second.removed == []
    assert second.passages == first.passages
    assert second.version == first.version  # nothing was rewritten
    assert "0 embedded" in second.summary()


def test_changed_file_alone_is_reembedded(seeds_dir: Path, index: Path, fake: FakeEmbedder) -> None:
    rag.build_index(seeds_dir, index, embedder=fake)
    before = load_index(index)
    (seeds_dir / "tea.txt").write_text(
        "Oolong tea is rolled into tight balls.\n\nIt is roasted over charcoal.\n", encoding="utf-8"
    )
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake)
    fresh = chunks_of(seeds_dir, "tea.txt")
    kept = [c for c in before.chunks if c.source != "tea.txt"]
    assert report.changed == ["tea.txt"]
    assert sorted(report.unchanged) == ["notes/meeting.md", "trade.md"]
    assert report.added == report.removed == []
    assert report.embedded == len(fresh)
    assert_embedded_exactly(fake, fresh, kept)

    after = load_index(index)
    assert [c for c in after.chunks if c.source != "tea.txt"] == kept
    assert [c for c in after.chunks if c.source == "tea.txt"] == fresh
    assert after.multilingual is not None and before.multilingual is not None
    for chunk in kept:  # reused vectors stay with their chunks
        i, j = before.chunks.index(chunk), after.chunks.index(chunk)
        assert (after.vectors[j] == before.vectors[i]).all()
        assert (after.multilingual[j] == before.multilingual[i]).all()
    assert not any("Green tea" in c.text for c in after.chunks)
    assert after.manifest.passages == report.passages == len(after.chunks)


def test_added_and_removed_files_are_reported(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    rag.build_index(seeds_dir, index, embedder=fake)
    before = load_index(index)
    (seeds_dir / "tea.txt").unlink()
    (seeds_dir / "notes" / "new.md").write_text("# 新文件\n\n這是新增的內容。\n", encoding="utf-8")
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert report.added == ["notes/new.md"]
    assert report.removed == ["tea.txt"]
    assert report.changed == []
    assert sorted(report.unchanged) == ["notes/meeting.md", "trade.md"]
    fresh = chunks_of(seeds_dir, "notes/new.md")
    assert report.embedded == len(fresh)
    assert_embedded_exactly(fake, fresh, before.chunks)
    data = load_index(index)
    sources = {c.source for c in data.chunks}
    assert sources == {"notes/meeting.md", "notes/new.md", "trade.md"}
    assert set(data.manifest.sources) == sources


def test_full_rebuild_reembeds_all(seeds_dir: Path, index: Path, fake: FakeEmbedder) -> None:
    first = rag.build_index(seeds_dir, index, embedder=fake)
    total = fake.passages_embedded
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake, full=True)
    assert report.embedded == first.passages
    assert fake.passages_embedded == total
    assert_embedded_exactly(fake, load_index(index).chunks, [])
    assert report.version != first.version


def test_full_rebuild_reports_files_against_the_live_index(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    rag.build_index(seeds_dir, index, embedder=fake)
    (seeds_dir / "tea.txt").write_text("Oolong tea is rolled into balls.\n", encoding="utf-8")
    (seeds_dir / "notes" / "meeting.md").unlink()
    (seeds_dir / "new.md").write_text("# 新文件\n\n這是新增的內容。\n", encoding="utf-8")
    report = rag.build_index(seeds_dir, index, embedder=fake, full=True)
    assert report.added == ["new.md"]
    assert report.changed == ["tea.txt"]
    assert report.removed == ["notes/meeting.md"]
    assert report.unchanged == report.reembedded == ["trade.md"]
    assert report.embedded == report.passages
    assert "1 unchanged (1 re-embedded);" in report.summary()


def test_full_rebuild_keeps_the_live_embedder(seeds_dir: Path, index: Path) -> None:
    rag.build_index(seeds_dir, index, embedder=FakeEmbedder(name="fake-2"))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("RAG_EMBEDDER", raising=False)
        mp.setattr("rag.build.load_embedder", lambda name: FakeEmbedder(name=name))
        report = rag.build_index(seeds_dir, index, full=True)
    assert report.embedder == "fake-2"
    assert sorted(report.reembedded) == ALL


def test_files_that_are_not_sources_are_reported_skipped(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    (seeds_dir / "report.pdf").write_bytes(b"%PDF-1.4")
    (seeds_dir / "notes" / "photo.JPG").write_bytes(b"\xff\xd8")
    (seeds_dir / ".DS_Store").write_bytes(b"\0")  # hidden files are nobody's sources
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert report.skipped == {
        "notes/photo.JPG": "not a supported file (.txt, .md, .markdown, .pdf, .docx, .html, .htm)",
        "report.pdf": "report.pdf is damaged (data format error): open it in a PDF viewer "
        "and save or export it again",
    }
    assert sorted(report.added) == ALL
    assert "3 added, 0 changed, 0 removed, 0 unchanged, 2 skipped;" in report.summary()


def test_new_embedder_forces_full_build(seeds_dir: Path, index: Path, fake: FakeEmbedder) -> None:
    first = rag.build_index(seeds_dir, index, embedder=fake)
    other = FakeEmbedder(name="fake-2")
    report = rag.build_index(seeds_dir, index, embedder=other)
    assert report.embedded == first.passages
    assert other.passages_embedded == fake.passages_embedded
    assert_embedded_exactly(other, load_index(index).chunks, [])
    assert report.added == []  # the files are the same: unchanged, but embedded again
    assert sorted(report.unchanged) == sorted(report.reembedded) == ALL
    assert report.embedder == "fake-2"
    assert load_index(index).manifest.embedder == "fake-2"


def test_new_chunking_settings_force_full_build(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    rag.build_index(seeds_dir, index, embedder=fake)
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake, max_chars=60, target_tokens=30)
    assert report.added == []
    assert sorted(report.unchanged) == sorted(report.reembedded) == ALL
    assert report.embedded == report.passages
    data = load_index(index)
    assert_embedded_exactly(fake, data.chunks, [])
    assert data.manifest.chunking["max_chars"] == 60
    assert all(len(c.text) <= 60 for c in data.chunks)
    assert report.why_reembedded == "the passage and sentence rules changed"


def test_new_sentence_rules_rechunk_the_index(
    seeds_dir: Path, index: Path, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.build

    rag.build_index(seeds_dir, index, embedder=fake)
    newer = replace(DEFAULT_CHUNKING, rules=DEFAULT_CHUNKING.rules + 1)
    monkeypatch.setattr(rag.build, "DEFAULT_CHUNKING", newer)
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert sorted(report.reembedded) == ALL
    assert "rules changed" in report.why_reembedded
    assert load_index(index).manifest.chunking["rules"] == newer.rules


def test_progress_is_reported(seeds_dir: Path, index: Path, fake: FakeEmbedder) -> None:
    calls: list[tuple[int, int]] = []
    rag.build_index(seeds_dir, index, embedder=fake, progress=lambda d, t: calls.append((d, t)))
    assert calls[0][0] == 0
    assert calls[-1][0] == calls[-1][1] == fake.passages_embedded
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_bad_file_is_skipped_with_why_and_the_others_are_indexed(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    first = rag.build_index(seeds_dir, index, embedder=fake)
    (seeds_dir / "broken.txt").write_bytes(b"caf\xe9 bad bytes")
    (seeds_dir / "empty.md").write_bytes(b"")
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert report.skipped["broken.txt"].startswith("broken.txt is not UTF-8 text")
    assert report.skipped["empty.md"] == "empty.md is empty: add some text to it, or remove it"
    assert sorted(report.unchanged) == ALL and report.version == first.version


def test_bad_seeds_alone_fail_before_touching_the_index(
    tmp_path: Path, index: Path, fake: FakeEmbedder
) -> None:
    good = write_seeds(tmp_path / "good")
    first = rag.build_index(good, index, embedder=fake)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "broken.txt").write_bytes(b"caf\xe9 bad bytes")
    with pytest.raises(DocumentError, match=r"no readable documents.*broken\.txt is not UTF-8"):
        rag.build_index(bad, index, embedder=fake)
    assert load_index(index).version == first.version


def test_an_index_of_the_previous_format_is_upgraded_without_embedding(
    seeds_dir: Path, tmp_path: Path, fake: FakeEmbedder
) -> None:
    from rag.store import FORMAT_VERSION, load_index

    index = tmp_path / "index"
    rag.build_index(seeds_dir, index, embedder=fake)
    write_old_format(index, format_version=2)
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert fake.passages_embedded == 0
    assert report.added == [] and report.unchanged
    loaded = load_index(index)
    assert loaded.manifest.format_version == FORMAT_VERSION
    assert all(len(c.origins) == len(c.sentences) for c in loaded.chunks)


def test_plan_embeds_the_edited_file_alone_and_reuses_the_rest(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    rag.build_index(seeds_dir, index, embedder=fake)
    before = load_index(index)
    (seeds_dir / "tea.txt").write_text("Oolong tea is rolled into tight balls.\n", encoding="utf-8")
    docs = load_documents(seeds_dir)
    chunk_args = {
        "target_tokens": DEFAULT_CHUNKING.target_tokens,
        "max_tokens": DEFAULT_CHUNKING.max_tokens,
        "max_chars": DEFAULT_CHUNKING.max_chars,
    }
    fake.reset()
    planned = plan(docs, load_manifest(index)[1], before, chunk_args=chunk_args)

    fresh = chunks_of(seeds_dir, "tea.txt")
    assert [planned.chunks[i] for i in planned.to_embed] == fresh
    assert {planned.chunks[p].source for p in planned.reused} == {"notes/meeting.md", "trade.md"}
    for position, old in planned.reused.items():  # each kept chunk keeps its own vectors
        assert planned.chunks[position] == before.chunks[old]
        assert planned.terms[position] == before.terms[old]
    assert sorted([*planned.to_embed, *planned.reused]) == list(range(len(planned.chunks)))
    assert planned.changed == ["tea.txt"]
    assert sorted(planned.unchanged) == ["notes/meeting.md", "trade.md"]
    assert planned.added == planned.removed == planned.reembedded == []
    assert planned.sources["tea.txt"].passages == len(fresh)
    assert not planned.nothing_changed
    assert fake.passages_embedded == 0  # planning embeds nothing


def test_multilingual_vectors_are_made_once_and_kept(
    seeds_dir: Path, index: Path, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag import multilingual

    calls: list[int] = []
    real_embed = multilingual.embed
    monkeypatch.setattr(multilingual, "embed", lambda t: calls.append(len(t)) or real_embed(t))
    rag.build_index(seeds_dir, index, embedder=fake)
    data = load_index(index)
    assert data.multilingual is not None and data.multilingual_sentences is not None
    assert data.multilingual.shape == (len(data.chunks), multilingual.DIM)
    assert len(data.multilingual_sentences) == len(data.sentence_vectors)
    made = sum(calls)
    assert made > 0
    (seeds_dir / "tea.txt").write_text("Oolong tea is rolled.\n", encoding="utf-8")
    calls.clear()
    rag.build_index(seeds_dir, index, embedder=fake)
    assert 0 < sum(calls) < made  # the changed file's texts alone


def test_an_index_with_an_older_glossary_gets_todays_without_embedding(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    first = rag.build_index(seeds_dir, index, embedder=fake)
    data = load_index(index)
    assert data.manifest.glossary == GLOSSARY_RULES
    save_index(index, replace(data, manifest=replace(data.manifest, glossary=1), glossary={}))
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert report.embedded == 0 and fake.passages_embedded == 0  # every vector reused
    assert report.version != first.version
    assert report.words_remade and not first.words_remade  # the build says so
    again = load_index(index)
    assert again.manifest.glossary == GLOSSARY_RULES and again.glossary == data.glossary
    assert not rag.build_index(seeds_dir, index, embedder=fake).words_remade


def test_an_index_with_older_word_rules_gets_its_bm25_terms_made_again(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    rag.build_index(seeds_dir, index, embedder=fake)
    data = load_index(index)
    stale = [[*terms, "antigone's"] for terms in data.terms]  # as the older rules made them
    older = replace(data.manifest, glossary=GLOSSARY_RULES - 1)
    save_index(index, replace(data, manifest=older, terms=stale))
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert report.embedded == 0 and fake.passages_embedded == 0
    assert [sorted(t) for t in load_index(index).terms] == [sorted(t) for t in data.terms]


def test_an_index_built_before_the_multilingual_vectors_gets_them(
    seeds_dir: Path, index: Path, fake: FakeEmbedder
) -> None:
    rag.build_index(seeds_dir, index, embedder=fake)
    data = load_index(index)
    save_index(index, replace(data, multilingual=None, multilingual_sentences=None))
    assert load_index(index).multilingual is None
    fake.reset()
    report = rag.build_index(seeds_dir, index, embedder=fake)
    assert report.embedded == 0  # the e5 vectors are reused
    assert load_index(index).multilingual is not None
