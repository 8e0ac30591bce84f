"""The optimiser, the loss and the jit-compiled training and prediction steps."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from qc_models.configs.base import Config


def make_optimizer(config: Config, steps_per_epoch: int) -> optax.GradientTransformation:
    """Gradient clipping, then AdamW with warm-up + cosine decay or a constant (plateau) rate.

    The learning rate is an injected hyper-parameter, so the plateau rule (`Plateau`) can lower it
    between epochs and it is saved with the optimiser state.
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


class Plateau:
    """Reduce-on-plateau of the learning rate on the validation MAE, once per epoch.

    `optax.contrib.reduce_on_plateau` keeps the scale: after `config.plateau_patience` epochs
    without a better validation MAE, the scale is multiplied by `config.plateau_factor`; the
    learning rate is `config.learning_rate * scale`. The state is plain JSON (saved with the loop).
    """

    def __init__(self, config: Config):
        self.base_lr = config.learning_rate
        self.rule = optax.contrib.reduce_on_plateau(
            factor=config.plateau_factor, patience=config.plateau_patience
        )

    def init(self) -> dict:
        return _to_json(self.rule.init({}))

    def update(self, state: dict, val_mae: float, optimizer: nnx.Optimizer) -> dict:
        """Feeds one epoch's validation MAE; sets the optimiser's learning rate; new state."""
        template = self.rule.init({})
        current = type(template)(
            **{k: jnp.asarray(v, getattr(template, k).dtype) for k, v in state.items()}
        )
        _, new = self.rule.update({}, current, value=jnp.asarray(val_mae, jnp.float32))
        optimizer.opt_state[1].hyperparams["learning_rate"][...] = self.base_lr * new.scale
        return _to_json(new)


def _to_json(state) -> dict:
    return {k: v.item() for k, v in state._asdict().items()}


def masked_loss(
    predictions: jax.Array,
    targets: jax.Array,
    mask: jax.Array,
    target_mask: jax.Array,
    kind: str,
    censored: jax.Array | None = None,
) -> jax.Array:
    """Mean of |error| ("l1") or error^2 ("mse") over the real (example, target) entries.

    predictions, targets: [B, T] scaled (a missing label's target must be finite: the input
    pipeline gives 0); mask: [B], 0 for padding; target_mask: [B, T], 0 for a missing label;
    censored: [B, T], 1 where a non-negative label is 0 (`Normalizer`): there the error is
    max(error, 0), as the prediction is max(output, 0) (a gap of 0 is predicted by any output
    <= 0, so a metal-like pair can be pushed below 0 with a margin).
    Each example's mean over its T targets (missing ones as 0) is summed over the real examples
    and divided by the summed fractions of labelled targets; a batch without any real entry has
    loss 0. With every label present, the masks only multiply by 1 and every fraction is 1: the
    loss is the mean over real examples of their mean over targets, as before labels could be
    missing, bit for bit when run op by op (under jit, XLA's fusion may reorder the sums of
    either form in the last bit).
    """
    error = predictions - targets
    if censored is not None:
        error = jnp.where(censored > 0, jnp.maximum(error, 0.0), error)
    per_example = jnp.mean((jnp.abs(error) if kind == "l1" else error**2) * target_mask, axis=-1)
    real = jnp.sum(jnp.mean(target_mask, axis=-1) * mask)
    return jnp.sum(per_example * mask) / jnp.where(real > 0, real, 1.0)


@nnx.jit(static_argnames="loss")
def train_step(model: nnx.Module, optimizer: nnx.Optimizer, batch: dict, loss: str) -> jax.Array:
    def loss_fn(model):
        return masked_loss(
            model(batch), batch["targets"], batch["mask"], batch["target_mask"], loss,
            batch.get("target_censored"),
        )

    value, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return value


@nnx.jit
def predict_step(model: nnx.Module, batch: dict) -> jax.Array:
    return model(batch)
