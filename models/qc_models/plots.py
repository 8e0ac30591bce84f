"""End-of-run figures: learning curves and parity plots (PNG).

Paths are `etils.epath` paths (local or `gs://`): the PNG is rendered in memory and written once.
Figures are `matplotlib.figure.Figure` objects, not pyplot's: no backend is chosen or changed, so
a notebook that trains keeps its inline figures.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from etils import epath
from matplotlib.figure import Figure


def _save(fig: Figure, path: epath.PathLike) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    epath.Path(path).write_bytes(buffer.getvalue())


def learning_curve(history: Sequence[dict], path: epath.PathLike) -> None:
    """Train and validation loss per epoch (from the metrics JSONL records)."""
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(5, 3.5))
    ax = fig.subplots()
    ax.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    ax.set(xlabel="epoch", ylabel="loss (scaled targets)", yscale="log")
    ax.legend()
    fig.tight_layout()
    _save(fig, path)


def parity(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    targets: Sequence[str],
    path: epath.PathLike,
    title: str = "",
) -> None:
    """Predicted vs true per target, [N, T] arrays in physical units, with the MAE; the pairs
    whose true label is missing (NaN) are left out of that target's panel."""
    cols = min(3, len(targets))
    rows = math.ceil(len(targets) / cols)
    fig = Figure(figsize=(3.2 * cols, 3.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for t, (name, ax) in enumerate(zip(targets, axes.flat, strict=False)):
        labelled = np.isfinite(y_true[:, t])
        true, pred = y_true[labelled, t], y_pred[labelled, t]
        lo, hi = min(true.min(), pred.min()), max(true.max(), pred.max())
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8)
        ax.scatter(true, pred, s=6, alpha=0.6)
        mae = np.mean(np.abs(true - pred))
        ax.set(title=f"{name}  MAE {mae:.3g}", xlabel="true", ylabel="predicted")
    for ax in list(axes.flat)[len(targets) :]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
