"""Predictions of a whole split, their metrics in physical units, and per-pair prediction tables."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np
from etils import epath
from flax import nnx

from qc_jax.chem.labels import unit
from qc_jax.elements import pair_name
from qc_models.input_pipeline import Normalizer
from qc_models.parallel import Sharder, gather
from qc_models.sources import READ_OPTIONS, Source, evaluation_batches
from qc_models.steps import predict_step


def predict_split(
    model: nnx.Module, source: Source, normalizer: Normalizer, batch_size: int, sharder: Sharder
) -> dict[str, np.ndarray]:
    """A whole split in order, on every process: `targets` and `predictions` [N, T] (scaled),
    `atomic_numbers` [N, 2]. Each process reads and feeds only its share of every batch."""
    parts: dict[str, list[np.ndarray]] = {"targets": [], "predictions": [], "atomic_numbers": []}
    for batch in evaluation_batches(source, normalizer, batch_size).to_iter_dataset(READ_OPTIONS):
        real = gather(batch["mask"]) > 0
        parts["predictions"].append(gather(predict_step(model, sharder.batch(batch)))[real])
        for key in ("targets", "atomic_numbers"):
            parts[key].append(gather(batch[key])[real])
    return {key: np.concatenate(values) for key, values in parts.items()}


def evaluate(
    model: nnx.Module,
    source: Source,
    normalizer: Normalizer,
    loss: str,
    batch_size: int,
    sharder: Sharder,
) -> tuple[dict, dict[str, np.ndarray]]:
    """Loss (scaled), mean scaled MAE and per-target MAE in physical units of a split.

    Returns (metrics, arrays): arrays hold `y_true`, `y_pred` [N, T] in physical units and the
    `pairs` [N] (names such as "C_O"), in split order.
    """
    split = predict_split(model, source, normalizer, batch_size, sharder)
    error = split["predictions"] - split["targets"]
    y_true = normalizer.unscale_targets(split["targets"])
    y_pred = normalizer.unscale_targets(split["predictions"])
    mae = np.mean(np.abs(y_pred - y_true), axis=0)
    metrics = {
        "loss": float(np.mean(np.abs(error) if loss == "l1" else error**2)),
        "mae_scaled": float(np.mean(np.abs(error))),
        "mae": {t: float(m) for t, m in zip(normalizer.targets, mae, strict=True)},
    }
    pairs = np.array([pair_name(int(a), int(b)) for a, b in split["atomic_numbers"]])
    return metrics, {"y_true": y_true, "y_pred": y_pred, "pairs": pairs}


def write_predictions(
    path: epath.PathLike,
    pairs: Sequence[str],
    y_pred: np.ndarray,
    targets: Sequence[str],
    y_true: np.ndarray | None = None,
) -> None:
    """CSV, one row per pair: `pair`, then `<target>` (predicted) and `<target>_true` columns,
    physical units (the unit is in the header: `e_g_ev [eV]`)."""
    header = ["pair"]
    for t in targets:
        header.append(f"{t} [{unit(t)}]")
        if y_true is not None:
            header.append(f"{t}_true [{unit(t)}]")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    for i, pair in enumerate(pairs):
        row = [pair]
        for j in range(len(targets)):
            row.append(f"{y_pred[i, j]:.6g}")
            if y_true is not None:
                row.append(f"{y_true[i, j]:.6g}")
        writer.writerow(row)
    epath.Path(path).write_text(text.getvalue())
