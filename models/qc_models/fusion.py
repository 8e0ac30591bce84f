"""Models that combine the canvas with the atoms.

- `LateFusion`: a canvas encoder (the CNN's) and a graph encoder (SchNet's) side by side, pooled
  features concatenated into an MLP head.
- `CrossAttentionFusion`: in the spirit of the paper's best model, "QSN-v2": CNN feature-map tokens
  attend to the atom embeddings (cross-attention, canvas -> atoms), plus an MLP of the bond-distance
  basis.
- `FiLMCNN`: the CNN whose blocks are scaled and shifted per channel (FiLM) by a function of the
  atoms (sum of atomic-number embeddings, invariant to the atom order).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.cnn import CanvasEncoder
from qc_models.layers import DEFAULT_CUTOFF, MLP, AtomEmbedding, gaussian_rbf, pair_geometry
from qc_models.schnet import SchNet


class LateFusion(nnx.Module):
    """canvas + atoms + positions -> [B, num_targets]."""

    def __init__(
        self,
        num_targets: int,
        *,
        features: int = 32,
        in_channels: int,
        cutoff: float = DEFAULT_CUTOFF,
        rngs: nnx.Rngs,
    ):
        self.canvas = CanvasEncoder(in_channels, features, rngs=rngs)
        self.graph = SchNet(1, features=2 * features, cutoff=cutoff, rngs=rngs)
        width = self.canvas.out_features + 2 * features
        self.head = MLP([width, width, num_targets], rngs=rngs)

    def __call__(self, batch: dict) -> jax.Array:
        image = jnp.mean(self.canvas(batch["canvas"]), axis=(1, 2))
        graph = jnp.sum(self.graph.encode(batch), axis=1)
        return self.head(jnp.concatenate([image, graph], axis=-1))


class CrossAttentionFusion(nnx.Module):
    """QSN-v2-like: canvas tokens query atom embeddings; + a bond-distance MLP."""

    def __init__(
        self,
        num_targets: int,
        *,
        features: int = 32,
        num_heads: int = 4,
        num_rbf: int = 32,
        in_channels: int,
        cutoff: float = DEFAULT_CUTOFF,
        rngs: nnx.Rngs,
    ):
        self.cutoff, self.num_rbf = cutoff, num_rbf
        self.canvas = CanvasEncoder(in_channels, features, rngs=rngs)
        width = self.canvas.out_features
        self.atoms = AtomEmbedding(width, rngs=rngs)
        self.attention = nnx.MultiHeadAttention(
            num_heads, width, decode=False, deterministic=True, rngs=rngs
        )
        self.norm = nnx.LayerNorm(width, rngs=rngs)
        self.distance = MLP([num_rbf, width, width], activate_final=True, rngs=rngs)
        self.head = MLP([2 * width, width, num_targets], rngs=rngs)

    def __call__(self, batch: dict) -> jax.Array:
        tokens = self.canvas(batch["canvas"])
        b, h, w, d = tokens.shape
        tokens = tokens.reshape(b, h * w, d)
        atoms = self.atoms(batch["atomic_numbers"])  # [B, N, D]
        attended = self.norm(tokens + self.attention(tokens, atoms, atoms))
        _, distances, mask = pair_geometry(batch["positions"])
        rbf = gaussian_rbf(distances, self.num_rbf, self.cutoff) * mask[..., None]
        bond = self.distance(jnp.sum(rbf, axis=(1, 2)) / jnp.sum(mask))
        return self.head(jnp.concatenate([jnp.mean(attended, axis=1), bond], axis=-1))


class FiLMCNN(nnx.Module):
    """The CNN with per-block FiLM (gamma, beta) from the summed atom embeddings."""

    def __init__(
        self, num_targets: int, *, features: int = 32, in_channels: int, rngs: nnx.Rngs
    ):
        self.encoder = CanvasEncoder(in_channels, features, rngs=rngs)
        self.atoms = AtomEmbedding(features, rngs=rngs)
        self.films = nnx.List(
            [
                nnx.Linear(features, 2 * block.out_features, rngs=rngs)
                for block in self.encoder.blocks
            ]
        )
        width = self.encoder.out_features
        self.head = MLP([width, width, num_targets], rngs=rngs)

    def __call__(self, batch: dict) -> jax.Array:
        condition = jnp.sum(self.atoms(batch["atomic_numbers"]), axis=1)  # [B, F]
        films = [jnp.split(film(condition), 2, axis=-1) for film in self.films]
        return self.head(jnp.mean(self.encoder(batch["canvas"], films), axis=(1, 2)))
