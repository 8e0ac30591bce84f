"""Training and evaluation: `train_and_evaluate(config, workdir)`, from one CPU to a TPU pod.

Data parallel with `jax.sharding`: a 1-D mesh with axis "data" over all devices; every batch is
sharded along its leading axis, parameters and optimiser state are replicated, and XLA inserts the
gradient all-reduce. The same code runs on one CPU, several GPUs and TPU; with
`config.distributed` each host calls `jax.distributed.initialize()` and feeds its slice of every
global batch.

The workdir receives:
  checkpoints/latest/   orbax: model + optimiser + loop state after the last finished epoch (resume)
  checkpoints/best/     orbax: the model with the best validation MAE so far
  normalizer.json       target and input scaling, fitted on the training split only
  metrics.jsonl         one record per epoch: losses, learning rate, validation MAE per target
  results.json          test metrics of the best checkpoint (physical units)
  learning_curve.png, parity_test.png

A run that is killed resumes from checkpoints/latest and ends where an uninterrupted run with the
same config would have ended. A NaN or inf training loss stops the run with `NonFiniteLossError`
before anything is saved, so checkpoints/latest stays the last good state.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
from flax import nnx
from jax.experimental.multihost_utils import process_allgather
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P
from qc_models import input_pipeline, plots
from qc_models.configs.base import Config, add_arguments, apply_overrides, load_config
from qc_models.input_pipeline import Dataset, Normalizer
from qc_models.registry import create_model
from tqdm.auto import tqdm


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or inf."""


def unit(target: str) -> str:
    """Physical unit from a label name's suffix (e_g_ev -> eV)."""
    suffixes = {"_ev": "eV", "_d": "D", "_ang": "Å", "_evinv": "1/eV", "_cm": "cm^-1"}
    return next((u for s, u in suffixes.items() if target.endswith(s)), "")


# --------------------------------------------------------------------------- data


def load_splits(config: Config) -> dict[str, Dataset]:
    """Raw train/validation/test arrays (physical units) for the config's dataset."""
    keys = (*input_pipeline.INPUT_KEYS, *config.targets)
    if config.dataset == "synthetic":
        data = input_pipeline.synthetic_dataset(config.num_synthetic, seed=config.split_seed)
        splits = input_pipeline.random_split(data, config.split_fractions, config.split_seed)
        return {name: {k: split[k] for k in keys} for name, split in splits.items()}
    names = ("train", "validation", "test")
    return {
        name: input_pipeline.load_tfds(config.dataset, split, keys, config.data_dir)
        for name, split in zip(names, config.tfds_splits, strict=True)
    }


def check_targets(splits: dict[str, Dataset], targets: Sequence[str]) -> None:
    """Refuses targets with missing (NaN) values, e.g. softness_evinv, defined for some pairs."""
    for name, split in splits.items():
        for t in targets:
            bad = int(np.sum(~np.isfinite(split[t])))
            if bad:
                raise ValueError(f"target {t!r} is NaN/inf for {bad} examples of the {name} split")


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


