"""Channel-ablation importance of a trained model, measured on the test split.

Channel c of every test canvas is replaced by its per-pixel mean over the training split: what
the channel tells about the pair is removed, while the field keeps its typical shape and scale
(zeros would be far outside what the model saw). The importance of channel c for a target is the
test MAE so ablated divided by the intact test MAE, minus one: 0 when the model does not use the
channel, 0.5 when its error grows by half. Nothing is retrained and no training example is scored.
"""

from __future__ import annotations

import numpy as np

from qc_models.input_pipeline import Dataset
from qc_models.predict import Trained
from qc_models.sources import ArraySource, Source


def mean_canvas(source: Source, chunk: int = 256) -> np.ndarray:
    """[H, W, C] float64: the per-pixel mean canvas of a split (physical units), read `chunk`
    examples at a time."""
    n = len(source)
    total = sum(
        source.read(np.arange(start, min(start + chunk, n)))["canvas"].astype(np.float64).sum(0)
        for start in range(0, n, chunk)
    )
    return total / n


def split_mae(trained: Trained, split: Dataset) -> np.ndarray:
    """[T] MAE of each of `trained.config.targets` on a split (physical units), over the pairs
    that have the target's label (`evaluation.evaluate`)."""
    metrics, _ = trained.evaluate(ArraySource(split))
    return np.array([metrics["mae"][t] for t in trained.config.targets])


def channel_importance(trained: Trained, test: Dataset, fill: np.ndarray) -> np.ndarray:
    """[C, T]: the test MAE with channel c of every canvas replaced by `fill[..., c]`, divided by
    the intact test MAE, minus one.

    test: the test split (physical units; `canvas` [N, H, W, C] and the targets, NaN where a
    label is missing: each target is scored on its labelled pairs);
    fill: [H, W, C], the training split's mean canvas (`mean_canvas`).
    """
    intact = split_mae(trained, test)
    ratios = []
    for c in range(test["canvas"].shape[-1]):
        canvas = test["canvas"].copy()
        canvas[..., c] = fill[..., c]
        ratios.append(split_mae(trained, {**test, "canvas": canvas}) / intact - 1.0)
    return np.stack(ratios)
