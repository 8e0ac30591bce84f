"""A CNN on all ten canvas channels, in the spirit of the paper's QuantumShellNet.

Three stages of two 3x3 convolutions (GroupNorm, SiLU) with 2x2 average pooling between stages,
global average pooling and an MLP head. The encoder optionally takes FiLM parameters per block,
which `fusion.FiLMCNN` computes from the atoms. The canvas alone carries the geometry (atoms are
drawn at their real positions), so this model sees no atomic numbers.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.layers import MLP


def group_norm(features: int, rngs: nnx.Rngs) -> nnx.GroupNorm:
    """GroupNorm with up to 8 groups: batch-size independent, so sharding does not change it."""
    return nnx.GroupNorm(features, num_groups=min(8, features), rngs=rngs)


class ConvBlock(nnx.Module):
    """Conv3x3 -> GroupNorm -> (FiLM) -> SiLU, twice. [B, H, W, C_in] -> [B, H, W, C_out]."""

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs):
        self.out_features = out_features
        self.conv1 = nnx.Conv(in_features, out_features, (3, 3), rngs=rngs)
        self.norm1 = group_norm(out_features, rngs)
        self.conv2 = nnx.Conv(out_features, out_features, (3, 3), rngs=rngs)
        self.norm2 = group_norm(out_features, rngs)

    def __call__(self, x: jax.Array, film: tuple[jax.Array, jax.Array] | None = None) -> jax.Array:
        x = nnx.silu(self.norm1(self.conv1(x)))
        x = self.norm2(self.conv2(x))
        if film is not None:
            gamma, beta = film  # [B, C_out] each
            x = x * (1.0 + gamma[:, None, None, :]) + beta[:, None, None, :]
        return nnx.silu(x)


class CanvasEncoder(nnx.Module):
    """Canvas [B, H, W, C] -> feature map [B, H / 4, W / 4, 4 F] (three blocks, two poolings)."""

    def __init__(self, in_channels: int, features: int = 32, *, rngs: nnx.Rngs):
        widths = (in_channels, features, 2 * features, 4 * features)
        self.blocks = nnx.List([ConvBlock(a, b, rngs=rngs) for a, b in itertools.pairwise(widths)])
        self.out_features = widths[-1]

    def __call__(self, canvas: jax.Array, films: list | None = None) -> jax.Array:
        x = canvas
        for i, block in enumerate(self.blocks):
            if i > 0:
                x = nnx.avg_pool(x, (2, 2), strides=(2, 2))
            x = block(x, None if films is None else films[i])
        return x


class CNN(nnx.Module):
    """QuantumShellNet-like CNN regressor: batch["canvas"] [B, H, W, 10] -> [B, num_targets]."""

    def __init__(
        self, num_targets: int, *, features: int = 32, in_channels: int, rngs: nnx.Rngs
    ):
        self.encoder = CanvasEncoder(in_channels, features, rngs=rngs)
        width = self.encoder.out_features
        self.head = MLP([width, width, num_targets], rngs=rngs)

    def __call__(self, batch: dict) -> jax.Array:
        return self.head(jnp.mean(self.encoder(batch["canvas"]), axis=(1, 2)))