class Sharder:
    """Puts host batches on the mesh (sharded on "data") and replicates model state."""

    def __init__(self):
        self.mesh = jax.make_mesh(
            (jax.device_count(),), ("data",), axis_types=(jax.sharding.AxisType.Auto,)
        )
        self.data = NamedSharding(self.mesh, P("data"))
        self.replicated = NamedSharding(self.mesh, P())

    def check_batch_size(self, batch_size: int) -> None:
        if batch_size % jax.device_count():
            raise ValueError(
                f"batch size {batch_size} not divisible by {jax.device_count()} devices"
            )

    def batch(self, batch: Dataset) -> dict[str, jax.Array]:
        """Global host batch -> global device array; each process supplies its own slice."""
        n, p = jax.process_count(), jax.process_index()

        def put(x):
            local = x[p * len(x) // n : (p + 1) * len(x) // n]
            return jax.make_array_from_process_local_data(self.data, local)

        return {k: put(v) for k, v in batch.items()}

    def replicate(self, *nodes) -> None:
        nnx.update(nodes, jax.device_put(nnx.state(nodes), self.replicated))


# --------------------------------------------------------------------------- steps


def make_optimizer(config: Config, steps_per_epoch: int) -> optax.GradientTransformation:
    """Gradient clipping, then AdamW with warm-up + cosine decay or a constant (plateau) rate.

    The learning rate is an injected hyper-parameter, so the plateau rule can lower it between
    epochs and it is saved with the optimiser state.
    """
    if config.schedule == "cosine":
        warmup = config.warmup_epochs * steps_per_epoch
        total = config.num_epochs * steps_per_epoch
        lr = optax.warmup_cosine_decay_schedule(
            0.0, config.learning_rate, warmup, max(total, warmup + 1)
        )
    elif config.schedule == "plateau":
        lr = config.learning_rate
    else:
        raise ValueError(f"unknown schedule {config.schedule!r}")
    adamw = optax.inject_hyperparams(optax.adamw)(
        learning_rate=lr, weight_decay=config.weight_decay
    )
    return optax.chain(optax.clip_by_global_norm(config.grad_clip_norm), adamw)


def current_lr(optimizer: nnx.Optimizer) -> float:
    return float(optimizer.opt_state[1].hyperparams["learning_rate"][...])


def masked_loss(predictions: jax.Array, targets: jax.Array, mask: jax.Array, kind: str):
    """Mean over real examples and targets of |error| ("l1") or error^2 ("mse")."""
    error = predictions - targets
    per_example = jnp.mean(jnp.abs(error) if kind == "l1" else error**2, axis=-1)
    return jnp.sum(per_example * mask) / jnp.maximum(jnp.sum(mask), 1.0)


@nnx.jit(static_argnames="loss")
def train_step(model: nnx.Module, optimizer: nnx.Optimizer, batch: dict, loss: str) -> jax.Array:
    def loss_fn(model):
        return masked_loss(model(batch), batch["targets"], batch["mask"], loss)

    value, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return value


@nnx.jit
def predict_step(model: nnx.Module, batch: dict) -> jax.Array:
    return model(batch)


def predict(model, data: Dataset, batch_size: int, sharder: Sharder) -> np.ndarray:
    """Predictions [N, T] (scaled units) for a whole split, in order."""
    out = []
    for batch in input_pipeline.batches(data, batch_size):
        predictions = process_allgather(predict_step(model, sharder.batch(batch)), tiled=True)
        out.append(np.asarray(predictions)[batch["mask"] > 0])
    return np.concatenate(out)


def evaluate(model, data: Dataset, normalizer: Normalizer, config: Config, sharder: Sharder):
    """Loss (scaled), mean scaled MAE and per-target MAE in physical units; and [N, T] arrays."""
    scaled = predict(model, data, config.batch_size, sharder)
    error = scaled - data["targets"]
    loss = np.mean(np.abs(error) if config.loss == "l1" else error**2)
    y_true = normalizer.unscale_targets(data["targets"])
    y_pred = normalizer.unscale_targets(scaled)
    mae = np.mean(np.abs(y_pred - y_true), axis=0)
    metrics = {
        "loss": float(loss),
        "mae_scaled": float(np.mean(np.abs(error))),
        "mae": {t: float(m) for t, m in zip(config.targets, mae, strict=True)},
    }
    return metrics, y_true, y_pred


# --------------------------------------------------------------------------- state


@dataclasses.dataclass
class LoopState:
    """Host-side state of the loop, saved with every latest checkpoint."""

    epoch: int = 0  # last finished epoch
    best_val_mae: float = float("inf")  # mean scaled validation MAE
    best_epoch: int = 0
    epochs_since_best: int = 0
    plateau_best: float = float("inf")
    plateau_wait: int = 0


class Checkpoints:
    """Two orbax managers: `latest` (resume) and `best` (lowest validation MAE), one step each."""

    def __init__(self, directory: Path):
        options = ocp.CheckpointManagerOptions(max_to_keep=1, create=True)
        self.latest = ocp.CheckpointManager(directory / "latest", options=options)
        self.best = ocp.CheckpointManager(directory / "best", options=options)

    def save_latest(self, model, optimizer, loop: LoopState) -> None:
        args = ocp.args.Composite(
            state=ocp.args.StandardSave(nnx.state((model, optimizer))),
            loop=ocp.args.JsonSave(dataclasses.asdict(loop)),
        )
        self.latest.save(loop.epoch, args=args)
        self.latest.wait_until_finished()

    def save_best(self, model, epoch: int, metrics: dict) -> None:
        args = ocp.args.Composite(
            state=ocp.args.StandardSave(nnx.state(model)), metrics=ocp.args.JsonSave(metrics)
        )
        self.best.save(epoch, args=args)
        self.best.wait_until_finished()

    def restore_latest(self, model, optimizer) -> LoopState | None:
        step = self.latest.latest_step()
        if step is None:
            return None
        restored = self.latest.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(_abstract(nnx.state((model, optimizer)))),
                loop=ocp.args.JsonRestore(),
            ),
        )
        nnx.update((model, optimizer), restored["state"])
        return LoopState(**restored["loop"])

    def restore_best(self, model) -> dict:
        step = self.best.latest_step()
        restored = self.best.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(_abstract(nnx.state(model))),
                metrics=ocp.args.JsonRestore(),
            ),
        )
        nnx.update(model, restored["state"])
        return restored["metrics"]


