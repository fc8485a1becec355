"""Training the decision on a small fixture: reproducible, labelled, thresholded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.decision import DecisionModel
from rag.training import file_name, read_rows, train, write_articles
from tests.conftest import FakeEmbedder

ARTICLES = {
    "Tea": "Green tea grows best on misty hillsides. The harvest begins in early spring.",
    "Rivers": "The Rhine flows from the Alps to the North Sea. It is 1,230 kilometres long.",
    "Bridges": "The Golden Gate Bridge opened in 1937. It spans the Golden Gate strait.",
    "Clocks": "Big Ben is the nickname of the great bell. It was cast in 1858.",
}
QUESTIONS = {
    "Tea": [("Where does green tea grow best?", "misty hillsides")],
    "Rivers": [("Where does the Rhine flow to?", "North Sea"), ("How long is the Rhine?", "1,230")],
    "Bridges": [("When did the Golden Gate Bridge open?", "1937")],
    "Clocks": [("When was Big Ben cast?", "1858")],
}
CHINESE = {
    "茶": ("綠茶生長在多霧的山坡上。春天開始採收。", "綠茶生長在哪裡？", "多霧的山坡"),
    "河": ("萊茵河發源於阿爾卑斯山，流入北海。", "萊茵河流入哪裡？", "北海"),
    "橋": ("金門大橋於1937年通車。", "金門大橋哪一年通車？", "1937"),
    "鐘": ("大笨鐘於1858年鑄造。", "大笨鐘何時鑄造？", "1858"),
}


def _fixture(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for title, text in ARTICLES.items():
        for i, (question, answer) in enumerate(QUESTIONS[title]):
            rows.append(
                {
                    "id": f"{title}{i}",
                    "lang": "en",
                    "title": title,
                    "context": text,
                    "question": question,
                    "answers": [answer],
                    "answer_start": text.index(answer),
                    "is_impossible": False,
                    "source": "squad2-dev-pages",
                }
            )
    rows.append(
        {
            **rows[0],
            "id": "x",
            "question": "Where does black tea grow?",
            "answers": [],
            "answer_start": None,
            "is_impossible": True,
        }
    )
    (folder / "en.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    for lang, source in (("zh-Hans", "cmrc-trial"), ("zh-Hant", "drcd-test")):
        lines = [
            json.dumps(
                {
                    "id": title,
                    "lang": lang,
                    "title": title,
                    "context": text,
                    "question": q,
                    "answers": [a],
                    "answer_start": text.index(a),
                    "is_impossible": False,
                    "source": source,
                },
                ensure_ascii=False,
            )
            for title, (text, q, a) in CHINESE.items()
        ]
        (folder / f"{lang}.jsonl").write_text("\n".join(lines), encoding="utf-8")
    return folder


def test_articles_are_written_one_file_each_title_first(tmp_path: Path) -> None:
    rows = read_rows(_fixture(tmp_path / "data") / "en.jsonl")
    write_articles(rows, tmp_path / "docs")
    text = (tmp_path / "docs" / file_name("Rivers")).read_text(encoding="utf-8")
    assert text == f"Rivers\n\n{ARTICLES['Rivers']}\n"  # two questions, one paragraph


def test_training_is_reproducible_and_names_its_data(tmp_path: Path) -> None:
    data = _fixture(tmp_path / "data")
    first = train(
        data, tmp_path / "w1", tmp_path / "a.json", per_language=40, embedder=FakeEmbedder()
    )
    second = train(
        data, tmp_path / "w2", tmp_path / "b.json", per_language=40, embedder=FakeEmbedder()
    )
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    loaded = DecisionModel.load(tmp_path / "a.json")
    assert loaded.threshold == first.threshold == second.threshold
    assert loaded.meta["trained_on"]["rows_read"] == {"en": 6, "zh-Hans": 4, "zh-Hant": 4}
    assert loaded.meta["trained_on"]["candidates"] > 0
    # a sentence holding the gold answer is more likely than the others of its question
    assert loaded.weights[loaded.features.index("overlap")] > 0


def test_a_training_folder_without_every_language_says_which_before_any_work(
    tmp_path: Path,
) -> None:
    data = _fixture(tmp_path / "data")
    (data / "zh-Hant.jsonl").unlink()
    with pytest.raises(ValueError, match=r"lacks zh-Hant\.jsonl"):
        train(data, tmp_path / "work", tmp_path / "m.json", embedder=FakeEmbedder())
    assert not (tmp_path / "work").exists() and not (tmp_path / "m.json").exists()
