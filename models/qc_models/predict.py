"""A trained run back from its workdir: `qc_models.load(workdir)` and `qc-canvas predict`.

    import qc_models
    trained = qc_models.load("out/train/cnn")      # config, scaling and the best checkpoint
    y = trained.predict(examples)                   # [N, T] physical units, trained.config.targets
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
from etils import epath
from flax import nnx

from qc_jax.chem.labels import unit
from qc_models.checkpoints import Checkpoints
from qc_models.configs.base import Config
from qc_models.evaluation import evaluate, partly_labelled, write_predictions
from qc_models.input_pipeline import Dataset, Normalizer
from qc_models.parallel import Sharder
from qc_models.registry import create_model
from qc_models.sources import Source, TfdsSource, open_splits
from qc_models.steps import make_optimizer, predict_step
from qc_models.workdir import read_config


@dataclasses.dataclass
class Trained:
    """The best checkpoint of a run, with the config and the target scaling it was trained with."""

    config: Config
    normalizer: Normalizer
    model: nnx.Module
    epoch: int  # the epoch of the best checkpoint

    def predict(self, examples: Dataset) -> np.ndarray:
        """Predictions [N, T] in physical units for `config.targets` (a target that is
        non-negative by definition is never predicted below 0).

        examples: `canvas` [N, H, W, C], `positions` [N, 2, 3] Å, `atomic_numbers` [N, 2],
        `generating_scalars` [N, 6] (physical units, as in the dataset); labels not needed.
        """
        scaled = predict_step(self.model, self.normalizer(examples))
        clipped = self.normalizer.clip_predictions(np.asarray(scaled, np.float64))
        return self.normalizer.unscale_targets(clipped, examples["atomic_numbers"])

    def evaluate(self, source: Source, batch_size: int | None = None) -> tuple[dict, dict]:
        """Metrics and per-pair arrays of a labelled split (see `evaluation.evaluate`)."""
        return evaluate(
            self.model,
            source,
            self.normalizer,
            self.config.loss,
            batch_size or self.config.batch_size,
            Sharder(),
        )


def load(workdir: epath.PathLike) -> Trained:
    """The model of a workdir's best checkpoint (lowest validation MAE), ready to predict."""
    workdir = epath.Path(workdir)
    config = read_config(workdir)
    normalizer = Normalizer.from_dict(json.loads((workdir / "normalizer.json").read_text()))
    model = create_model(config, len(config.targets), in_channels=len(normalizer.canvas_scale))
    optimizer = nnx.Optimizer(model, make_optimizer(config, 1), wrt=nnx.Param)
    checkpoints = Checkpoints(workdir / "checkpoints")
    latest = checkpoints.latest_step()
    if latest is None:
        raise ValueError(f"{workdir} has no checkpoint")
    best = checkpoints.restore(latest, model, optimizer, ("loop",))["loop"]["best_epoch"]
    checkpoints.restore(best, model, optimizer)
    checkpoints.close()
    return Trained(config, normalizer, model, best)


# --------------------------------------------------------------------------- command line


def run(args: argparse.Namespace) -> int:
    """`qc-canvas predict --workdir W [--dataset D --split S --data-dir DIR --out CSV]`."""
    trained = load(args.workdir)
    config = trained.config
    dataset = args.dataset or config.dataset
    if dataset == "synthetic":
        if args.split not in ("train", "validation", "test"):
            raise ValueError(f"the synthetic dataset has no split {args.split!r}")
        source = open_splits(config)[args.split]
    else:
        keys = ("canvas", "positions", "atomic_numbers", "generating_scalars", *config.targets)
        source = TfdsSource(dataset, args.split, keys, args.data_dir or config.data_dir)
    metrics, arrays = trained.evaluate(source)
    out = args.out or epath.Path(args.workdir) / f"predictions_{args.split}.csv"
    write_predictions(out, arrays["pairs"], arrays["y_pred"], config.targets, arrays["y_true"])
    print(f"{len(arrays['pairs'])} pairs of {dataset} {args.split}, best epoch {trained.epoch}")
    labelled = partly_labelled(metrics)
    for target, mae in metrics["mae"].items():
        note = f" ({labelled[target]} labelled pairs)" if target in labelled else ""
        print(f"  MAE {target} {mae:.4g} {unit(target)}{note}")
    print(f"wrote {out}")
    return 0
