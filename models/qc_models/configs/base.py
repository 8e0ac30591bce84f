"""The training configuration: one dataclass, plain values, overridable from the command line.

Kept free of heavy imports so that command-line parsers can use it without loading JAX.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import pkgutil
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
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

#: Energies that grow with the atoms: learned as residuals from a per-element additive reference
#: fitted on the training split (`qc_models.input_pipeline.fit_atom_reference`).
ATOM_REFERENCED = (
    "total_energy_ev",
    "mermin_free_energy_ev",
    "zero_temperature_energy_ev",
    "band_energy_ev",
)


@dataclasses.dataclass
class Config:
    """Everything that defines a training run (see `qc_models.train.train_and_evaluate`)."""

    # model: a name of `qc_models.registry.MODELS` and its keyword arguments
    model: str = "cnn"
    model_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    targets: tuple[str, ...] = DEFAULT_TARGETS

    # data: a prepared TFDS dataset ("quantum_canvas/paper75", ...) or "synthetic"
    # (input_pipeline.synthetic_dataset: generated canvases whose labels are smooth functions)
    dataset: str = "quantum_canvas/paper75"
    data_dir: str | None = None
    tfds_splits: tuple[str, str, str] = ("train", "validation", "test")
    num_synthetic: int = 2850
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)  # synthetic only
    split_seed: int = 42
    # control: one fixed pixel permutation (drawn from this seed) of every canvas; None: none
    pixel_permutation_seed: int | None = None

    # objective and optimiser
    target_scaling: str = "minmax"  # "minmax" ([-1, 1], as the paper) or "standard"
    # targets learned as residuals from a per-element reference (those trained; the constant
    # predictor never has one: it stays one number per target)
    atom_reference: tuple[str, ...] = ATOM_REFERENCED
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
    progress: bool = True  # tqdm progress bar and a line per epoch
    distributed: bool = False  # call jax.distributed.initialize() (multi-host)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Config:
        """Inverse of `to_dict`; every value is checked against its field's type."""
        return cls(**{key: check_value(key, value) for key, value in values.items()})


#: Fields that do not change what a run computes (a resume may change them).
COSMETIC_FIELDS = ("progress", "distributed")


def check_value(key: str, value: Any) -> Any:
    """`value` converted to the type of field `key` (lists to tuples); ValueError if it is not."""
    hints = typing.get_type_hints(Config)
    if key not in hints:
        raise ValueError(f"unknown config field {key!r}; fields: {', '.join(sorted(hints))}")
    converted = _convert(value, hints[key])
    if converted is _WRONG:
        raise ValueError(f"config field {key}={value!r}: expected {_type_name(hints[key])}")
    return converted


_WRONG = object()


def _convert(value: Any, hint: Any) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            converted = _convert(value, option)
            if converted is not _WRONG:
                return converted
        return _WRONG
    if hint is type(None):
        return None if value is None else _WRONG
    if hint is Any:
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return _WRONG
        kinds = [args[0]] * len(value) if args[-1] is Ellipsis else list(args)
        if len(kinds) != len(value):
            return _WRONG
        items = [_convert(v, k) for v, k in zip(value, kinds, strict=True)]
        return _WRONG if any(i is _WRONG for i in items) else tuple(items)
    if origin is dict:
        return value if isinstance(value, dict) else _WRONG
    if hint is float:
        return (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else _WRONG
        )
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else _WRONG
    return value if isinstance(value, hint) else _WRONG


def _type_name(hint: Any) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    if hint in names:
        return names[hint]
    return str(hint).replace("typing.", "")


def config_names() -> list[str]:
    """The configs shipped in qc_models.configs."""
    folder = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(folder)]) if m.name != "base")


def load_config(name: str) -> Config:
    """A config by module name under qc_models.configs ("default", "test") or a .py file path.

    Raises ValueError (not a traceback) for an unknown name or a missing file.
    """
    if name.endswith(".py"):
        if not Path(name).is_file():
            raise ValueError(f"config file {name} does not exist")
        spec = importlib.util.spec_from_file_location("qc_models_user_config", name)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    elif name in config_names():
        module = importlib.import_module(f"qc_models.configs.{name}")
    else:
        raise ValueError(
            f"unknown config {name!r}; choose from {', '.join(config_names())} or a .py file"
        )
    return module.get_config()


def apply_overrides(config: Config, overrides: Sequence[str]) -> Config:
    """key=value pairs; values are parsed as JSON when possible (numbers, lists, dicts, true,
    null) and checked against the field's type (ValueError with the expected type)."""
    changes = {}
    for item in overrides:
        key, equals, raw = item.partition("=")
        if not equals:
            raise ValueError(f"--set {item!r}: write KEY=VALUE")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        changes[key] = check_value(key, value)
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
