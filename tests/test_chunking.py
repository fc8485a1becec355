"""Chunking: bounded, sentence-aware chunks whose spans point at the original text."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from rag.chunking import Chunk, chunk_document, count_tokens, is_heading, split_sentences
from rag.documents import Document, load_documents, parse_blocks
from rag.settings import DEFAULT_CHUNKING
from tests.conftest import REAL_SEEDS, SEED_NAME, SIX_AREAS

_CREDIT = re.compile(r"[（(]圖／[^（）()]*[）)]")


def squash(text: str) -> str:
    """What cleaning may drop: whitespace, photo credits, ■, heading and bullet markers."""
    text = _CREDIT.sub("", text).replace("■", "")
    text = re.sub(r"(?m)^[ \t]*(?:#{1,6}|[-*•])[ \t]+", "", text)
    return "".join(text.split())


@pytest.fixture(scope="module")
def seed() -> Document:
    (doc,) = load_documents(REAL_SEEDS)
    return doc


@pytest.fixture(scope="module")
def chunks(seed: Document) -> list[Chunk]:
    return chunk_document(seed)


def test_chunks_are_bounded(chunks: list[Chunk]) -> None:
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.text
        assert len(chunk.text) <= DEFAULT_CHUNKING.max_chars, chunk.id
        assert count_tokens(chunk.text) <= DEFAULT_CHUNKING.max_tokens, chunk.id


def test_span_holds_the_chunk_text(seed: Document, chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert chunk.source == SEED_NAME
        assert 0 <= chunk.start < chunk.end <= len(seed.original)
        span = seed.original[chunk.start : chunk.end]
        assert squash(chunk.text) in squash(span), chunk.id
        assert squash(chunk.text) == squash(span), chunk.id  # and nothing more
        assert span[0] == chunk.text[0] and span[-1] == chunk.text[-1]


def test_chunks_are_in_order_and_do_not_overlap(chunks: list[Chunk]) -> None:
    for a, b in itertools.pairwise(chunks):
        assert a.end <= b.start


def test_list_stays_with_its_lead_in(chunks: list[Chunk]) -> None:
    lead_in = "「灣區議程」著重於下列六大領域的執行工作："
    (chunk,) = [c for c in chunks if lead_in in c.text]
    for item in SIX_AREAS:
        assert item in chunk.text


def test_byline_is_kept(chunks: list[Chunk]) -> None:
    (chunk,) = [c for c in chunks if "王薊暄" in c.text]
    assert chunk is chunks[0]


def test_captions_are_chunks_of_their_own(chunks: list[Chunk]) -> None:
    captions = [c.text for c in chunks if c.kind == "caption"]
    assert captions == [
        "2023年第三次資深官員會議於西雅圖召開，聚焦於強化區域連結與韌性成長。",
        "2023年第三次資深官員會議全景",
        "舊金山莫斯科康會議中心。",
    ]
    assert {c.kind for c in chunks} == {"text", "caption"}


def test_heading_opens_its_chunk_and_names_the_section(chunks: list[Chunk]) -> None:
    (chunk,) = [c for c in chunks if c.text.startswith("11月舊金山APEC經濟領袖會議\n")]
    assert chunk.section.endswith("11月舊金山APEC經濟領袖會議")
    assert "莫斯科康會議中心" in chunk.text


def test_nothing_is_lost(seed: Document, chunks: list[Chunk]) -> None:
    """Every sentence of every source line appears whole in some chunk."""
    texts = [squash(c.text) for c in chunks]
    sentence = re.compile(r"[^。！？]+[。！？]?")
    sentences = [s for line in seed.original.split("\n") for s in sentence.findall(squash(line))]
    assert len(sentences) > 40
    missing = [s for s in sentences if not any(s in t for t in texts)]
    assert missing == []


def test_chunking_is_deterministic(seed: Document, chunks: list[Chunk]) -> None:
    again = chunk_document(seed)
    assert [c.id for c in again] == [c.id for c in chunks]
    assert again == chunks
    assert len({c.id for c in chunks}) == len(chunks)
    assert all(c.id == f"{c.source}#{c.start}-{c.end}" for c in chunks)


def test_sentence_spans_cover_each_chunk(chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert chunk.sentences
        covered = "".join(chunk.text[a:b] for a, b in chunk.sentences)
        assert "".join(covered.split()) == "".join(chunk.text.split()), chunk.id
        for (_, b), (a, _) in zip(chunk.sentences, chunk.sentences[1:]):
            assert b <= a


def test_split_sentences_chinese() -> None:
    text = "會議在西雅圖召開。美國希望找出方案！這是真的嗎？是的"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "會議在西雅圖召開。",
        "美國希望找出方案！",
        "這是真的嗎？",
        "是的",
    ]


def test_split_sentences_keeps_closing_quotes() -> None:
    text = "他說：「會議很成功。」然後離開了。"
    pieces = [text[a:b] for a, b in split_sentences(text)]
    assert pieces == ["他說：「會議很成功。」", "然後離開了。"]


def test_a_stop_inside_brackets_ends_no_sentence() -> None:
    text = "2008年的《CDTV×Sacas！》節目中首次演唱。萱侬律(又名「東芭樂園」；Nong Nooch)位於泰國。"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "2008年的《CDTV×Sacas！》節目中首次演唱。",
        "萱侬律(又名「東芭樂園」；Nong Nooch)位於泰國。",
    ]
    unclosed = "（未閉合。然後。"  # brackets that never close hold no sentence back
    assert [unclosed[a:b] for a, b in split_sentences(unclosed)] == ["（未閉合。", "然後。"]


def test_an_initial_or_abbreviation_ends_no_sentence() -> None:
    text = "Ted Wallerstein convinced William S. Paley to buy ARC. Dr. Smith came, e.g. in May."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Ted Wallerstein convinced William S. Paley to buy ARC.",
        "Dr. Smith came, e.g. in May.",
    ]


def test_a_footnote_mark_or_closing_quote_stays_with_its_sentence() -> None:
    text = 'It was disputed.[citation needed] It was called "the end." Then 3.[12] 他說。[1]然後'
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "It was disputed.[citation needed]",
        'It was called "the end."',
        "Then 3.[12]",
        "他說。[1]",
        "然後",
    ]


def test_split_sentences_english_and_lines() -> None:
    text = "The meeting is in Seattle. It lasts 3.5 weeks! Why?\nfirst item\nsecond item"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "The meeting is in Seattle.",
        "It lasts 3.5 weeks!",
        "Why?",
        "first item",
        "second item",
    ]


def test_a_sentence_over_the_bound_is_cut_into_pieces_that_fit(tmp_path: Path) -> None:
    sentence = "，".join(f"第{i}項議題討論數位貿易與資料隱私的規則" for i in range(60)) + "。"
    assert len(sentence) > 3 * DEFAULT_CHUNKING.max_chars
    original = f"# 長句\n\n{sentence}\n"
    doc = Document("long.md", original, "x", tuple(parse_blocks(original)))
    pieces = chunk_document(doc)
    assert len(pieces) >= 3
    for piece in pieces:
        assert len(piece.text) <= DEFAULT_CHUNKING.max_chars
        assert count_tokens(piece.text) <= DEFAULT_CHUNKING.max_tokens
    assert squash("".join(p.text for p in pieces)) == squash(original)


def test_an_unbreakable_run_is_cut_hard() -> None:
    original = "A" * 1000 + "\n"
    doc = Document("run.txt", original, "x", tuple(parse_blocks(original)))
    pieces = chunk_document(doc, max_chars=300, max_tokens=400)
    assert all(len(p.text) <= 300 for p in pieces)
    assert "".join(p.text for p in pieces) == "A" * 1000
    for p in pieces:
        assert original[p.start : p.end] == p.text


def test_smaller_bounds_give_smaller_chunks(seed: Document) -> None:
    small = chunk_document(seed, target_tokens=60, max_tokens=120, max_chars=150)
    assert len(small) > len(chunk_document(seed))
    for chunk in small:
        assert len(chunk.text) <= 150
        assert count_tokens(chunk.text) <= 120


def test_every_sentence_keeps_its_span_in_the_original_file(tmp_path: Path) -> None:
    """Over every seed and test document: the original file's text at each sentence's
    origin, cleaned as documented, is the sentence shown."""
    import shutil

    from rag.documents import displayed, load_documents
    from tests.conftest import REAL_SEEDS, write_seeds

    folder = write_seeds(tmp_path / "seeds")
    shutil.copy(Path(__file__).parent / "data" / "tea_report.md", folder)
    for seed in REAL_SEEDS.iterdir():
        shutil.copy(seed, folder)
    checked = 0
    for doc in load_documents(folder):
        for chunk in chunk_document(doc):
            assert len(chunk.origins) == len(chunk.sentences)
            assert displayed(doc.original[chunk.start : chunk.end]) == displayed(chunk.text)
            for (a, b), (x, y) in zip(chunk.sentences, chunk.origins):
                assert chunk.start <= x < y <= chunk.end
                assert displayed(doc.original[x:y]) == chunk.text[a:b].strip()
                checked += 1
    assert checked > 50


def test_a_title_line_is_a_heading() -> None:
    text = "Normans\nThe Normans were the people who gave their name to Normandy."
    assert is_heading(text, 0, 7, set())
    assert not is_heading(text, 8, len(text), set())
    assert is_heading("供應鏈韌性報告", 0, 7, {"供應鏈韌性報告"})
    chunk = Chunk("c", "a.txt", 0, len(text), text, "Normans", "text", ((0, 7), (8, len(text))))
    assert chunk.heading(0) and not chunk.heading(1)


def test_a_plain_text_title_names_every_passage_of_its_document(tmp_path: Path) -> None:
    body = "".join(f"第{i}段說明它的用途與歷史，以及它在各地的分布情形。\n\n" for i in range(40))
    (tmp_path / "a.txt").write_text("乙醚\n\n" + body, encoding="utf-8")
    (doc,) = load_documents(tmp_path)
    found = chunk_document(doc)
    assert len(found) > 1
    assert {c.section for c in found} == {"乙醚"}
    assert found[0].text.startswith("乙醚\n")
