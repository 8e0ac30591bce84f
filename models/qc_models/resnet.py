"""A small ResNet on the canvas: pre-activation basic blocks, three stages, GroupNorm."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.cnn import group_norm
from qc_models.layers import MLP


class ResidualBlock(nnx.Module):
    """Pre-activation basic block; a strided 1x1 projection when the shape changes."""

    def __init__(self, in_features: int, out_features: int, stride: int, *, rngs: nnx.Rngs):
        self.norm1 = group_norm(in_features, rngs)
        self.conv1 = nnx.Conv(in_features, out_features, (3, 3), strides=stride, rngs=rngs)
        self.norm2 = group_norm(out_features, rngs)
        self.conv2 = nnx.Conv(out_features, out_features, (3, 3), rngs=rngs)
        self.project = (
            nnx.Conv(in_features, out_features, (1, 1), strides=stride, rngs=rngs)
            if stride != 1 or in_features != out_features
            else None
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        y = nnx.silu(self.norm1(x))
        shortcut = x if self.project is None else self.project(y)
        y = self.conv1(y)
        y = self.conv2(nnx.silu(self.norm2(y)))
        return shortcut + y


class ResNet(nnx.Module):
    """batch["canvas"] [B, H, W, C] -> [B, num_targets]; widths F, 2F, 4F, blocks per stage."""

    def __init__(
        self,
        num_targets: int,
        *,
        features: int = 32,
        blocks_per_stage: int = 2,
        in_channels: int,
        rngs: nnx.Rngs,
    ):
        self.stem = nnx.Conv(in_channels, features, (3, 3), rngs=rngs)
        blocks, width = [], features
        for stage, out in enumerate((features, 2 * features, 4 * features)):
            for b in range(blocks_per_stage):
                stride = 2 if stage > 0 and b == 0 else 1
                blocks.append(ResidualBlock(width, out, stride, rngs=rngs))
                width = out
        self.blocks = nnx.List(blocks)
        self.norm = group_norm(width, rngs)
        self.head = MLP([width, width, num_targets], rngs=rngs)

    def __call__(self, batch: dict) -> jax.Array:
        x = self.stem(batch["canvas"])
        for block in self.blocks:
            x = block(x)
        return self.head(jnp.mean(nnx.silu(self.norm(x)), axis=(1, 2)))
