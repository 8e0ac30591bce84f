"""Training and evaluation: `train_and_evaluate(config, workdir)`, from one CPU to a TPU pod.

Data parallel over all devices of all processes (`qc_models.parallel`); each process reads only
its share of every global batch through grain (`qc_models.sources`: `tfds.data_source`, no
TensorFlow), so n processes together train exactly as one process would. With
`config.distributed` each process first joins the group with `jax.distributed.initialize()`.

The workdir (a local folder or `gs://...`, `etils.epath`) receives:
  config.json           the config; resuming with another config is refused
  checkpoints/<epoch>/  orbax: the latest epoch (resume) and the best one (lowest validation MAE)
  normalizer.json       target and input scaling, fitted on the training split only
  metrics.jsonl         one record per epoch: losses, learning rate, validation MAE, steps/s,
                        the epoch's seconds and the run's `elapsed_s` since its start
  tensorboard/          the same as TensorBoard scalars
  learning_curve.png, parity_test.png
  results.json          test metrics of the best checkpoint (physical units); `test_labelled`:
                        the labelled test pairs of each target that some of them lack; `wall_s`:
                        the run's seconds, over every process that trained it
  predictions_test.csv  per-pair test predictions and true values (physical units)

A label may be missing (NaN) for some pairs, e.g. `i_ev` where an ion's SCF did not converge:
such a pair counts for its other targets only, in the target scaling, the loss and every metric
(`input_pipeline`, `steps.masked_loss`, `evaluation`). A target without any finite training
label is refused.

A run that is killed resumes from its latest checkpoint (model, optimiser, loop state and the
input iterator's position) and ends where an uninterrupted run with the same config would have
ended; its clock goes on from the `elapsed_s` of the resumed epoch (the killed process's time
after that epoch is not counted). A NaN or inf training loss stops the run with
`NonFiniteLossError` before anything is saved, so the latest checkpoint stays the last good
state. `qc_models.load(workdir)` gives the trained model back.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np
from etils import epath
from flax import nnx
from tqdm.auto import tqdm

from qc_jax.chem.labels import unit
from qc_models import parallel, plots
from qc_models.checkpoints import Checkpoints
from qc_models.configs.base import Config, add_arguments, apply_overrides, load_config
from qc_models.evaluation import evaluate, partly_labelled, write_predictions
from qc_models.input_pipeline import Dataset, Normalizer
from qc_models.registry import create_model
from qc_models.sources import READ_OPTIONS, gather_split, open_splits, training_batches
from qc_models.steps import (
    Plateau,
    current_lr,
    make_optimizer,
    masked_loss,
    predict_step,
    train_step,
)
from qc_models.workdir import MetricLog, claim, open_workdir

__all__ = [
    "NonFiniteLossError",
    "make_optimizer",
    "masked_loss",
    "predict_step",
    "train_and_evaluate",
    "train_step",
    "unit",
]

#: Label columns read for the checks and the target scaling (besides the targets).
COLUMNS = ("generating_scalars", "positions", "atomic_numbers")


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or inf."""


def check_cutoff(model: nnx.Module, splits: dict[str, Dataset]) -> None:
    """Refuses a geometric model whose cutoff does not cover every bond of the data."""
    cutoff = getattr(model, "cutoff", None)
    if cutoff is None:
        return
    longest = max(
        float(np.linalg.norm(s["positions"][:, 1] - s["positions"][:, 0], axis=-1).max())
        for s in splits.values()
    )
    if longest >= cutoff:
        raise ValueError(f"cutoff {cutoff} Å does not cover the longest bond ({longest:.2f} Å)")


@dataclasses.dataclass
class LoopState:
    """Host-side state of the loop, saved with every checkpoint."""

    epoch: int = 0  # last finished epoch
    best_val_mae: float = float("inf")  # mean scaled validation MAE
    best_epoch: int = 0
    epochs_since_best: int = 0
    plateau: dict = dataclasses.field(default_factory=dict)  # optax reduce_on_plateau state


