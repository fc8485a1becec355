"""The learned decision: how likely a candidate sentence answers the question.

A logistic regression over the features of rag.features, fitted by ``rag train`` on
public reading-comprehension data (see the model file's ``trained_on``). The answerer
quotes the most likely sentences and declines when even the best is below the model's
``threshold``, which was chosen on data held apart from fitting.

The model file is plain JSON: feature names, standardisation, weights, threshold, and
what it was trained and measured on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.features import FEATURES

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).parent / "data" / "decision.json"
FORMAT = 1


class DecisionModelError(RuntimeError):
    """The model file is missing, unreadable, or was made for other features."""


@dataclass(frozen=True)
class DecisionModel:
    """Logistic regression on standardised features."""

    features: tuple[str, ...]
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float = 0.5  # decline when the best candidate's probability is below this
    meta: dict[str, Any] = field(default_factory=dict)  # data, licence, metrics

    def probabilities(self, values: np.ndarray) -> np.ndarray:
        """P(answers the question) for each row of ``values`` (columns as ``features``)."""
        if values.size == 0:
            return np.zeros(0)
        z = ((np.asarray(values, dtype=np.float64) - self.mean) / self.scale) @ self.weights
        return 1.0 / (1.0 + np.exp(-(z + self.bias)))

    def save(self, path: str | Path) -> None:
        data = {
            "format": FORMAT,
            "features": list(self.features),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "mean": [round(float(m), 6) for m in self.mean],
            "scale": [round(float(s), 6) for s in self.scale],
            "threshold": round(self.threshold, 4),
            "meta": self.meta,
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL) -> DecisionModel:
        path = Path(path)
        fix = "retrain it with `rag train` (needs the public training data) or reinstall rag"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, this version reads {FORMAT}")
            model = cls(
                features=tuple(data["features"]),
                weights=np.array(data["weights"], dtype=np.float64),
                bias=float(data["bias"]),
                mean=np.array(data["mean"], dtype=np.float64),
                scale=np.array(data["scale"], dtype=np.float64),
                threshold=float(data["threshold"]),
                meta=dict(data.get("meta", {})),
            )
        except FileNotFoundError as exc:
            raise DecisionModelError(f"no decision model at {path}: {fix}") from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DecisionModelError(
                f"the decision model {path} is unreadable ({exc}): {fix}"
            ) from exc
        if model.features != FEATURES or len(model.weights) != len(FEATURES):
            raise DecisionModelError(
                f"the decision model {path} was trained on other features "
                f"({', '.join(model.features)}): {fix}"
            )
        return model


def fit(
    values: np.ndarray,
    labels: np.ndarray,
    l2: float = 1.0,
    iterations: int = 50,
    meta: dict[str, Any] | None = None,
) -> DecisionModel:
    """Fit a logistic regression by Newton's method (deterministic), L2-penalised."""
    x = np.asarray(values, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not penalised
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (p - y) + penalty * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return DecisionModel(
        features=FEATURES,
        weights=w[:-1],
        bias=float(w[-1]),
        mean=mean,
        scale=scale,
        meta=dict(meta or {}),
    )
