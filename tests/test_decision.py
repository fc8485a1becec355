"""The learned decision: fitting, probabilities, the model file and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.decision import DEFAULT_MODEL, DecisionModel, DecisionModelError, fit
from rag.features import FEATURES


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, len(FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.3, size=400) > 0).astype(float)
    return x, y


def test_fit_learns_the_signal_and_is_deterministic() -> None:
    x, y = _data()
    a, b = fit(x, y), fit(x, y)
    assert np.array_equal(a.weights, b.weights) and a.bias == b.bias
    assert a.weights[0] > a.weights[1] > abs(a.weights[2:]).max()
    p = a.probabilities(x)
    assert ((p > 0.5) == (y > 0.5)).mean() > 0.85


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = fit(*_data(), meta={"trained_on": "synthetic"})
    path = tmp_path / "m.json"
    model.save(path)
    loaded = DecisionModel.load(path)
    x, _ = _data(1)
    assert np.allclose(loaded.probabilities(x), model.probabilities(x), atol=1e-4)
    assert loaded.meta == {"trained_on": "synthetic"}


def test_a_missing_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(DecisionModelError, match="rag train"):
        DecisionModel.load(tmp_path / "absent.json")


def test_a_corrupt_model_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DecisionModelError, match="unreadable"):
        DecisionModel.load(path)


def test_a_model_for_other_features_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    fit(*_data()).save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = ["cos", "something_else"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DecisionModelError, match="other features"):
        DecisionModel.load(path)


def test_the_shipped_model_names_its_data_and_licences() -> None:
    model = DecisionModel.load(DEFAULT_MODEL)
    assert model.features == FEATURES
    assert 0 < model.threshold < 1
    assert "CC BY-SA 4.0" in " ".join(model.meta["trained_on"]["licences"])
    assert model.meta["held_apart"]["questions"] > 100
