"""Where the examples come from, and the grain pipelines that read each process's share of them.

A source is a split with random access: `len(source)` examples and `source.read(indices)`, a
`Dataset` of those examples in physical units. `TfdsSource` reads a prepared TFDS dataset through
`tfds.data_source` (array_record shards: no TensorFlow) and keeps each example it has decoded;
`ArraySource` holds arrays in memory (the synthetic dataset).

No process reads a whole split at once: the training batches of an epoch are a seeded permutation
of the split, cut into global batches, and each process reads only its share of every global
batch (`parallel.Sharder.share`); statistics of a split (target scaling, checks) are computed by
every process on its share and gathered. So n processes read 1/n of every batch each, and together
they see exactly the batches of a one-process run. (Over the epochs each process meets, decodes
once and keeps most examples of the split: a quantum_canvas split is at most a few hundred MB.)
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Protocol

import grain
import jax
import numpy as np

from qc_models.input_pipeline import (
    INPUT_KEYS,
    Dataset,
    Normalizer,
    canvas_moments,
    num_examples,
    random_split,
    stack_examples,
    synthetic_dataset,
    take,
)
from qc_models.parallel import Sharder, gather

share = Sharder.share

#: Batches are read and normalised ahead of the step by this many threads, this many ahead.
READ_OPTIONS = grain.ReadOptions(num_threads=2, prefetch_buffer_size=2)


class Source(Protocol):
    def __len__(self) -> int: ...

    def read(self, indices: np.ndarray) -> Dataset:
        """The examples at `indices` (int [K]), stacked: arrays [K, ...] in physical units."""
        ...


@dataclasses.dataclass(frozen=True)
class ArraySource:
    """A split held in memory."""

    data: Dataset

    def __len__(self) -> int:
        return num_examples(self.data)

    def read(self, indices: np.ndarray) -> Dataset:
        return take(self.data, np.asarray(indices, dtype=np.int64))


class TfdsSource:
    """A split of a prepared TFDS dataset, e.g. ("quantum_canvas/tiny", "train"), no TensorFlow.

    Training never builds a dataset (paper75 is hours of PySCF): an unprepared one is a
    ValueError that says how to build it. An example is decoded once: its `keys` stay in memory
    after its first read (decoding, about 0.7 ms an example, would otherwise be most of a graph
    model's epoch; paper75's training split at 32 x 32 pixels holds 93 MB of canvases, 2,273 x
    32 x 32 x 10 float32).
    """

    def __init__(self, name: str, split: str, keys: Sequence[str], data_dir: str | None = None):
        import tensorflow_datasets as tfds

        if name.split("/")[0] == "quantum_canvas":
            import quantum_canvas  # noqa: F401  (registers the builder)

        builder = tfds.builder(name, data_dir=data_dir)
        if not builder.is_prepared():
            raise ValueError(
                f"{name} is not prepared in {builder.data_dir}: build it first (README, Dataset: "
                f"tfds build or tfds.builder({name!r}, ...).download_and_prepare()), or set "
                "data_dir to where it was built"
            )
        self._source = builder.as_data_source(split=split)
        self.keys = tuple(keys)
        self._decoded: dict[int, dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._source)

    def read(self, indices: np.ndarray) -> Dataset:
        indices = [int(i) for i in indices]
        new = [i for i in dict.fromkeys(indices) if i not in self._decoded]
        for i, example in zip(new, self._source.__getitems__(new), strict=True):
            self._decoded[i] = {k: example[k] for k in self.keys}
        return stack_examples((self._decoded[i] for i in indices), self.keys)


def open_splits(config) -> dict[str, Source]:
    """Train/validation/test sources of `config.dataset` ("synthetic" or a TFDS name)."""
    keys = (*INPUT_KEYS, *config.targets)
    if config.dataset == "synthetic":
        data = synthetic_dataset(config.num_synthetic, seed=config.split_seed)
        splits = random_split(data, config.split_fractions, config.split_seed)
        return {name: ArraySource(take_keys(split, keys)) for name, split in splits.items()}
    names = ("train", "validation", "test")
    return {
        name: TfdsSource(config.dataset, split, keys, config.data_dir)
        for name, split in zip(names, config.tfds_splits, strict=True)
    }


def take_keys(data: Dataset, keys: Sequence[str]) -> Dataset:
    return {k: data[k] for k in keys}


# --------------------------------------------------------------------------- whole-split values


def gather_split(source: Source, keys: Sequence[str]) -> tuple[Dataset, np.ndarray]:
    """Columns `keys` of every example of a split, and the split's canvas moments [3, C].

    Each process reads its share of the split, and every process returns the same whole columns,
    in split order. Canvas moments: (count, sum, sum of squares) per channel over the examples
    and pixels, float64 (`input_pipeline.canvas_moments`).
    """
    n = len(source)
    mine = np.arange(n)[share(n)]
    largest = -(-n // jax.process_count())  # shares differ by at most one row
    raw = source.read(mine)

    def padded(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, np.zeros((largest - len(x), *x.shape[1:]), x.dtype)])

    valid = gather(padded(np.ones(len(mine), np.int32))) > 0
    columns = {k: gather(padded(raw[k]))[valid] for k in keys}
    moments = gather(canvas_moments(raw["canvas"])[None]).sum(axis=0)
    return columns, moments


# --------------------------------------------------------------------------- batches


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order in which epoch `epoch` (1, 2, ...) visits the n training examples."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def training_batches(
    source: Source,
    normalizer: Normalizer,
    batch_size: int,
    *,
    seed: int,
    num_epochs: int,
) -> grain.MapDataset:
    """This process's share of every training batch of the run, epoch after epoch.

    Element s (a step) is batch s % steps_per_epoch of epoch s // steps_per_epoch + 1: model
    inputs, `targets` [b, T] (scaled), `target_mask` [b, T] (1 where the label is finite) and
    `mask` [b] (all 1), b = this process's rows of `batch_size`.
    The remainder of an epoch (fewer than `batch_size` examples) is skipped. Iterate with
    `.to_iter_dataset(READ_OPTIONS)`: its iterator's `get_state()`/`set_state()` checkpoint the
    position.
    """
    n = len(source)
    steps = n // batch_size
    order = functools.lru_cache(maxsize=2)(lambda epoch: epoch_order(seed, epoch, n))
    rows = share(batch_size)

    def read(step: int) -> Dataset:
        epoch, b = divmod(step, steps)
        indices = order(epoch + 1)[b * batch_size : (b + 1) * batch_size][rows]
        return {**normalizer(source.read(indices)), "mask": np.ones(len(indices), np.float32)}

    return grain.MapDataset.range(num_epochs * steps).map(read)


def padded_batch_indices(n: int, batch_size: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Example indices [batch_size] of batch b of a split read in order, and its mask.

    The last batch is padded with copies of example 0 (mask 0), so every batch has the same shape
    (one compilation, even sharding).
    """
    indices = np.arange(b * batch_size, min((b + 1) * batch_size, n))
    mask = np.zeros(batch_size, np.float32)
    mask[: len(indices)] = 1.0
    return np.concatenate([indices, np.zeros(batch_size - len(indices), np.int64)]), mask


def evaluation_batches(source: Source, normalizer: Normalizer, batch_size: int) -> grain.MapDataset:
    """This process's share of every batch of a split in order (padded; `mask` [b] 0 on
    padding; `target_mask` [b, T] 0 where a label is missing)."""
    rows = share(batch_size)

    def read(b: int) -> Dataset:
        indices, mask = padded_batch_indices(len(source), batch_size, b)
        return {**normalizer(source.read(indices[rows])), "mask": mask[rows]}

    return grain.MapDataset.range(-(-len(source) // batch_size)).map(read)
