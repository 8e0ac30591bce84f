"""Training throughput (samples/s) of qc_models vs a PyTorch re-implementation, same machine.

For the CNN, ViT, SchNet and EGNN at batch 64 (default hyper-parameters of qc_models), it times
full training steps (forward, L1 loss, backward, gradient clipping, AdamW) on synthetic batches with
the dataset's shapes: JAX/Flax NNX through `qc_models.steps.train_step`, and PyTorch (eager, as the
paper's PyTorch/PyG code runs) through small re-implementations of the same architectures and
widths written below (dense two-atom graphs; PyG is not installed here). Prints samples/s and the
ratio JAX / PyTorch.

    python benchmarks/train_throughput.py [--threads 2] [--steps 30] [--models cnn vit schnet egnn]

Needs `pip install -c constraints.txt -e '.[bench]'` (torch 2.13 CPU). JAX runs on its default
backend (a GPU when one is visible); PyTorch on ``--torch-device`` (default: the CPU; ``cuda`` on
a lent GPU, see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "vit", "schnet", "egnn"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many repeats")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: library default)")
    parser.add_argument("--torch-device", default="cpu", help="PyTorch's device (default: cpu)")
    return parser.parse_args()


ARGS = parse_args()
if ARGS.threads:
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_cpu_multi_thread_eigen={ARGS.threads > 1}"
        + f" intra_op_parallelism_threads={ARGS.threads}"
    )

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from flax import nnx  # noqa: E402
from torch import nn  # noqa: E402

from qc_models import input_pipeline  # noqa: E402
from qc_models.configs.base import DEFAULT_TARGETS, Config  # noqa: E402
from qc_models.layers import count_params  # noqa: E402
from qc_models.registry import create_model  # noqa: E402
from qc_models.steps import make_optimizer, train_step  # noqa: E402

# --------------------------------------------------------------------------- PyTorch models


def mlp(sizes, activation=nn.SiLU):
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class TorchCNN(nn.Module):
    def __init__(self, num_targets, features=32, in_channels=10):
        super().__init__()
        widths = (in_channels, features, 2 * features, 4 * features)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(a, b, 3, padding=1), nn.GroupNorm(min(8, b), b), nn.SiLU(),
                nn.Conv2d(b, b, 3, padding=1), nn.GroupNorm(min(8, b), b), nn.SiLU(),
            )
            for a, b in itertools.pairwise(widths)
        )  # fmt: skip
        self.head = mlp([widths[-1], widths[-1], num_targets])

    def forward(self, batch):
        x = batch["canvas"].permute(0, 3, 1, 2)
        for i, block in enumerate(self.blocks):
            x = block(x if i == 0 else nn.functional.avg_pool2d(x, 2))
        return self.head(x.mean(dim=(2, 3)))


class TorchViT(nn.Module):
    def __init__(self, num_targets, features=64, depth=4, heads=4, patch=4, size=32, channels=10):
        super().__init__()
        self.embed = nn.Conv2d(channels, features, patch, stride=patch)
        self.cls = nn.Parameter(torch.randn(1, 1, features) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, features) * 0.02)
        layer = nn.TransformerEncoderLayer(
            features, heads, 2 * features, dropout=0.0, activation="gelu",
            batch_first=True, norm_first=True,
        )  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(features)
        self.head = mlp([features, features, num_targets])

    def forward(self, batch):
        x = self.embed(batch["canvas"].permute(0, 3, 1, 2)).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(len(x), -1, -1), x], dim=1) + self.pos
        return self.head(self.norm(self.encoder(x)[:, 0]))


def pair_distances(positions):
    n = positions.shape[1]
    mask = 1.0 - torch.eye(n)
    vectors = positions[:, None, :, :] - positions[:, :, None, :]
    squared = (vectors**2).sum(-1)
    return vectors, torch.sqrt(torch.where(mask > 0, squared, 1.0)) * mask, mask


class ShiftedSoftplus(nn.Module):
    def forward(self, x):
        return nn.functional.softplus(x) - np.log(2.0)


class TorchSchNet(nn.Module):
    def __init__(self, num_targets, features=64, interactions=3, num_rbf=50, cutoff=8.0):
        super().__init__()
        self.cutoff, self.num_rbf = cutoff, num_rbf
        self.embed = nn.Embedding(119, features)
        self.filters = nn.ModuleList(
            mlp([num_rbf, features, features], ShiftedSoftplus) for _ in range(interactions)
        )
        self.in_proj = nn.ModuleList(
            nn.Linear(features, features, bias=False) for _ in range(interactions)
        )
        self.outs = nn.ModuleList(
            mlp([features, features, features], ShiftedSoftplus) for _ in range(interactions)
        )
        self.head = mlp([features, features, num_targets], ShiftedSoftplus)

    def forward(self, batch):
        _, d, mask = pair_distances(batch["positions"])
        centers = torch.linspace(0, self.cutoff, self.num_rbf)
        width = self.cutoff / (self.num_rbf - 1)
        rbf = torch.exp(-0.5 * ((d[..., None] - centers) / width) ** 2)
        envelope = torch.where(d < self.cutoff, 0.5 * (torch.cos(np.pi * d / self.cutoff) + 1), 0)
        envelope = envelope * mask
        h = self.embed(batch["atomic_numbers"])
        for filt, proj, out in zip(self.filters, self.in_proj, self.outs, strict=True):
            w = filt(rbf) * envelope[..., None]
            h = h + out(torch.einsum("bijf,bjf->bif", w, proj(h)))
        return self.head(h.sum(1))


class TorchEGNN(nn.Module):
    def __init__(self, num_targets, features=64, layers=4):
        super().__init__()
        self.embed = nn.Embedding(119, features)
        self.phi_e = nn.ModuleList(
            nn.Sequential(mlp([2 * features + 1, features, features]), nn.SiLU())
            for _ in range(layers)
        )
        self.phi_x = nn.ModuleList(mlp([features, features, 1]) for _ in range(layers))
        self.phi_h = nn.ModuleList(mlp([2 * features, features, features]) for _ in range(layers))
        self.head = mlp([features, features, num_targets])

    def forward(self, batch):
        h, x = self.embed(batch["atomic_numbers"]), batch["positions"]
        n = h.shape[1]
        for phi_e, phi_x, phi_h in zip(self.phi_e, self.phi_x, self.phi_h, strict=True):
            vectors, d, mask = pair_distances(x)
            pairs = torch.cat(
                [h[:, :, None].expand(-1, -1, n, -1), h[:, None].expand(-1, n, -1, -1),
                 d[..., None] ** 2], dim=-1,
            )  # fmt: skip
            m = phi_e(pairs) * mask[..., None]
            x = x - (vectors * phi_x(m) * mask[..., None]).sum(2) / max(n - 1, 1)
            h = h + phi_h(torch.cat([h, m.sum(2)], dim=-1))
        return self.head(h.sum(1))


TORCH_MODELS = {"cnn": TorchCNN, "vit": TorchViT, "schnet": TorchSchNet, "egnn": TorchEGNN}

# --------------------------------------------------------------------------- timing


def timed(step, steps: int) -> float:
    """Seconds for `steps` calls of `step` (which returns a scalar loss)."""
    start = time.perf_counter()
    for _ in range(steps):
        out = step()
    float(out)  # wait for the last step
    return time.perf_counter() - start


def jax_step(name: str, batch: dict, config: Config):
    """The training loop's step (qc_models.steps.train_step, cached_partial) and param count."""
    model = create_model(config.replace(model=name), len(DEFAULT_TARGETS),
                         in_channels=batch["canvas"].shape[-1])
    optimizer = nnx.Optimizer(model, make_optimizer(config, 100), wrt=nnx.Param)
    step = nnx.cached_partial(train_step, model, optimizer)
    device_batch = jax.device_put({k: jnp.asarray(v) for k, v in batch.items()})
    return (lambda: step(device_batch, "l1")), count_params(model)


