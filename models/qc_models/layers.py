"""Building blocks shared by the model zoo: MLPs, atom embeddings, pair geometry, radial bases.

Graphs are the atoms of one molecule, fully connected and held densely: node features are
[B, N, F] and edge features [B, N, N, ...] with edge (i, j) carrying the message j -> i. For the
diatomics of the dataset N = 2, so there is no padding or edge-list machinery; larger N works the
same way. Distances are in Angstrom.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from flax import nnx

#: Embedding table size: atomic numbers 0..MAX_Z (0 is never a real atom).
MAX_Z = 118

#: Default cutoff of the geometric models, in Angstrom. It must cover the longest bond in the data
#: (5.6 Angstrom in the paper's data, where a 5 Angstrom cutoff silently disconnected those pairs).
DEFAULT_CUTOFF = 8.0


class MLP(nnx.Module):
    """Dense layers with an activation between them (none after the last unless asked)."""

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        rngs: nnx.Rngs,
        activation: Callable[[jax.Array], jax.Array] = nnx.silu,
        activate_final: bool = False,
        use_bias: bool = True,
    ):
        self.layers = nnx.List(
            [nnx.Linear(a, b, use_bias=use_bias, rngs=rngs) for a, b in itertools.pairwise(sizes)]
        )
        self.activation = activation
        self.activate_final = activate_final

    def __call__(self, x: jax.Array) -> jax.Array:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1 or self.activate_final:
                x = self.activation(x)
        return x


class AtomEmbedding(nnx.Module):
    """Learned embedding of atomic numbers: int [..., N] -> float [..., N, features]."""

    def __init__(self, features: int, *, rngs: nnx.Rngs):
        self.embed = nnx.Embed(MAX_Z + 1, features, rngs=rngs)

    def __call__(self, atomic_numbers: jax.Array) -> jax.Array:
        return self.embed(atomic_numbers)


def shifted_softplus(x: jax.Array) -> jax.Array:
    """softplus(x) - log 2, SchNet's activation (zero at zero)."""
    return jax.nn.softplus(x) - jnp.log(2.0)


def pair_geometry(positions: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Edge vectors, distances and the no-self-loop mask of a fully connected graph.

    Args:
      positions: float [B, N, 3] in Angstrom.

    Returns:
      vectors: float [B, N, N, 3], vectors[b, i, j] = x_j - x_i.
      distances: float [B, N, N], zero on the diagonal, with finite gradients everywhere.
      mask: float [N, N], 1 off the diagonal (edges), 0 on it.
    """
    n = positions.shape[-2]
    mask = 1.0 - jnp.eye(n, dtype=positions.dtype)
    vectors = positions[..., None, :, :] - positions[..., :, None, :]
    squared = jnp.sum(vectors**2, axis=-1)
    distances = jnp.sqrt(jnp.where(mask > 0, squared, 1.0)) * mask
    return vectors, distances, mask


def cosine_cutoff(distances: jax.Array, cutoff: float) -> jax.Array:
    """0.5 (cos(pi r / c) + 1) for r < c, else 0: smooth to zero at the cutoff."""
    return jnp.where(distances < cutoff, 0.5 * (jnp.cos(jnp.pi * distances / cutoff) + 1.0), 0.0)


def polynomial_envelope(distances: jax.Array, cutoff: float, exponent: int = 5) -> jax.Array:
    """DimeNet's polynomial envelope u(d), d = r / c: 1 at 0, smooth to zero at d = 1.

    Unlike the paper, it is not divided by d; `bessel_rbf` already carries the 1/r.
    """
    p = exponent + 1
    a, b, c = -(p + 1) * (p + 2) / 2, p * (p + 2), -p * (p + 1) / 2
    d = distances / cutoff
    u = 1.0 + a * d**p + b * d ** (p + 1) + c * d ** (p + 2)
    return jnp.where(d < 1.0, u, 0.0)


def gaussian_rbf(distances: jax.Array, num: int, cutoff: float) -> jax.Array:
    """Gaussians on an even grid over [0, cutoff]: [...] -> [..., num]."""
    centers = jnp.linspace(0.0, cutoff, num)
    width = cutoff / (num - 1)
    return jnp.exp(-0.5 * ((distances[..., None] - centers) / width) ** 2)


def bessel_rbf(distances: jax.Array, num: int, cutoff: float) -> jax.Array:
    """Spherical Bessel j0 basis sqrt(2/c) sin(n pi r / c) / r, n = 1..num: [...] -> [..., num].

    The r -> 0 limit (n pi / c) is used where r = 0 (the masked diagonal).
    """
    n = jnp.arange(1, num + 1, dtype=distances.dtype)
    r = distances[..., None]
    safe_r = jnp.where(r > 0, r, 1.0)
    values = jnp.where(r > 0, jnp.sin(n * jnp.pi * safe_r / cutoff) / safe_r, n * jnp.pi / cutoff)
    return jnp.sqrt(2.0 / cutoff) * values


def count_params(model: nnx.Module) -> int:
    """Number of trainable scalars (nnx.Param leaves) of a model."""
    return sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
