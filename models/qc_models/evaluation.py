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
    """A whole split in order, on every process: `targets` and `predictions` [N, T] (scaled;
    predictions clipped to their label's domain, `Normalizer.clip_predictions`), `target_mask`
    [N, T] (1 where the label is finite), `atomic_numbers` [N, 2]. Each process reads and feeds
    only its share of every batch."""
    keys = ("targets", "target_mask", "atomic_numbers")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("predictions", *keys)}
    for batch in evaluation_batches(source, normalizer, batch_size).to_iter_dataset(READ_OPTIONS):
        real = gather(batch["mask"]) > 0
        parts["predictions"].append(gather(predict_step(model, sharder.batch(batch)))[real])
        for key in keys:
            parts[key].append(gather(batch[key])[real])
    split = {key: np.concatenate(values) for key, values in parts.items()}
    split["predictions"] = normalizer.clip_predictions(split["predictions"])
    return split


def target_errors(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per target, over the pairs whose label is finite: `mae` and `rmse` [T] (in the units of
    the inputs; NaN for a target without any label) and `labelled` [T], the number of such pairs.

    y_true: [N, T], NaN where the label is missing; y_pred: [N, T].
    """
    labelled = np.isfinite(y_true)
    error = np.where(labelled, y_pred - y_true, 0.0)
    count = labelled.sum(axis=0)
    with np.errstate(invalid="ignore"):  # 0 / 0: a target without labels
        return {
            "mae": np.abs(error).sum(axis=0) / count,
            "rmse": np.sqrt((error**2).sum(axis=0) / count),
            "labelled": count,
        }


def evaluate(
    model: nnx.Module,
    source: Source,
    normalizer: Normalizer,
    loss: str,
    batch_size: int,
    sharder: Sharder,
) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics of a split over its finite labels, target by target.

    Metrics: `loss` and `mae_scaled`, means over the labelled (pair, target) entries in scaled
    units; per target in physical units, `mae` and `rmse`, and `labelled`, the number of pairs
    with that label (of `pairs`, the split's size).
    Arrays, in split order: `y_true` (NaN where the label is missing), `y_pred` [N, T] in
    physical units, and the `pairs` [N] (names such as "C_O").
    """
    split = predict_split(model, source, normalizer, batch_size, sharder)
    labelled = split["target_mask"] > 0
    error = (split["predictions"] - split["targets"])[labelled]
    atoms = split["atomic_numbers"]
    y_true = np.where(labelled, normalizer.unscale_targets(split["targets"], atoms), np.nan)
    y_pred = normalizer.unscale_targets(split["predictions"], atoms)
    per_target = target_errors(y_true, y_pred)
    metrics = {
        "loss": float(np.mean(np.abs(error) if loss == "l1" else error**2)),
        "mae_scaled": float(np.mean(np.abs(error))),
        "pairs": len(y_true),
        **{
            name: {t: value.item() for t, value in zip(normalizer.targets, values, strict=True)}
            for name, values in per_target.items()
        },
    }
    pairs = np.array([pair_name(int(a), int(b)) for a, b in split["atomic_numbers"]])
    return metrics, {"y_true": y_true, "y_pred": y_pred, "pairs": pairs}


def partly_labelled(metrics: dict) -> dict[str, int]:
    """Target -> its number of labelled pairs, for the targets that some pairs of the split lack
    (from `evaluate`'s metrics)."""
    return {t: n for t, n in metrics["labelled"].items() if n < metrics["pairs"]}


def write_predictions(
    path: epath.PathLike,
    pairs: Sequence[str],
    y_pred: np.ndarray,
    targets: Sequence[str],
    y_true: np.ndarray | None = None,
) -> None:
    """CSV, one row per pair: `pair`, then `<target>` (predicted) and `<target>_true` columns,
    physical units (the unit is in the header: `e_g_ev [eV]`); a missing true label is `nan`."""
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