def torch_step(name: str, batch: dict, config: Config):
    """The same step in eager PyTorch (AdamW, L1, clipping) and param count."""
    torch.manual_seed(0)
    model = TORCH_MODELS[name](len(DEFAULT_TARGETS))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    tensors = {k: torch.from_numpy(np.asarray(v)).to(ARGS.torch_device) for k, v in batch.items()}
    tensors["atomic_numbers"] = tensors["atomic_numbers"].long()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.l1_loss(model(tensors), tensors["targets"])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip_norm)
        optimizer.step()
        return loss.detach()

    return step, sum(p.numel() for p in model.parameters())


def main() -> None:
    if ARGS.threads:
        torch.set_num_threads(ARGS.threads)
    torch.set_default_device(ARGS.torch_device)  # parameters and the tensors made in forward
    config = Config(batch_size=ARGS.batch_size)
    data = input_pipeline.synthetic_dataset(ARGS.batch_size, seed=0)
    batch = input_pipeline.Normalizer.fit(data, DEFAULT_TARGETS)(data)
    batch["mask"] = np.ones(ARGS.batch_size, np.float32)
    print(
        f"jax {jax.__version__} ({jax.default_backend()}, {jax.device_count()} device), "
        f"torch {torch.__version__} ({ARGS.torch_device}, {torch.get_num_threads()} threads), "
        f"batch {ARGS.batch_size}, best of {ARGS.repeats} x {ARGS.steps} steps"
    )
    print(f"{'model':8s} {'params jax/torch':>18s} {'jax/s':>9s} {'torch/s':>9s} {'ratio':>6s}")
    for name in ARGS.models:
        (jax_fn, jax_params), (torch_fn, torch_params) = (
            jax_step(name, batch, config),
            torch_step(name, batch, config),
        )
        for _ in range(3):  # compile / warm up
            jax_fn(), torch_fn()
        # alternate the two so that load from other processes hits both alike; keep the best
        jax_time = torch_time = float("inf")
        for _ in range(ARGS.repeats):
            jax_time = min(jax_time, timed(jax_fn, ARGS.steps))
            torch_time = min(torch_time, timed(torch_fn, ARGS.steps))
        jax_rate = ARGS.steps * ARGS.batch_size / jax_time
        torch_rate = ARGS.steps * ARGS.batch_size / torch_time
        print(
            f"{name:8s} {jax_params:>8d}/{torch_params:<9d} {jax_rate:9.0f} {torch_rate:9.0f} "
            f"{jax_rate / torch_rate:6.2f}"
        )


if __name__ == "__main__":
    main()
