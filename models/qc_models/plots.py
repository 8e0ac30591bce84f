"""Figures (PNG): a run's learning curves and parity plots, the benchmark's skill-ratio heatmap.

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


def log_heatmap(
    values: np.ndarray,
    cell_text: np.ndarray,
    rows: Sequence[str],
    columns: Sequence[str],
    path: epath.PathLike,
    separators: Sequence[int] = (),
    title: str = "",
    label: str = "",
) -> None:
    """A rows x columns heatmap of positive `values` [R, C] on a log colour scale from 0.1 to 10,
    centred on 1 (blue below, red above; beyond the range, the end colours), each cell annotated
    with `cell_text` [R, C]; NaN cells are left blank. A line is drawn above each row index in
    `separators`; `label` names the colour bar."""
    from matplotlib.colors import LogNorm

    fig = Figure(figsize=(2.5 + 0.75 * len(columns), 1.5 + 0.28 * len(rows)))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu_r", aspect="auto",
                      norm=LogNorm(vmin=0.1, vmax=10))  # fmt: skip
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            dark = abs(np.log10(value)) > 0.6
            ax.text(j, i, cell_text[i, j], ha="center", va="center", fontsize=6,
                    color="white" if dark else "black")  # fmt: skip
    for row in separators:
        ax.axhline(row - 0.5, color="black", lw=1)
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)), rows, fontsize=7)
    bar = fig.colorbar(image, ax=ax, label=label)
    bar.set_ticks([0.1, 0.3, 1, 3, 10], labels=["0.1", "0.3", "1", "3", "10"])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    _save(fig, path)
