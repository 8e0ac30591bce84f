"""Checkpoints: one orbax `CheckpointManager` that keeps the latest and the best epoch.

Every epoch saves the model, the optimiser, the loop state and the input iterator's position
(`workdir/checkpoints/<epoch>`) with that epoch's validation metrics; the preservation policy keeps
the latest checkpoint (to resume) and the one with the lowest validation MAE, the earliest on ties
(to evaluate and predict), and deletes the others. The directory is an `etils.epath.Path`, so
`gs://bucket/run/checkpoints` works as a local folder does.
"""

from __future__ import annotations

from typing import Any

import jax
import orbax.checkpoint as ocp
from etils import epath
from flax import nnx
from orbax.checkpoint import checkpoint_managers as policies


def best_key(metrics: dict) -> tuple[float, int]:
    """Rank of an epoch's checkpoint: lower validation MAE first, then the earlier epoch."""
    return metrics["val_mae_scaled"], metrics["epoch"]


class Checkpoints:
    """Saves and restores (model, optimizer) state plus JSON side items, one step per epoch."""

    def __init__(self, directory: epath.PathLike):
        keep = policies.AnyPreservationPolicy(
            [policies.LatestN(n=1), policies.BestN(get_metric_fn=best_key, reverse=True, n=1)]
        )
        options = ocp.CheckpointManagerOptions(
            create=True, preservation_policy=keep
        )
        self.manager = ocp.CheckpointManager(epath.Path(directory), options=options)

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def save(self, step: int, model, optimizer, metrics: dict, **json_items: Any) -> None:
        """Saves step `step` (the epoch) and waits until it is written.

        metrics: {"val_mae_scaled": float, "epoch": int, ...}, ranked by `best_key`;
        json_items: small JSON-serialisable values (loop state, iterator position).
        """
        args = {
            "state": ocp.args.StandardSave(nnx.state((model, optimizer))),
            **{name: ocp.args.JsonSave(value) for name, value in json_items.items()},
        }
        self.manager.save(step, args=ocp.args.Composite(**args), metrics=metrics)
        self.manager.wait_until_finished()

    def restore(self, step: int, model, optimizer, json_names: tuple[str, ...] = ()) -> dict:
        """Restores step `step` into `model` and `optimizer`; returns the named JSON items."""
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, nnx.state((model, optimizer)))
        args = {
            "state": ocp.args.StandardRestore(abstract),
            **{name: ocp.args.JsonRestore() for name in json_names},
        }
        restored = self.manager.restore(step, args=ocp.args.Composite(**args))
        nnx.update((model, optimizer), restored["state"])
        return {name: restored[name] for name in json_names}

    def close(self) -> None:
        self.manager.close()
