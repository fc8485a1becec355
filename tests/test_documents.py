"""Loading and cleaning sources: offsets, repaired breaks, headings, lists, captions, errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import rag
from rag.documents import (
    Block,
    Document,
    DocumentError,
    displayed,
    load_documents,
    parse_blocks,
)
from tests.conftest import REAL_SEEDS, SEED_NAME, SIX_AREAS


@pytest.fixture(scope="module")
def seed() -> Document:
    (doc,) = load_documents(REAL_SEEDS)
    return doc


def assert_offsets(blocks: list[Block] | tuple[Block, ...], original: str) -> None:
    for block in blocks:
        assert block.text, block
        assert len(block.offsets) == len(block.text)
        assert list(block.offsets) == sorted(set(block.offsets)), "offsets must increase"
        for i, ch in enumerate(block.text):
            if not ch.isspace():
                assert original[block.offsets[i]] == ch, (block.text, i)
        assert original[block.start] == block.text[0]
        assert original[block.end - 1] == block.text[-1]


def test_every_character_points_back_at_the_original(seed: Document) -> None:
    assert seed.source == SEED_NAME
    assert len(seed.blocks) > 15
    assert_offsets(seed.blocks, seed.original)


def test_offsets_hold_for_small_seeds(seeds_dir: Path) -> None:
    docs = load_documents(seeds_dir)
    assert [d.source for d in docs] == ["notes/meeting.md", "tea.txt", "trade.md"]
    for doc in docs:
        assert doc.original == (seeds_dir / doc.source).read_text(encoding="utf-8")
        assert doc.sha256 == hashlib.sha256((seeds_dir / doc.source).read_bytes()).hexdigest()
        assert_offsets(doc.blocks, doc.original)


def test_sentence_broken_across_blank_line_is_rejoined(seed: Document) -> None:
    assert "召開。本\n\n次資深" in seed.original  # the break really is in the source
    joined = [b for b in seed.blocks if "召開。本次資深官員會議持續逾三週進行" in b.text]
    assert len(joined) == 1
    assert joined[0].kind == "paragraph"
    assert joined[0].text.startswith("2023年APEC第三次資深官員大會")
    assert not any(b.text.endswith("本") for b in seed.blocks)
    assert not any(b.text.startswith("次資深") for b in seed.blocks)


def test_latin_words_broken_across_blank_line_are_joined_with_a_space(seed: Document) -> None:
    assert "(2023 APEC\n\nMultistakeholder Forum)" in seed.original
    hits = [b for b in seed.blocks if "(2023 APEC Multistakeholder Forum)" in b.text]
    assert len(hits) == 1
    assert hits[0].text.startswith("除了領袖會議外")
    assert_offsets(hits, seed.original)


def test_spaces_inside_chinese_are_dropped_and_kept_between_latin_words(seed: Document) -> None:
    title = seed.blocks[0]
    assert title.kind == "heading"
    assert title.text == (
        "2023年APEC第三次資深官員會議焦點：「灣區議程：具韌性及包容性的成長」"
        "—商議如何強化亞太區域經濟連結與促進韌性成長"
    )
    assert any("(the third Senior Officials' Meeting, SOM3)" in b.text for b in seed.blocks)


def test_captions_are_recognised_and_credits_stripped(seed: Document) -> None:
    captions = [b.text for b in seed.blocks if b.kind == "caption"]
    assert captions == [
        "2023年第三次資深官員會議於西雅圖召開，聚焦於強化區域連結與韌性成長。",
        "2023年第三次資深官員會議全景",
        "舊金山莫斯科康會議中心。",
    ]
    for block in seed.blocks:
        assert "圖／" not in block.text
        assert "APEC官網" not in block.text


def test_headings_keep_their_level(seed: Document) -> None:
    headings = [(b.level, b.text) for b in seed.blocks if b.kind == "heading"]
    assert headings[0][0] == 1
    assert headings[1:] == [
        (2, "第三次資深官員會議及部門別部長會議商議APEC重要議題"),
        (3, "「灣區議程：具韌性及包容性的成長」聚焦於建構區域韌性"),
        (3, "11月舊金山APEC經濟領袖會議"),
        (2, "APEC小百科"),
        (3, "專業部長會議(Sectoral Ministerial Meetings, SMM)"),
    ]
    assert not any(b.text.startswith("#") for b in seed.blocks)
    assert all(b.level == 0 for b in seed.blocks if b.kind != "heading")


def test_bullet_list_is_one_block_after_its_lead_in(seed: Document) -> None:
    kinds = [b.kind for b in seed.blocks]
    i = kinds.index("list")
    assert kinds.count("list") == 1
    assert seed.blocks[i].text.split("\n") == SIX_AREAS
    assert seed.blocks[i - 1].text == "「灣區議程」著重於下列六大領域的執行工作："


def test_end_mark_is_removed(seed: Document) -> None:
    assert "■" in seed.original
    assert not any("■" in b.text for b in seed.blocks)
    assert any(b.text.endswith("如何實踐「BCG經濟曼谷目標」。") for b in seed.blocks)


def test_byline_stands_on_its_own(seed: Document) -> None:
    assert seed.blocks[1].text == "APEC研究中心助理研究員王薊暄"
    assert seed.blocks[1].kind == "paragraph"


def test_small_markdown_document(seeds_dir: Path) -> None:
    doc = next(d for d in load_documents(seeds_dir) if d.source == "trade.md")
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("heading", "供應鏈韌性報告"),
        ("paragraph", "作者張三"),
        (
            "paragraph",
            "本報告說明亞太區域各經濟體如何強化供應鏈韌性，並且提出具體的政策建議與後續的執行"
            "步驟，以因應未來任何大型的區域危機。",
        ),
        ("paragraph", "會議確定了下列兩大重點工作："),
        ("list", "強化供應鏈韌性\n提升反貪腐成效"),
        ("caption", "會議現場的照片。"),
        ("paragraph", "各經濟體承諾持續合作。"),
    ]


def test_english_sentence_broken_across_blank_line() -> None:
    original = "The leaders will meet at the Moscone Center in San\n\nFrancisco in November.\n"
    (block,) = parse_blocks(original)
    assert block.text == "The leaders will meet at the Moscone Center in San Francisco in November."
    assert_offsets([block], original)


def test_a_markdown_code_block_is_joined_to_no_paragraph() -> None:
    original = (
        "Install the extra package with pip before you run the tool\n\n"
        "```bash\npip install -e \".[milvus]\"\n```\n\n"
        "Without it, a command given a Milvus store stops with a message.\n"
    )
    blocks = parse_blocks(original)
    assert [b.text for b in blocks] == [
        "Install the extra package with pip before you run the tool",
        '```bash pip install -e ".[milvus]" ```',
        "Without it, a command given a Milvus store stops with a message.",
    ]
    assert_offsets(blocks, original)


def test_a_markdown_table_is_a_row_a_line_without_its_rule() -> None:
    original = (
        "| port | what |\n|------|:-----|\n| 7860 | the chat |\n| 19530 | Milvus |\n\nAfter.\n"
    )
    table, after = parse_blocks(original)
    assert table.kind == "list" and after.text == "After."
    rows = ["| port | what |", "| 7860 | the chat |", "| 19530 | Milvus |"]
    assert table.text.split("\n") == rows
    assert_offsets([table, after], original)
    assert displayed(original[table.start : table.end]) == displayed(table.text)


def test_a_first_line_that_ends_no_sentence_is_the_documents_title() -> None:
    original = "乙醚\n\n乙醚是一種醚類。它是無色的液體。\n\n它以前被當作麻醉劑。\n"
    title, first, second = parse_blocks(original)
    assert (title.kind, title.level, title.text) == ("heading", 1, "乙醚")
    assert [first.kind, second.kind] == ["paragraph", "paragraph"]
    assert_offsets([title, first, second], original)
    # a first line that is a sentence, or a document of one line, has no title
    assert parse_blocks("乙醚是一種醚類。\n\n它是無色的液體。\n")[0].kind == "paragraph"
    assert parse_blocks("乙醚\n")[0].kind == "paragraph"


def test_complete_paragraphs_are_not_joined() -> None:
    original = "這是一個完整而且足夠長的段落，它以句號結束，所以不應該和下一段合併。\n\n下一段。\n"
    blocks = parse_blocks(original)
    assert [b.text for b in blocks] == [
        "這是一個完整而且足夠長的段落，它以句號結束，所以不應該和下一段合併。",
        "下一段。",
    ]


def test_crlf_input_gives_the_same_blocks_as_lf(tmp_path: Path) -> None:
    text = "# 標題\r\n\r\n第一段的文字，說明會議在舊金山舉行。\r\n\r\n- 甲\r\n- 乙\r\n"
    (tmp_path / "lf").mkdir()
    (tmp_path / "crlf").mkdir()
    (tmp_path / "lf" / "a.md").write_bytes(text.replace("\r\n", "\n").encode("utf-8"))
    (tmp_path / "crlf" / "a.md").write_bytes(text.encode("utf-8"))
    (lf,) = load_documents(tmp_path / "lf")
    (crlf,) = load_documents(tmp_path / "crlf")
    assert "\r" not in crlf.original
    assert crlf.original == (tmp_path / "crlf" / "a.md").read_text(encoding="utf-8")
    assert crlf.blocks == lf.blocks
    assert [b.kind for b in crlf.blocks] == ["heading", "paragraph", "list"]
    assert crlf.blocks[2].text == "甲\n乙"
    assert_offsets(crlf.blocks, crlf.original)


def test_non_utf8_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("好的文件。", encoding="utf-8")
    (tmp_path / "big5.txt").write_bytes("這不是UTF-8的文件。".encode("big5"))
    with pytest.raises(DocumentError, match=r"big5\.txt.*UTF-8"):
        load_documents(tmp_path)


def test_empty_folder_names_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "empty-seeds"
    folder.mkdir()
    (folder / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (folder / ".hidden.md").write_text("# hidden\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="empty-seeds"):
        load_documents(folder)


def test_missing_folder_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no-such-seeds"):
        load_documents(tmp_path / "no-such-seeds")


def test_document_error_is_public_and_a_value_error() -> None:
    assert rag.DocumentError is DocumentError
    assert issubclass(DocumentError, ValueError)


def test_a_word_hyphenated_at_a_line_end_is_rejoined() -> None:
    original = "The harbour was re-\nbuilt after the storm of 1901, with a well-\nKnown crane.\n"
    (block,) = parse_blocks(original)
    assert block.text == (
        "The harbour was rebuilt after the storm of 1901, with a well- Known crane."
    )
    assert original[block.offsets[block.text.index("rebuilt") + 2]] == "b"


def test_a_mark_in_code_stays() -> None:
    original = "Set `a[1]` first.[2]\n\n```\nx = a[1]\n```\n"
    assert [b.text for b in parse_blocks(original)] == ["Set `a[1]` first.", "``` x = a[1] ```"]


def test_a_copied_headings_edit_link_is_dropped() -> None:
    blocks = parse_blocks("Mount Example\n\nHistory[edit]\n\nIt erupted in 1912.\n\n歷史[編輯]\n")
    assert [b.text for b in blocks] == ["Mount Example", "History", "It erupted in 1912.", "歷史"]


def test_footnote_marks_after_a_word_or_stop_are_dropped() -> None:
    original = (
        "Mount Example is a volcano.[1] It erupted in 1912[2][3] and 1950.[citation needed]"
        " 火山位於北部。[來源請求] 山高[註 3] 2,341米。 See [1] and [text](http://x), [a] ok."
    )
    (block,) = parse_blocks(original)
    assert block.text == (  # marks after a space, and a Markdown link, stay
        "Mount Example is a volcano. It erupted in 1912 and 1950.火山位於北部。山高2,341米。"
        "See [1] and [text](http://x), [a] ok."
    )
    for ch, at in zip(block.text, block.offsets, strict=True):
        assert ch == " " or original[at] == ch
    assert displayed(original) == block.text
