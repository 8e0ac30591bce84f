"""SchNet (Schuett et al. 2018): continuous-filter convolutions over interatomic distances.

Filters are an MLP of Gaussian radial features times a cosine cutoff; the default cutoff (8
Angstrom) covers the longest bond of the data, unlike the paper's 5 Angstrom.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.layers import (
    DEFAULT_CUTOFF,
    MLP,
    AtomEmbedding,
    cosine_cutoff,
    gaussian_rbf,
    pair_geometry,
    shifted_softplus,
)


class Interaction(nnx.Module):
    """cfconv interaction: h_i += Dense(ssp(Dense(sum_j W(r_ij) * Dense(h_j))))."""

    def __init__(self, features: int, num_rbf: int, *, rngs: nnx.Rngs):
        self.filter = MLP([num_rbf, features, features], activation=shifted_softplus, rngs=rngs)
        self.in_proj = nnx.Linear(features, features, use_bias=False, rngs=rngs)
        self.out = MLP([features, features, features], activation=shifted_softplus, rngs=rngs)

    def __call__(self, h: jax.Array, rbf: jax.Array, envelope: jax.Array) -> jax.Array:
        w = self.filter(rbf) * envelope[..., None]  # [B, i, j, F]
        messages = jnp.einsum("bijf,bjf->bif", w, self.in_proj(h))
        return h + self.out(messages)


class SchNet(nnx.Module):
    """batch["atomic_numbers"] [B, N], batch["positions"] [B, N, 3] -> [B, num_targets]."""

    def __init__(
        self,
        num_targets: int,
        *,
        features: int = 64,
        num_interactions: int = 3,
        num_rbf: int = 50,
        cutoff: float = DEFAULT_CUTOFF,
        rngs: nnx.Rngs,
    ):
        self.cutoff, self.num_rbf = cutoff, num_rbf
        self.embed = AtomEmbedding(features, rngs=rngs)
        self.interactions = nnx.List(
            [Interaction(features, num_rbf, rngs=rngs) for _ in range(num_interactions)]
        )
        self.head = MLP([features, features, num_targets], activation=shifted_softplus, rngs=rngs)

    def encode(self, batch: dict) -> jax.Array:
        """Node features [B, N, F]."""
        _, distances, mask = pair_geometry(batch["positions"])
        rbf = gaussian_rbf(distances, self.num_rbf, self.cutoff)
        envelope = cosine_cutoff(distances, self.cutoff) * mask
        h = self.embed(batch["atomic_numbers"])
        for interaction in self.interactions:
            h = interaction(h, rbf, envelope)
        return h

    def __call__(self, batch: dict) -> jax.Array:
        return self.head(jnp.sum(self.encode(batch), axis=1))
