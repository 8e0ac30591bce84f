"""Model registry: name -> constructor, and `create_model(config, num_targets, in_channels)`.

Every model maps a batch dict (see `input_pipeline`) to predictions [B, num_targets] in scaled
target units, and takes its hyper-parameters as keyword arguments (`config.model_kwargs`).
"""

from __future__ import annotations

from collections.abc import Callable

from flax import nnx

from qc_models.baselines import Constant, PairMLP, ScalarMLP
from qc_models.cnn import CNN
from qc_models.dimenet import DimeNetPP
from qc_models.egnn import EGNN
from qc_models.fusion import CrossAttentionFusion, FiLMCNN, LateFusion
from qc_models.gatv2 import GATv2
from qc_models.gcn import GCN
from qc_models.layers import count_params
from qc_models.painn import PaiNN
from qc_models.resnet import ResNet
from qc_models.schnet import SchNet
from qc_models.vit import ViT

MODELS: dict[str, Callable[..., nnx.Module]] = {
    "cnn": CNN,
    "resnet": ResNet,
    "vit": ViT,
    "gcn": GCN,
    "gatv2": GATv2,
    "egnn": EGNN,
    "schnet": SchNet,
    "painn": PaiNN,
    "dimenet_pp": DimeNetPP,
    "late_fusion": LateFusion,
    "cross_attention": CrossAttentionFusion,
    "film_cnn": FiLMCNN,
    "constant": Constant,
    "atom_reference": Constant,  # with the atom references of the energies (train.py)
    "pair_mlp": PairMLP,
    "scalar_mlp": ScalarMLP,
}

#: Models fitted to the training split, not trained: no parameters, one epoch.
FITTED = ("constant", "atom_reference")
#: Models that read positions and must be invariant to rotations and translations of them.
GEOMETRIC = ("egnn", "schnet", "painn", "dimenet_pp")
#: Models whose output cannot depend on which atom is listed first (no canvas input).
SWAP_INVARIANT = ("gcn", "gatv2", "egnn", "schnet", "painn", "dimenet_pp", "pair_mlp", *FITTED)
#: Models that read the canvas: their first layer is as wide as its channel axis.
CANVAS = ("cnn", "resnet", "vit", "late_fusion", "cross_attention", "film_cnn")


def build(name: str, num_targets: int, in_channels: int, rngs: nnx.Rngs, **kwargs) -> nnx.Module:
    """Model `name` with hyper-parameters `kwargs`; a model of `CANVAS` reads canvases of
    `in_channels` channels (the others ignore it)."""
    data = {"in_channels": in_channels} if name in CANVAS else {}
    return MODELS[name](num_targets, rngs=rngs, **data, **kwargs)


def create_model(config, num_targets: int, in_channels: int) -> nnx.Module:
    """Builds `config.model` with `config.model_kwargs`, initialised from `config.seed`, for
    canvases of `in_channels` channels (read from the data: the training split's canvases)."""
    if config.model not in MODELS:
        raise ValueError(f"unknown model {config.model!r}; choose from {sorted(MODELS)}")
    return build(config.model, num_targets, in_channels, nnx.Rngs(config.seed),
                 **config.model_kwargs)


def parameter_counts(num_targets: int, in_channels: int) -> dict[str, int]:
    """Trainable parameters of every registered model with its default hyper-parameters, for
    canvases of `in_channels` channels.

    Shapes only (`nnx.eval_shape`): nothing is initialised.
    """
    return {
        name: count_params(
            nnx.eval_shape(lambda n=name: build(n, num_targets, in_channels, nnx.Rngs(0))))
        for name in MODELS
    }
