"""GATv2 (Brody et al. 2022) on atomic-number embeddings; it sees no geometry.

The paper's best band-gap model. Attention runs over all atoms including the atom itself (self
loops):
e_ij = a . LeakyReLU(W_r h_i + W_l h_j), alpha_ij = softmax_j e_ij, h_i' = sum_j alpha_ij W_l h_j,
with several heads concatenated, then a residual connection and LayerNorm.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.layers import MLP, AtomEmbedding


class GATv2Layer(nnx.Module):
    """One multi-head GATv2 layer on a complete graph with self loops: [B, N, F] -> [B, N, F]."""

    def __init__(self, features: int, num_heads: int, *, rngs: nnx.Rngs):
        assert features % num_heads == 0, "features must be divisible by num_heads"
        self.num_heads = num_heads
        self.w_left = nnx.Linear(features, features, rngs=rngs)
        self.w_right = nnx.Linear(features, features, rngs=rngs)
        self.attention = nnx.Param(
            nnx.initializers.lecun_normal()(rngs.params(), (num_heads, features // num_heads))
        )
        self.norm = nnx.LayerNorm(features, rngs=rngs)

    def __call__(self, h: jax.Array) -> jax.Array:
        b, n, f = h.shape
        left = self.w_left(h).reshape(b, n, self.num_heads, -1)  # source j
        right = self.w_right(h).reshape(b, n, self.num_heads, -1)  # target i
        pair = nnx.leaky_relu(right[:, :, None] + left[:, None, :], 0.2)  # [B, i, j, H, F/H]
        scores = jnp.einsum("bijhf,hf->bijh", pair, self.attention[...])
        alpha = jax.nn.softmax(scores, axis=2)
        out = jnp.einsum("bijh,bjhf->bihf", alpha, left).reshape(b, n, f)
        return self.norm(h + nnx.silu(out))


class GATv2(nnx.Module):
    """batch["atomic_numbers"] [B, N] -> [B, num_targets]."""

    def __init__(
        self,
        num_targets: int,
        *,
        features: int = 64,
        num_layers: int = 3,
        num_heads: int = 4,
        rngs: nnx.Rngs,
    ):
        self.embed = AtomEmbedding(features, rngs=rngs)
        self.layers = nnx.List(
            [GATv2Layer(features, num_heads, rngs=rngs) for _ in range(num_layers)]
        )
        self.head = MLP([features, features, num_targets], rngs=rngs)

    def encode(self, batch: dict) -> jax.Array:
        """Node features [B, N, F]."""
        h = self.embed(batch["atomic_numbers"])
        for layer in self.layers:
            h = layer(h)
        return h

    def __call__(self, batch: dict) -> jax.Array:
        return self.head(jnp.sum(self.encode(batch), axis=1))
