"""scripts/ablation.py: its variants name real settings and stages; figures are pooled by
the questions behind them. (The script itself needs the public data: `make ablation`.)"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from rag.decide import OPTIONAL, STAGES
from rag.settings import FusionParams

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "ablation.py"


@pytest.fixture(scope="module")
def ablation() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ablation", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ablation"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_every_variant_changes_real_settings_and_stages(ablation: ModuleType) -> None:
    fields = {f.name for f in dataclasses.fields(FusionParams)}
    names = {s.__name__ for s in STAGES}
    for name, variant in ablation.VARIANTS.items():
        assert set(variant.fusion) <= fields, name
        assert set(variant.without) <= names, name
        stages = variant.stages()
        assert len(stages) == len(STAGES) - len(variant.without) + len(variant.adding), name
    assert ablation.VARIANTS["all parts (the defaults)"].stages() == STAGES
    assert {f"+ rule {n}" for n in OPTIONAL} <= set(ablation.VARIANTS)


def test_figures_are_pooled_by_the_questions_behind_them(ablation: ModuleType) -> None:
    rows = [
        {"answerable": 30, "unanswerable": 10, "fact": 1.0, "unanswerable_declined": 0.0},
        {"answerable": 10, "unanswerable": 30, "fact": 0.0, "unanswerable_declined": 1.0},
        {"answerable": 0, "unanswerable": 5, "fact": 0.0, "unanswerable_declined": 1.0},
    ]
    assert ablation.pooled(rows, "fact") == pytest.approx(0.75)
    assert ablation.pooled(rows, "unanswerable_declined") == pytest.approx(35 / 45)
    assert ablation.pooled(rows[2:], "fact") is None
    assert ablation.cell(0.5, None) == "0.50 / –"


def test_without_the_public_data_it_says_where_it_looked(
    ablation: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ablation.main([str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
