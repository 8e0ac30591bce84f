"""The workdir of a run: its config, its logs and its tables, local or remote (`etils.epath`).

  config.json          the run's config; resuming a run with another config is refused
  metrics.jsonl        one record per epoch: losses, learning rate, validation MAE, steps/s
  tensorboard/         the same scalars as TensorBoard event files (`tensorboard --logdir`)

`gs://bucket/run` is a workdir as a local folder is (orbax and epath write there directly).
Only the main process writes files; every process reads them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from etils import epath

from qc_models.configs.base import COSMETIC_FIELDS, Config
from qc_models.parallel import is_main


class ConfigMismatchError(ValueError):
    """The workdir holds a run with another config (a resume must use the same one)."""


def open_workdir(path: epath.PathLike) -> epath.Path:
    """The workdir as an epath (local paths made absolute), created if missing."""
    text = os.fspath(path)
    workdir = epath.Path(text if "://" in text else os.path.abspath(text))
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def claim(workdir: epath.Path, config: Config, *, resuming: bool) -> None:
    """Writes config.json for a new run; for a run that has checkpoints (`resuming`), refuses
    (ConfigMismatchError) a config that differs from it in anything but `COSMETIC_FIELDS`."""
    path = workdir / "config.json"
    current = config.to_dict()
    if resuming and path.exists():
        saved = json.loads(path.read_text())
        keys = sorted((set(saved) | set(current)) - set(COSMETIC_FIELDS))
        changed = [k for k in keys if saved.get(k) != current.get(k)]
        if changed:
            details = "; ".join(
                f"{k}: {saved.get(k)!r} there, {current.get(k)!r} now" for k in changed
            )
            raise ConfigMismatchError(
                f"{workdir} holds a run with another config ({details}); resume it with its own "
                "config or start a new workdir"
            )
    elif is_main():
        path.write_text(json.dumps(current, indent=1) + "\n")


def read_config(workdir: epath.PathLike) -> Config:
    """The config a workdir's run was trained with."""
    return Config.from_dict(json.loads((epath.Path(workdir) / "config.json").read_text()))


def _flat(record: dict, prefix: str = "") -> Iterator[tuple[str, float]]:
    for key, value in record.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}/")
        elif key != "epoch":
            yield prefix + key, float(value)


class MetricLog:
    """Per-epoch records to metrics.jsonl and TensorBoard; a resume drops later (killed) epochs."""

    def __init__(self, workdir: epath.Path, resumed_epoch: int):
        self.path = workdir / "metrics.jsonl"
        self.history = [r for r in self._read() if r["epoch"] <= resumed_epoch]
        self.writer = None
        if is_main():
            self.path.write_text("".join(json.dumps(r) + "\n" for r in self.history))
            from tensorboardX import SummaryWriter

            # purge_step: TensorBoard hides what a killed run logged after the resumed epoch
            self.writer = SummaryWriter(
                os.fspath(workdir / "tensorboard"), purge_step=resumed_epoch + 1
            )

    def _read(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def write(self, record: dict) -> None:
        """Appends one epoch's record ({"epoch": int, name: float or {name: float}})."""
        self.history.append(record)
        if self.writer is None:
            return
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        for name, value in _flat(record):
            self.writer.add_scalar(name, value, record["epoch"])
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
