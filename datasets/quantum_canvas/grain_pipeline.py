"""A grain input pipeline for JAX over the array_record shards (no TensorFlow needed).

    import quantum_canvas.grain_pipeline as qc_grain
    for batch in qc_grain.batches("quantum_canvas/tiny", "train", batch_size=8, seed=0):
        batch["canvas"]   # [8, 32, 32, 10] float32, ready for jax.device_put

``tfds.data_source`` gives random access to the examples; grain shuffles (per epoch, seeded),
selects the features a model reads and batches them into numpy arrays.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

#: Features the model zoo reads (see ``qc_models.input_pipeline``), plus a few labels.
DEFAULT_KEYS = ("canvas", "positions", "atomic_numbers", "generating_scalars", "e_g_ev",
                "e_homo_ev", "e_lumo_ev", "dipole_mag_d", "distance_ang")


def batches(
    name: str,
    split: str,
    batch_size: int,
    seed: int = 0,
    keys: Sequence[str] = DEFAULT_KEYS,
    data_dir: str | None = None,
    num_epochs: int = 1,
    drop_remainder: bool = False,
) -> Iterator[dict[str, np.ndarray]]:
    """Shuffled batches (dicts of numpy arrays [B, ...]) of a built ``quantum_canvas`` config."""
    import grain
    import tensorflow_datasets as tfds

    import quantum_canvas  # noqa: F401  (registers the builder)

    source = tfds.data_source(name, split=split, data_dir=data_dir)
    keys = tuple(keys)
    dataset = (
        grain.MapDataset.source(source)
        .repeat(num_epochs)
        .shuffle(seed=seed)
        .map(lambda example: {key: np.asarray(example[key]) for key in keys})
        .batch(batch_size, drop_remainder=drop_remainder)
    )
    return iter(dataset)
