"""E(n)-equivariant graph neural network (Satorras, Hoogeboom & Welling 2021), coordinates updated.

Unlike the paper's "EGNN" (a GCN on atomic numbers), this is the real thing. Per layer, on a
complete graph of the atoms:

    m_ij = phi_e(h_i, h_j, |x_i - x_j|^2)
    x_i <- x_i + 1/(N-1) sum_{j != i} (x_i - x_j) phi_x(m_ij)
    h_i <- h_i + phi_h(h_i, sum_{j != i} m_ij)

h is invariant and x equivariant under rotations, reflections and translations of the positions,
and both are equivariant under permutations of the atoms. Regression reads the invariant h only;
`encode` also returns the updated coordinates. A complete graph needs no cutoff.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.layers import MLP, AtomEmbedding, pair_geometry


class EGNNLayer(nnx.Module):
    """One E(n) layer: (h [B, N, F], x [B, N, 3]) -> (h, x)."""

    def __init__(self, features: int, *, rngs: nnx.Rngs):
        self.phi_e = MLP([2 * features + 1, features, features], activate_final=True, rngs=rngs)
        self.phi_x = MLP([features, features, 1], rngs=rngs)
        self.phi_h = MLP([2 * features, features, features], rngs=rngs)

    def __call__(self, h: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        n = h.shape[1]
        vectors, distances, mask = pair_geometry(x)  # vectors[b, i, j] = x_j - x_i
        pairs = jnp.concatenate(
            [
                jnp.broadcast_to(h[:, :, None], (*h.shape[:2], n, h.shape[2])),
                jnp.broadcast_to(h[:, None, :], (*h.shape[:2], n, h.shape[2])),
                distances[..., None] ** 2,
            ],
            axis=-1,
        )
        m = self.phi_e(pairs) * mask[..., None]  # [B, i, j, F]
        x = x - jnp.sum(vectors * self.phi_x(m) * mask[..., None], axis=2) / max(n - 1, 1)
        h = h + self.phi_h(jnp.concatenate([h, jnp.sum(m, axis=2)], axis=-1))
        return h, x


class EGNN(nnx.Module):
    """batch["atomic_numbers"] [B, N], batch["positions"] [B, N, 3] -> [B, num_targets]."""

    def __init__(
        self, num_targets: int, *, features: int = 64, num_layers: int = 4, rngs: nnx.Rngs
    ):
        self.embed = AtomEmbedding(features, rngs=rngs)
        self.layers = nnx.List([EGNNLayer(features, rngs=rngs) for _ in range(num_layers)])
        self.head = MLP([features, features, num_targets], rngs=rngs)

    def encode(self, batch: dict) -> tuple[jax.Array, jax.Array]:
        """Invariant node features [B, N, F] and equivariant coordinates [B, N, 3] (Angstrom)."""
        h, x = self.embed(batch["atomic_numbers"]), batch["positions"]
        for layer in self.layers:
            h, x = layer(h, x)
        return h, x

    def __call__(self, batch: dict) -> jax.Array:
        return self.head(jnp.sum(self.encode(batch)[0], axis=1))