def train_and_evaluate(
    config: Config, workdir: epath.PathLike, *, stop_after_epoch: int | None = None
) -> dict:
    """Trains `config.model`, keeps the best and latest checkpoints, evaluates the best on test.

    Resumes from the workdir's latest checkpoint when there is one (same config only).
    `stop_after_epoch` ends the run after that epoch as if the process had been killed there (for
    tests and time-sliced jobs).

    Returns: the test metrics of the best checkpoint and the run's `wall_s` (also written to
    results.json), or, when stopped early by `stop_after_epoch`, {"stopped_after_epoch": epoch}.
    """
    started = time.perf_counter()
    parallel.initialize(config.distributed)
    workdir = open_workdir(workdir)
    checkpoints = Checkpoints(workdir / "checkpoints")
    latest = checkpoints.latest_step()
    claim(workdir, config, resuming=latest is not None)
    main = parallel.is_main()

    sources = open_splits(config)
    columns, moments = {}, {}
    for name, source in sources.items():
        columns[name], moments[name] = gather_split(source, (*config.targets, *COLUMNS))
    # the constant predictor stays one number per target: the skill ratios' reference
    referenced = () if config.model == "constant" else config.atom_reference
    normalizer = Normalizer.from_statistics(
        columns["train"], moments["train"], config.targets, config.target_scaling, referenced
    )
    normalizer.pixel_permutation_seed = config.pixel_permutation_seed
    if main:
        (workdir / "normalizer.json").write_text(json.dumps(normalizer.to_dict(), indent=1))

    model = create_model(config, len(config.targets), in_channels=len(normalizer.canvas_scale))
    check_cutoff(model, columns)
    if hasattr(model, "fit"):  # fitted baselines (constant)
        train = columns["train"]
        y = np.stack([train[t] for t in config.targets], 1)
        model.fit(normalizer.scale_targets(y, train["atomic_numbers"]))
    sharder = parallel.Sharder()
    sharder.check_batch_size(config.batch_size)
    steps_per_epoch = len(sources["train"]) // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"training split smaller than one batch of {config.batch_size}")
    optimizer = nnx.Optimizer(model, make_optimizer(config, steps_per_epoch), wrt=nnx.Param)
    sharder.replicate(model, optimizer)
    plateau = Plateau(config) if config.schedule == "plateau" else None

    batches = training_batches(
        sources["train"],
        normalizer,
        config.batch_size,
        seed=config.seed,
        num_epochs=config.num_epochs,
    ).to_iter_dataset(READ_OPTIONS)
    iterator = iter(batches)
    loop = LoopState(plateau=plateau.init() if plateau else {})
    if latest is not None:
        saved = checkpoints.restore(latest, model, optimizer, ("loop", "data"))
        loop = LoopState(**saved["loop"])
        iterator.set_state(saved["data"])
        if main:
            tqdm.write(f"resumed from epoch {loop.epoch} in {workdir}")
    log = MetricLog(workdir, loop.epoch)
    # seconds of the processes before a resume, up to the resumed epoch
    earlier_s = log.history[-1].get("elapsed_s", 0.0) if log.history else 0.0

    def elapsed_s() -> float:
        return earlier_s + time.perf_counter() - started

    # cached_partial skips re-traversing the model graph on every call (cheap steps for small nets)
    step_fn = nnx.cached_partial(train_step, model, optimizer)
    for epoch in range(loop.epoch + 1, config.num_epochs + 1):
        if loop.epochs_since_best >= config.early_stopping_patience:
            break
        start = time.perf_counter()
        steps = tqdm(
            range(steps_per_epoch),
            desc=f"epoch {epoch}/{config.num_epochs}",
            disable=not (config.progress and main),
            leave=False,
        )
        losses = np.asarray(
            jnp.stack([step_fn(sharder.batch(next(iterator)), config.loss) for _ in steps])
        )
        seconds = time.perf_counter() - start
        if not np.all(np.isfinite(losses)):
            step = (epoch - 1) * steps_per_epoch + int(np.argmin(np.isfinite(losses)))
            raise NonFiniteLossError(
                f"training loss is {losses[~np.isfinite(losses)][0]} at step {step} (epoch "
                f"{epoch}); stopped. The last good state is the checkpoint of epoch {loop.epoch} "
                f"in {workdir / 'checkpoints'}. Lower the learning rate or check the data for "
                "NaN/inf."
            )

        val, _ = evaluate(
            model, sources["validation"], normalizer, config.loss, config.batch_size, sharder
        )
        loop.epoch = epoch
        improved = val["mae_scaled"] < loop.best_val_mae
        if improved:
            loop.best_val_mae, loop.best_epoch, loop.epochs_since_best = val["mae_scaled"], epoch, 0
        else:
            loop.epochs_since_best += 1
        lr = current_lr(optimizer)
        if plateau:
            loop.plateau = plateau.update(loop.plateau, val["mae_scaled"], optimizer)
        record = {
            "epoch": epoch,
            "train_loss": float(losses.mean()),
            "val_loss": val["loss"],
            "val_mae_scaled": val["mae_scaled"],
            "val_mae": val["mae"],
            "learning_rate": lr,
            "steps_per_second": round(steps_per_epoch / seconds, 2),
            "seconds": round(seconds, 3),
            "elapsed_s": round(elapsed_s(), 3),
        }
        log.write(record)
        checkpoints.save(
            epoch,
            model,
            optimizer,
            {"val_mae_scaled": val["mae_scaled"], "epoch": epoch},
            loop=dataclasses.asdict(loop),
            data=iterator.get_state(),
        )
        if main and config.progress:
            maes = "  ".join(f"{t} {m:.4g} {unit(t)}" for t, m in val["mae"].items())
            tqdm.write(
                f"epoch {epoch:3d}  train {record['train_loss']:.4f}  val {val['loss']:.4f}  "
                f"{'*' if improved else ' '} {maes}  {record['steps_per_second']:.1f} steps/s"
            )
        if epoch == stop_after_epoch:
            log.close()
            return {"stopped_after_epoch": epoch}
    log.close()

    checkpoints.restore(loop.best_epoch, model, optimizer)
    test, arrays = evaluate(
        model, sources["test"], normalizer, config.loss, config.batch_size, sharder
    )
    best = next(r for r in log.history if r["epoch"] == loop.best_epoch)
    results = {
        "model": config.model,
        "best_epoch": loop.best_epoch,
        "epochs_run": loop.epoch,
        "val_mae": best["val_mae"],
        "test_mae": test["mae"],
        "test_mae_scaled": test["mae_scaled"],
        "test_pairs": test["pairs"],
        "test_labelled": partly_labelled(test),
        "units": {t: unit(t) for t in config.targets},
    }
    if main:
        write_predictions(
            workdir / "predictions_test.csv",
            arrays["pairs"],
            arrays["y_pred"],
            config.targets,
            arrays["y_true"],
        )
        plots.learning_curve(log.history, workdir / "learning_curve.png")
        plots.parity(
            arrays["y_true"],
            arrays["y_pred"],
            [f"{t} ({unit(t)})" for t in config.targets],
            workdir / "parity_test.png",
            title=f"{config.model}, test split, best epoch {loop.best_epoch}",
        )
    results["wall_s"] = round(elapsed_s(), 1)
    if main:  # last: a workdir with results.json holds a finished run
        (workdir / "results.json").write_text(json.dumps(results, indent=1))
    return results


# --------------------------------------------------------------------------- command line


def run(args: argparse.Namespace) -> int:
    config = apply_overrides(load_config(args.config), args.set)
    results = train_and_evaluate(config, args.workdir)
    print(json.dumps(results, indent=1))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qc_models.train", description=__doc__)
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except ValueError as error:  # bad --config or --set value, another run's workdir, bad data
        parser.exit(2, f"{parser.prog}: error: {error}\n")


if __name__ == "__main__":
    raise SystemExit(main())
