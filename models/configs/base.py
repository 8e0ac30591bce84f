"""The training configuration: one dataclass, plain values, overridable from the command line.

Kept free of heavy imports so that command-line parsers can use it without loading JAX.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
from collections.abc import Sequence
from typing import Any

#: Distinct quantities of the paper's benchmark (its eta, I, A, chi, mu duplicate gap/HOMO/LUMO).
DEFAULT_TARGETS = (
    "e_g_ev",
    "e_homo_ev",
    "e_lumo_ev",
    "total_energy_ev",
    "dipole_mag_d",
    "distance_ang",
)


@dataclasses.dataclass
class Config:
    """Everything that defines a training run (see `qc_models.train.train_and_evaluate`)."""

    # model: a name of `qc_models.registry.MODELS` and its keyword arguments
    model: str = "cnn"
    model_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    targets: tuple[str, ...] = DEFAULT_TARGETS

    # data: "synthetic" (input_pipeline.synthetic_dataset) or a TFDS name such as "quantum_canvas"
    dataset: str = "synthetic"
    data_dir: str | None = None
    tfds_splits: tuple[str, str, str] = ("train", "validation", "test")
    num_synthetic: int = 2850
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)  # synthetic only
    split_seed: int = 42

    # objective and optimiser
    target_scaling: str = "minmax"  # "minmax" ([-1, 1], as the paper) or "standard"
    loss: str = "l1"  # "l1" or "mse"
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # "cosine" (linear warm-up, cosine decay) or "plateau"
    warmup_epochs: int = 2
    plateau_factor: float = 0.8
    plateau_patience: int = 10
    grad_clip_norm: float = 1.0

    # loop
    batch_size: int = 64  # global batch, divisible by the number of devices
    num_epochs: int = 50
    early_stopping_patience: int = 10  # epochs without a better validation MAE
    seed: int = 0
    progress: bool = True  # tqdm progress bar
    distributed: bool = False  # call jax.distributed.initialize() (multi-host)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


def load_config(name: str) -> Config:
    """A config by module name under qc_models.configs ("default", "test") or a .py file path."""
    if name.endswith(".py"):
        spec = importlib.util.spec_from_file_location("qc_models_user_config", name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(f"qc_models.configs.{name}")
    return module.get_config()


def apply_overrides(config: Config, overrides: Sequence[str]) -> Config:
    """key=value pairs; values are parsed as JSON when possible (numbers, lists, dicts)."""
    changes = {}
    for item in overrides:
        key, _, raw = item.partition("=")
        if key not in {f.name for f in dataclasses.fields(Config)}:
            raise ValueError(f"unknown config field {key!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        changes[key] = tuple(value) if isinstance(value, list) else value
    return config.replace(**changes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m qc_models.train` and `qc-canvas train`."""
    parser.add_argument("--config", default="default", help="config module name or .py path")
    parser.add_argument("--workdir", required=True, help="checkpoints, metrics and plots go here")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides, e.g. model=schnet batch_size=32 model_kwargs='{\"features\": 32}'",
    )