def _abstract(state):
    return jax.tree.map(ocp.utils.to_shape_dtype_struct, state)


def _read_history(path: Path, up_to_epoch: int) -> list[dict]:
    """Metric records of epochs <= up_to_epoch (later ones belong to a run that was killed)."""
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if r["epoch"] <= up_to_epoch]


# --------------------------------------------------------------------------- the loop


def train_and_evaluate(
    config: Config, workdir: str | Path, *, stop_after_epoch: int | None = None
) -> dict:
    """Trains `config.model`, keeps the best and latest checkpoints, evaluates the best on test.

    Resumes from `workdir/checkpoints/latest` when it exists. `stop_after_epoch` ends the run
    after that epoch as if the process had been killed there (for tests and time-sliced jobs).

    Returns: the test metrics of the best checkpoint (also written to results.json), or, when
    stopped early by `stop_after_epoch`, {"stopped_after_epoch": epoch}.
    """
    if config.distributed:
        jax.distributed.initialize()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    main = jax.process_index() == 0

    splits = load_splits(config)
    check_targets(splits, config.targets)
    normalizer = Normalizer.fit(splits["train"], config.targets, config.target_scaling)
    if main:
        (workdir / "normalizer.json").write_text(json.dumps(normalizer.to_dict(), indent=1))
    data = {name: normalizer(split) for name, split in splits.items()}

    model = create_model(config, len(config.targets))
    check_cutoff(model, splits)
    if hasattr(model, "fit"):  # fitted baselines (constant)
        model.fit(data["train"]["targets"])
    sharder = Sharder()
    sharder.check_batch_size(config.batch_size)
    steps_per_epoch = input_pipeline.num_examples(data["train"]) // config.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"training split smaller than one batch of {config.batch_size}")
    optimizer = nnx.Optimizer(model, make_optimizer(config, steps_per_epoch), wrt=nnx.Param)
    sharder.replicate(model, optimizer)

    checkpoints = Checkpoints(workdir / "checkpoints")
    loop = checkpoints.restore_latest(model, optimizer) or LoopState()
    metrics_path = workdir / "metrics.jsonl"
    history = _read_history(metrics_path, loop.epoch)
    if main:
        metrics_path.write_text("".join(json.dumps(r) + "\n" for r in history))
        if loop.epoch:
            tqdm.write(f"resumed from epoch {loop.epoch} in {workdir}")

    # cached_partial skips re-traversing the model graph on every call (cheap steps for small nets)
    step_fn = nnx.cached_partial(train_step, model, optimizer)
    for epoch in range(loop.epoch + 1, config.num_epochs + 1):
        if loop.epochs_since_best >= config.early_stopping_patience:
            break
        start = time.time()
        losses = []
        bar = tqdm(
            input_pipeline.batches(
                data["train"], config.batch_size, seed=config.seed, epoch=epoch, drop_remainder=True
            ),
            total=steps_per_epoch,
            desc=f"epoch {epoch}/{config.num_epochs}",
            disable=not (config.progress and main),
            leave=False,
        )
        for batch in bar:
            losses.append(step_fn(sharder.batch(batch), config.loss))
        losses = np.asarray(jnp.stack(losses))
        if not np.all(np.isfinite(losses)):
            step = (epoch - 1) * steps_per_epoch + int(np.argmin(np.isfinite(losses)))
            raise NonFiniteLossError(
                f"training loss is {losses[~np.isfinite(losses)][0]} at step {step} (epoch "
                f"{epoch}); stopped. The last good state is the checkpoint of epoch {loop.epoch} "
                f"in {workdir / 'checkpoints' / 'latest'}. Lower the learning rate or check the "
                "data for NaN/inf."
            )

        val, _, _ = evaluate(model, data["validation"], normalizer, config, sharder)
        loop.epoch = epoch
        improved = val["mae_scaled"] < loop.best_val_mae
        if improved:
            loop.best_val_mae, loop.best_epoch, loop.epochs_since_best = val["mae_scaled"], epoch, 0
            checkpoints.save_best(model, epoch, val)
        else:
            loop.epochs_since_best += 1
        lr = current_lr(optimizer)
        if config.schedule == "plateau":
            _plateau(loop, optimizer, val["mae_scaled"], config)
        record = {
            "epoch": epoch,
            "train_loss": float(losses.mean()),
            "val_loss": val["loss"],
            "val_mae_scaled": val["mae_scaled"],
            "val_mae": val["mae"],
            "learning_rate": lr,
            "seconds": round(time.time() - start, 3),
        }
        history.append(record)
        checkpoints.save_latest(model, optimizer, loop)
        if main:
            with metrics_path.open("a") as f:
                f.write(json.dumps(record) + "\n")
            maes = "  ".join(f"{t} {m:.4g} {unit(t)}" for t, m in val["mae"].items())
            tqdm.write(
                f"epoch {epoch:3d}  train {record['train_loss']:.4f}  val {val['loss']:.4f}  "
                f"{'*' if improved else ' '} {maes}"
            )
        if epoch == stop_after_epoch:
            return {"stopped_after_epoch": epoch}

    best = checkpoints.restore_best(model)
    test, y_true, y_pred = evaluate(model, data["test"], normalizer, config, sharder)
    results = {
        "model": config.model,
        "best_epoch": loop.best_epoch,
        "epochs_run": loop.epoch,
        "val_mae": best["mae"],
        "test_mae": test["mae"],
        "test_mae_scaled": test["mae_scaled"],
        "units": {t: unit(t) for t in config.targets},
    }
    if main:
        (workdir / "results.json").write_text(json.dumps(results, indent=1))
        plots.learning_curve(history, workdir / "learning_curve.png")
        plots.parity(
            y_true,
            y_pred,
            [f"{t} ({unit(t)})" for t in config.targets],
            workdir / "parity_test.png",
            title=f"{config.model}, test split, best epoch {loop.best_epoch}",
        )
    return results


def _plateau(loop: LoopState, optimizer: nnx.Optimizer, metric: float, config: Config) -> None:
    """ReduceLROnPlateau on the validation MAE: lr *= factor after `patience` flat epochs."""
    if metric < loop.plateau_best:
        loop.plateau_best, loop.plateau_wait = metric, 0
        return
    loop.plateau_wait += 1
    if loop.plateau_wait > config.plateau_patience:
        optimizer.opt_state[1].hyperparams["learning_rate"][...] = (
            current_lr(optimizer) * config.plateau_factor
        )
        loop.plateau_wait = 0


# --------------------------------------------------------------------------- command line


def run(args: argparse.Namespace) -> int:
    config = apply_overrides(load_config(args.config), args.set)
    results = train_and_evaluate(config, args.workdir)
    print(json.dumps(results, indent=1))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qc_models.train", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
