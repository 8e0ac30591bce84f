"""DimeNet++ (Gasteiger et al. 2020): directional message passing on edges with angle triplets.

Messages live on directed edges: m[b, i, j] is the message j -> i. An interaction updates it from
the messages k -> j of all atoms k != i, weighting each by a basis of the distance r_kj and the
angle at j between (x_i - x_j) and (x_k - x_j). The model is implemented for any number of atoms,
densely ([B, N, N, N, F] triplets). **A diatomic has no triplets** (k would have to differ from
both i and j), so on this dataset the angular term is identically zero and DimeNet++ reduces to an
edge-message network on the single bond distance; that is a property of the data, not of the code
(a test checks it on a triatomic).

Radial basis: Bessel functions with DimeNet's polynomial envelope; default cutoff 8 Angstrom (the
data's longest bond is ~5.6 Angstrom). Angular basis: a simplification of DimeNet's spherical Bessel
x spherical harmonic basis to Legendre polynomials P_l(cos angle) x the radial Bessel basis of r_kj.
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
    pair_geometry,
    polynomial_envelope,
)


def legendre(x: jax.Array, num: int) -> jax.Array:
    """P_0..P_{num-1}(x) by Bonnet's recursion: [...] -> [..., num]."""
    values = [jnp.ones_like(x), x]
    for l in range(1, num - 1):
        values.append(((2 * l + 1) * x * values[l] - l * values[l - 1]) / (l + 1))
    return jnp.stack(values[:num], axis=-1)


class Residual(nnx.Module):
    def __init__(self, features: int, *, rngs: nnx.Rngs):
        self.mlp = MLP([features, features, features], activate_final=True, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return x + self.mlp(x)


class InteractionPP(nnx.Module):
    """DimeNet++ interaction block on edge messages m [B, i, j, F]."""

    def __init__(self, features, int_features, basis_features, num_radial, num_spherical, *, rngs):
        self.ji = nnx.Linear(features, features, rngs=rngs)
        self.kj = nnx.Linear(features, features, rngs=rngs)
        self.rbf = MLP([num_radial, basis_features, features], use_bias=False, rngs=rngs)
        self.sbf = MLP(
            [num_radial * num_spherical, basis_features, int_features], use_bias=False, rngs=rngs
        )
        self.down = nnx.Linear(features, int_features, use_bias=False, rngs=rngs)
        self.up = nnx.Linear(int_features, features, use_bias=False, rngs=rngs)
        self.before = Residual(features, rngs=rngs)
        self.skip = nnx.Linear(features, features, rngs=rngs)
        self.after = nnx.List([Residual(features, rngs=rngs) for _ in range(2)])

    def __call__(self, m, rbf, sbf, triplets):
        x_ji = nnx.silu(self.ji(m))
        x_kj = nnx.silu(self.down(nnx.silu(self.kj(m)) * self.rbf(rbf)))  # [B, j, k, I]
        x_kj = jnp.einsum("bijkf,bjkf,ijk->bijf", self.sbf(sbf), x_kj, triplets)
        h = self.before(x_ji + nnx.silu(self.up(x_kj)))
        h = m + nnx.silu(self.skip(h))
        for residual in self.after:
            h = residual(h)
        return h


class OutputPP(nnx.Module):
    """Edge messages -> atom features: sum_j rbf-weighted m[b, i, j], then an MLP."""

    def __init__(self, features: int, out_features: int, num_radial: int, *, rngs: nnx.Rngs):
        self.rbf = nnx.Linear(num_radial, features, use_bias=False, rngs=rngs)
        self.up = nnx.Linear(features, out_features, use_bias=False, rngs=rngs)
        self.mlp = MLP([out_features] * 3, activate_final=True, rngs=rngs)

    def __call__(self, m: jax.Array, rbf: jax.Array) -> jax.Array:
        return self.mlp(self.up(jnp.sum(self.rbf(rbf) * m, axis=2)))


class DimeNetPP(nnx.Module):
    """batch["atomic_numbers"] [B, N], batch["positions"] [B, N, 3] -> [B, num_targets]."""

    def __init__(
        self,
        num_targets: int,
        *,
        features: int = 64,
        num_blocks: int = 3,
        int_features: int = 32,
        basis_features: int = 8,
        num_radial: int = 6,
        num_spherical: int = 7,
        cutoff: float = DEFAULT_CUTOFF,
        rngs: nnx.Rngs,
    ):
        self.cutoff, self.num_radial, self.num_spherical = cutoff, num_radial, num_spherical
        self.embed = AtomEmbedding(features, rngs=rngs)
        self.edge_rbf = nnx.Linear(num_radial, features, rngs=rngs)
        self.edge_embed = nnx.Linear(3 * features, features, rngs=rngs)
        self.interactions = nnx.List(
            [
                InteractionPP(
                    features, int_features, basis_features, num_radial, num_spherical, rngs=rngs
                )
                for _ in range(num_blocks)
            ]
        )
        self.outputs = nnx.List(
            [OutputPP(features, 2 * features, num_radial, rngs=rngs) for _ in range(num_blocks + 1)]
        )
        self.head = nnx.Linear(2 * features, num_targets, rngs=rngs)

    def bases(self, positions: jax.Array):
        """Radial basis [B, N, N, R] and angular basis [B, i, j, k, S*R] (masked beyond cutoff)."""
        vectors, distances, mask = pair_geometry(positions)
        edges = mask * (distances < self.cutoff)
        rbf = bessel_rbf(distances, self.num_radial, self.cutoff)
        rbf = rbf * (polynomial_envelope(distances, self.cutoff) * edges)[..., None]
        safe = jnp.where(mask > 0, distances, 1.0)
        # angle at j between x_i - x_j = -vectors[i, j] and x_k - x_j = vectors[j, k]
        cos = -jnp.einsum("bijc,bjkc->bijk", vectors, vectors)
        cos = jnp.clip(cos / (safe[:, :, :, None] * safe[:, None, :, :]), -1.0, 1.0)
        sbf = legendre(cos, self.num_spherical)[..., :, None] * rbf[:, None, :, :, None, :]
        return rbf, sbf.reshape(*cos.shape, -1), edges

    def encode(self, batch: dict) -> jax.Array:
        """Atom features [B, N, 2F]."""
        positions = batch["positions"]
        n = positions.shape[1]
        rbf, sbf, edges = self.bases(positions)
        off = 1.0 - jnp.eye(n)
        triplets = off[:, :, None] * off[None, :, :] * off[:, None, :]  # i != j != k != i
        h = self.embed(batch["atomic_numbers"])
        pair = jnp.broadcast_to(h[:, :, None], (*h.shape[:2], n, h.shape[-1]))
        m = nnx.silu(
            self.edge_embed(
                jnp.concatenate(
                    [pair, jnp.swapaxes(pair, 1, 2), nnx.silu(self.edge_rbf(rbf))], axis=-1
                )
            )
        )
        m = m * edges[..., None]
        atoms = self.outputs[0](m, rbf)
        for interaction, output in zip(self.interactions, self.outputs[1:], strict=True):
            m = interaction(m, rbf, sbf, triplets) * edges[..., None]
            atoms = atoms + output(m, rbf)
        return atoms

    def __call__(self, batch: dict) -> jax.Array:
        return self.head(jnp.sum(self.encode(batch), axis=1))
