"""DatasetBuilderTestCase on real pair records: the 21 tiny pairs at the default level of theory
(dummy_data/store, 280 kB), and the official config on a synthetic npz of the paper's schema
(dummy_data/dataset_combined.npz, written by :func:`write_official_npz`)."""

from pathlib import Path
from typing import ClassVar

import numpy as np
import tensorflow_datasets as tfds

from qc_jax.elements import parse_pair
from quantum_canvas import official, quantum_canvas_dataset_builder

OFFICIAL_PAIRS = ("C_C", "C_F", "C_H", "C_O", "F_F", "F_H", "H_H", "H_Li", "N_N", "O_O")


def write_official_npz(path: Path, names=OFFICIAL_PAIRS, seed: int = 0) -> None:
    """A small npz with the schema of the paper's dataset_combined.npz (random values)."""
    rng = np.random.default_rng(seed)
    n = len(names)
    images = np.zeros((n, 10, 32, 32), np.float32)
    images[:, :, 12:20, 8:24] = rng.random((n, 10, 8, 16), np.float32)
    geometries = np.zeros((n, 2, 4))
    distance = rng.uniform(0.7, 3.0, n)
    geometries[:, 0, 2], geometries[:, 1, 2] = -distance / 2, distance / 2
    geometries[:, :, 3] = rng.uniform(1, 8, (n, 2))
    labels = []
    for i in range(n):
        label = {key: float(rng.normal()) for key, _ in official.LABELS}
        label.update(distance_ang=float(distance[i]), total_charge=0.0, softness_evinv=None,
                     system_id_guess=names[i])
        labels.append(label)
    np.savez_compressed(
        path, images=images, geometries=geometries,
        elements=np.array([parse_pair(name) for name in names]),
        pair_names=np.array(names), labels=np.array(labels, dtype=object),
        metadata=np.array([{"pair_name": name} for name in names], dtype=object))

_SEED_SPLITS = {"train": 17, "validation": 2, "test": 2}


class QuantumCanvasTinyTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = quantum_canvas_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST: ClassVar[list[str]] = ["tiny"]
    SPLITS: ClassVar[dict[str, int]] = {
        **_SEED_SPLITS,
        **{f"{split}_seed{seed}": n for seed in (123, 456) for split, n in _SEED_SPLITS.items()},
        "composition_train": 13, "composition_validation": 2, "composition_test": 6,
    }
    # Every seed and the composition split partition the same 21 pairs.
    OVERLAPPING_SPLITS: ClassVar[list[str]] = [s for s in SPLITS if s not in _SEED_SPLITS]
    SKIP_CHECKSUMS = True
    # qc_jax.store reads records with numpy from the local filesystem, not through gfile.
    MOCK_OUT_FORBIDDEN_OS_FUNCTIONS = False

    def _make_builder(self, config=None):
        return self.dataset_class(data_dir=self.tmp_dir, config=config, version=self.VERSION,
                                  store_dir=str(self.dummy_data / "store"),
                                  compute=False)


class QuantumCanvasOfficialTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = quantum_canvas_dataset_builder.Builder
    BUILDER_CONFIG_NAMES_TO_TEST: ClassVar[list[str]] = ["official"]
    SPLITS: ClassVar[dict[str, int]] = {
        **{f"{split}{suffix}": n for suffix in ("", "_seed123", "_seed456")
           for split, n in (("train", 8), ("validation", 1), ("test", 1))},
        "composition_train": 6, "composition_validation": 1, "composition_test": 3,
    }
    OVERLAPPING_SPLITS: ClassVar[list[str]] = [
        s for s in SPLITS if s not in ("train", "validation", "test")]
    SKIP_CHECKSUMS = True
    MOCK_OUT_FORBIDDEN_OS_FUNCTIONS = False  # the npz holds pickled label dicts


if __name__ == "__main__":
    tfds.testing.test_main()
