"""A Vision Transformer on all ten canvas channels (the paper's ViT saw channels 0-2 only).

Non-overlapping P x P patches of all C channels are linearly embedded, a class token and learned
position embeddings are added, pre-LayerNorm transformer blocks follow, and the class token feeds
the regression head.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from qc_models.layers import MLP


class TransformerBlock(nnx.Module):
    """Pre-LN self-attention + MLP block on tokens [B, L, D]."""

    def __init__(self, features: int, num_heads: int, mlp_ratio: int = 2, *, rngs: nnx.Rngs):
        self.norm1 = nnx.LayerNorm(features, rngs=rngs)
        self.attention = nnx.MultiHeadAttention(
            num_heads, features, decode=False, deterministic=True, rngs=rngs
        )
        self.norm2 = nnx.LayerNorm(features, rngs=rngs)
        self.mlp = MLP([features, mlp_ratio * features, features], activation=nnx.gelu, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nnx.Module):
    """batch["canvas"] [B, H, W, C] -> [B, num_targets]; H and W divisible by `patch_size`."""

    def __init__(
        self,
        num_targets: int,
        *,
        features: int = 64,
        depth: int = 4,
        num_heads: int = 4,
        patch_size: int = 4,
        image_size: int = 32,
        in_channels: int,
        rngs: nnx.Rngs,
    ):
        p = patch_size
        self.patch_embed = nnx.Conv(in_channels, features, (p, p), strides=p, rngs=rngs)
        num_patches = (image_size // p) ** 2
        init = nnx.initializers.normal(0.02)
        self.cls_token = nnx.Param(init(rngs.params(), (1, 1, features)))
        self.pos_embed = nnx.Param(init(rngs.params(), (1, num_patches + 1, features)))
        self.blocks = nnx.List(
            [TransformerBlock(features, num_heads, rngs=rngs) for _ in range(depth)]
        )
        self.norm = nnx.LayerNorm(features, rngs=rngs)
        self.head = MLP([features, features, num_targets], rngs=rngs)

    def __call__(self, batch: dict) -> jax.Array:
        x = self.patch_embed(batch["canvas"])
        b, h, w, d = x.shape
        cls = jnp.broadcast_to(self.cls_token[...], (b, 1, d))
        x = jnp.concatenate([cls, x.reshape(b, h * w, d)], axis=1) + self.pos_embed[...]
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))
