"""Baselines that tell the truth about the models.

- `Constant`: predicts the training-set median of every target (fitted, not trained). Registered
  twice: `constant`, one number per target (the skill ratios' reference), and `atom_reference`,
  which has the energies' per-element references (`input_pipeline.fit_atom_reference`) like every
  trained model, so it predicts e[Z_A] + e[Z_B] + the median residual: the reference alone.
- `PairMLP`: an element-pair lookup: an MLP on the two atomic-number embeddings, symmetric in the
  two atoms. It knows which pair it sees and nothing else (no canvas, no geometry).
- `ScalarMLP`: an MLP on the paper's generating scalars (`generating_scalars`, see
  `input_pipeline`): the information the paper's images were drawn from.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from qc_models.layers import MLP, AtomEmbedding


class Constant(nnx.Module):
    """[B, ...] -> [B, num_targets], the same value for every input."""

    def __init__(self, num_targets: int, *, rngs: nnx.Rngs | None = None):
        del rngs
        self.value = nnx.Variable(jnp.zeros(num_targets))

    def fit(self, targets: np.ndarray) -> None:
        """Sets the prediction to the median of the (scaled) training targets [N, T], over the
        finite labels of each target (NaN: a missing label)."""
        self.value.set_value(jnp.asarray(np.nanmedian(targets, axis=0), jnp.float32))

    def __call__(self, batch: dict) -> jax.Array:
        n = batch["atomic_numbers"].shape[0]
        return jnp.broadcast_to(self.value[...], (n, self.value.shape[0]))


class PairMLP(nnx.Module):
    """batch["atomic_numbers"] [B, 2] -> [B, num_targets], invariant to swapping the atoms."""

    def __init__(self, num_targets: int, *, features: int = 64, rngs: nnx.Rngs):
        self.embed = AtomEmbedding(features, rngs=rngs)
        self.mlp = MLP([2 * features, features, features, num_targets], rngs=rngs)

    def __call__(self, batch: dict) -> jax.Array:
        e = self.embed(batch["atomic_numbers"])
        symmetric = [jnp.sum(e, axis=1), jnp.prod(e, axis=1)]
        return self.mlp(jnp.concatenate(symmetric, axis=-1))


class ScalarMLP(nnx.Module):
    """batch["generating_scalars"] [B, S] -> [B, num_targets]."""

    def __init__(
        self, num_targets: int, *, features: int = 64, num_scalars: int = 6, rngs: nnx.Rngs
    ):
        self.mlp = MLP([num_scalars, features, features, num_targets], rngs=rngs)

    def __call__(self, batch: dict) -> jax.Array:
        return self.mlp(batch["generating_scalars"])
