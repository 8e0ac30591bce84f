"""GCN (Kipf & Welling 2017) on atomic-number embeddings; it sees no geometry.

The paper's strongest HOMO/LUMO model (named "EGNN" there) was this kind of network. Each atom is
connected to every other atom and to itself; with symmetric normalisation D^-1/2 (A + I) D^-1/2 of a
complete graph every node receives the mean over all nodes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.layers import MLP, AtomEmbedding


class GCN(nnx.Module):
    """batch["atomic_numbers"] [B, N] -> [B, num_targets]."""

    def __init__(
        self, num_targets: int, *, features: int = 64, num_layers: int = 3, rngs: nnx.Rngs
    ):
        self.embed = AtomEmbedding(features, rngs=rngs)
        self.layers = nnx.List(
            [nnx.Linear(features, features, rngs=rngs) for _ in range(num_layers)]
        )
        self.head = MLP([features, features, num_targets], rngs=rngs)

    def encode(self, batch: dict) -> jax.Array:
        """Node features [B, N, F]."""
        h = self.embed(batch["atomic_numbers"])
        for layer in self.layers:
            h = h + nnx.silu(layer(jnp.mean(h, axis=1, keepdims=True)))
        return h

    def __call__(self, batch: dict) -> jax.Array:
        return self.head(jnp.sum(self.encode(batch), axis=1))
