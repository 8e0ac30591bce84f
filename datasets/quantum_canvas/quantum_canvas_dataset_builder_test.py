"""DatasetBuilderTestCase on real pair records: the 21 tiny pairs at the default level of theory
(dummy_data/store, 280 kB), and the official config on a synthetic npz of the paper's schema."""

from typing import ClassVar

import tensorflow_datasets as tfds

from quantum_canvas import quantum_canvas_dataset_builder

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


if __name__ == "__main__":
    tfds.testing.test_main()
