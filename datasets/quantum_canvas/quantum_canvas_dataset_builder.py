"""``quantum_canvas``: quantum canvases and labels of diatomic molecules (TFDS builder).

    import quantum_canvas  # registers the builder
    ds = tfds.load("quantum_canvas/tiny", split="train")            # tf.data (TensorFlow)
    src = tfds.data_source("quantum_canvas/tiny", split="train")    # random access (grain)

Builder arguments (``tfds.load(..., builder_kwargs={...})``): ``store_dir``, the records
directory (default ``$QC_CANVAS_STORE`` or ``data/store``); ``jobs``, the number of PySCF
worker processes for missing records (default: all cores); ``compute=False`` leaves missing
records out instead of computing them.
"""

from __future__ import annotations

from typing import ClassVar

import tensorflow_datasets as tfds

from qc_jax.canvas import render_many
from qc_jax.elements import pair_name
from quantum_canvas import features, formats, official, records, splits
from quantum_canvas.configs import CONFIGS, SPLIT_SEEDS, QuantumCanvasConfig

_HOMEPAGE = "https://arxiv.org/abs/2512.01519"


class Builder(tfds.core.GeneratorBasedBuilder):
    """DatasetBuilder for quantum_canvas (configs: see :data:`quantum_canvas.configs.CONFIGS`)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES: ClassVar[dict[str, str]] = {
        "1.0.0": "Initial release: ten physical channels from PySCF densities (JAX kernel), "
                 "41 labels, random splits (seeds 42/123/456) and a halogen-held-out "
                 "composition split; the paper's npz as config 'official'.",
    }
    BUILDER_CONFIGS: ClassVar[list[QuantumCanvasConfig]] = list(CONFIGS)
    MANUAL_DOWNLOAD_INSTRUCTIONS = official.INSTRUCTIONS
    builder_config: QuantumCanvasConfig

    def __init__(self, *, store_dir: str | None = None, jobs: int | None = None,
                 compute: bool = True, **kwargs):
        self._store_dir, self._jobs, self._compute = store_dir, jobs, compute
        super().__init__(**kwargs)

    def download_and_prepare(self, **kwargs) -> None:
        """TFDS's ``download_and_prepare``, then array_record shards beside the tfrecord ones,
        so ``tfds.load`` and ``tfds.data_source`` both read the build."""
        super().download_and_prepare(**kwargs)
        formats.add_array_record(self)

    def as_data_source(self, *args, **kwargs):
        """TFDS's ``as_data_source`` (array_record random access) on a tfrecord build with
        array_record shards (see :mod:`quantum_canvas.formats`)."""
        formats.restore_alternatives(self.info)
        return super().as_data_source(*args, **kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        return self.dataset_info_from_configs(
            features=(official.features() if config.official else features.features(config.spec)),
            supervised_keys=("canvas", features.DEFAULT_TARGET),
            homepage=_HOMEPAGE,
            metadata=tfds.core.MetadataDict(config.metadata()),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        config = self.builder_config
        if config.official:
            examples = official.examples(official.npz_path(dl_manager.manual_dir))
            self.info.metadata["md5"] = official.md5_of(official.npz_path(dl_manager.manual_dir))
            held_out = official.HELD_OUT
        else:
            store = records.open_store(records.store_root(self._store_dir),
                                       config.level_of_theory)
            converged, left_out = records.load_records(store, config.pairs, self._jobs,
                                                         compute=self._compute)
            self.info.metadata.update(records_dir=str(store.folder), left_out=left_out,
                                      num_left_out=len(left_out))
            canvases = render_many(converged, config.spec)
            examples = {r.pair: features.example(r, c, config.spec)
                        for r, c in zip(converged, canvases, strict=True)}
            held_out = config.held_out
        names = ([pair_name(*p) for p in config.pairs] if not config.official
                 else sorted(examples))
        membership = splits.all_splits(names, SPLIT_SEEDS, held_out)
        return {split: self._generate_examples(examples, members)
                for split, members in membership.items()}

    def _generate_examples(self, examples: dict[str, dict], members: list[str]):
        """Yields (pair name, example) for the members of one split that converged."""
        for name in members:
            if name in examples:
                yield name, examples[name]
