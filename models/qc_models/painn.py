"""PaiNN (Schuett, Unke & Gastegger 2021): equivariant message passing, scalar and vector features.

Scalars s [B, N, F] are invariant, vectors v [B, N, 3, F] rotate with the positions; the regression
reads s. Radial filters: Bessel basis times a cosine cutoff (default 8 Angstrom, beyond the longest
bond of the data).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.layers import (
    DEFAULT_CUTOFF,
    MLP,
    AtomEmbedding,
    bessel_rbf,
    cosine_cutoff,
    pair_geometry,
)


def _norm(v: jax.Array, axis: int = -2) -> jax.Array:
    """Euclidean norm with a finite gradient at zero."""
    return jnp.sqrt(jnp.sum(v**2, axis=axis) + 1e-8)


class Message(nnx.Module):
    def __init__(self, features: int, num_rbf: int, *, rngs: nnx.Rngs):
        self.features = features
        self.phi = MLP([features, features, 3 * features], rngs=rngs)
        self.filter = nnx.Linear(num_rbf, 3 * features, rngs=rngs)

    def __call__(self, s, v, rbf, envelope, unit):
        x = self.phi(s)[:, None, :, :] * self.filter(rbf) * envelope[..., None]  # [B, i, j, 3F]
        x_s, x_vv, x_vs = jnp.split(x, 3, axis=-1)
        ds = jnp.sum(x_s, axis=2)
        dv = jnp.sum(
            v[:, None] * x_vv[:, :, :, None, :] + x_vs[:, :, :, None, :] * unit[..., None], axis=2
        )
        return s + ds, v + dv


class Update(nnx.Module):
    def __init__(self, features: int, *, rngs: nnx.Rngs):
        self.u = nnx.Linear(features, features, use_bias=False, rngs=rngs)
        self.w = nnx.Linear(features, features, use_bias=False, rngs=rngs)
        self.mlp = MLP([2 * features, features, 3 * features], rngs=rngs)

    def __call__(self, s, v):
        uv, wv = self.u(v), self.w(v)
        a_vv, a_sv, a_ss = jnp.split(self.mlp(jnp.concatenate([s, _norm(wv)], axis=-1)), 3, axis=-1)
        return s + a_ss + a_sv * jnp.sum(uv * wv, axis=-2), v + a_vv[:, :, None, :] * uv


class PaiNN(nnx.Module):
    """batch["atomic_numbers"] [B, N], batch["positions"] [B, N, 3] -> [B, num_targets]."""

    def __init__(
        self,
        num_targets: int,
        *,
        features: int = 64,
        num_layers: int = 3,
        num_rbf: int = 20,
        cutoff: float = DEFAULT_CUTOFF,
        rngs: nnx.Rngs,
    ):
        self.cutoff, self.num_rbf = cutoff, num_rbf
        self.embed = AtomEmbedding(features, rngs=rngs)
        self.messages = nnx.List([Message(features, num_rbf, rngs=rngs) for _ in range(num_layers)])
        self.updates = nnx.List([Update(features, rngs=rngs) for _ in range(num_layers)])
        self.head = MLP([features, features, num_targets], rngs=rngs)

    def encode(self, batch: dict) -> tuple[jax.Array, jax.Array]:
        """Scalars [B, N, F] and vectors [B, N, 3, F]."""
        vectors, distances, mask = pair_geometry(batch["positions"])
        unit = vectors / jnp.where(mask > 0, distances, 1.0)[..., None]  # [B, i, j, 3]
        rbf = bessel_rbf(distances, self.num_rbf, self.cutoff)
        envelope = cosine_cutoff(distances, self.cutoff) * mask
        s = self.embed(batch["atomic_numbers"])
        v = jnp.zeros((*s.shape[:2], 3, s.shape[-1]), s.dtype)
        for message, update in zip(self.messages, self.updates, strict=True):
            s, v = message(s, v, rbf, envelope, unit)
            s, v = update(s, v)
        return s, v

    def __call__(self, batch: dict) -> jax.Array:
        return self.head(jnp.sum(self.encode(batch)[0], axis=1))
