"""quantum_canvas beyond DatasetBuilderTestCase: split rules, both read modes, clear errors."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import quantum_canvas  # registers the builder
import tensorflow_datasets as tfds
from quantum_canvas import records, splits

from qc_jax.chem.settings import DEFAULT, FAST
from qc_jax.elements import pair_name, pairs

DUMMY = Path(quantum_canvas.__file__).parent / "dummy_data"
DEFAULT_FOLDER = DEFAULT.digest()[:16]
"""The dummy store's level-of-theory folder (records of the default settings)."""
NAMES = [pair_name(*p) for p in pairs("tiny")]


def test_random_splits_are_seeded_partitions():
    first, again, other = (splits.random_split(NAMES, s) for s in (42, 42, 123))
    assert first == again and first != other
    assert [len(first[p]) for p in splits.PARTS] == [17, 2, 2]
    assert sorted(n for part in first.values() for n in part) == sorted(NAMES)


def test_dataset_and_model_zoo_split_alike():
    from qc_models import input_pipeline

    data = {"index": np.arange(len(NAMES))}
    parts = input_pipeline.random_split(data, seed=123)
    names = sorted(NAMES)
    assert {part: sorted(names[i] for i in parts[part]["index"]) for part in parts} == \
        splits.random_split(NAMES, 123)


def test_composition_split_holds_out_whole_elements():
    parts = splits.composition_split(NAMES, ["F"])
    assert parts["test"] == sorted(n for n in NAMES if "F" in n.split("_"))
    assert not any("F" in n.split("_") for n in parts["train"] + parts["validation"])


def test_default_config_is_the_full_set_and_a_long_compute_must_be_asked_for(tmp_path):
    # conftest.py hides the shipped records, so no pair of paper75 has a record here
    builder = tfds.builder("quantum_canvas", data_dir=tmp_path, store_dir=str(tmp_path / "s"))
    assert builder.builder_config.name == "paper75"
    with pytest.raises(records.MissingRecordsError, match=r"2850 of 2850 pairs .* CPU-hours"):
        builder.download_and_prepare()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds")
    builder = tfds.builder("quantum_canvas/tiny", data_dir=data_dir,
                           store_dir=str(DUMMY / "store"), compute=False)
    builder.download_and_prepare()
    return data_dir


def test_tfds_load_and_data_source_read_the_same_examples(tiny_dir):
    ds = tfds.load("quantum_canvas/tiny", split="test", data_dir=tiny_dir)
    loaded = {ex["pair"]: ex for ex in tfds.as_numpy(ds)}
    source = tfds.data_source("quantum_canvas/tiny", split="test", data_dir=tiny_dir)
    assert len(source) == len(loaded) == 2
    for i in range(len(source)):
        example = source[i]
        np.testing.assert_array_equal(example["canvas"], loaded[example["pair"]]["canvas"])
        assert example["e_g_ev"] == loaded[example["pair"]]["e_g_ev"]
    canvas, gap = next(iter(tfds.as_numpy(tfds.load("quantum_canvas/tiny", split="train",
                                                    data_dir=tiny_dir, as_supervised=True))))
    assert canvas.shape == (32, 32, 10) and canvas.dtype == np.float32 and np.isfinite(gap)


def test_data_source_without_data_dir_reads_the_default_data_dir(tiny_dir, monkeypatch):
    # tfds.data_source then asks the builder for array_record files (TFDS's default for it)
    monkeypatch.setattr(tfds.core.constants, "DATA_DIR", str(tiny_dir))  # $TFDS_DATA_DIR
    source = tfds.data_source("quantum_canvas/tiny", split="test")
    assert len(source) == 2 and source[0]["canvas"].shape == (32, 32, 10)
    assert len(list(tfds.load("quantum_canvas/tiny", split="test"))) == 2


def test_training_source_reads_each_example_as_the_data_source_does(tiny_dir):
    from qc_models.sources import TfdsSource

    keys = ("canvas", "atomic_numbers", "e_g_ev")
    source = TfdsSource("quantum_canvas/tiny", "train", keys, str(tiny_dir))
    direct = tfds.data_source("quantum_canvas/tiny", split="train", data_dir=tiny_dir)
    for indices in ([3, 0, 3], [0, 5, 3]):  # again, and partly new: decoded once, kept
        batch = source.read(np.array(indices))
        for row, i in enumerate(indices):
            for k in keys:
                np.testing.assert_array_equal(batch[k][row], direct[i][k])
    batch["canvas"][:] = np.nan  # a caller's batch is its own
    assert np.isfinite(source.read(np.array([0]))["canvas"]).all()


def test_one_builder_reads_both_modes_in_any_order(tiny_dir):
    builder = tfds.builder("quantum_canvas/tiny", data_dir=tiny_dir)
    source = builder.as_data_source(split="test")
    loaded = list(tfds.as_numpy(builder.as_dataset(split="test")))
    assert sorted(ex["pair"] for ex in loaded) == sorted(source[i]["pair"] for i in range(2))


def test_examples_carry_geometry_and_consistent_channels(tiny_dir):
    example = tfds.data_source("quantum_canvas/tiny", split="train", data_dir=tiny_dir)[0]
    rho_l, rho_m = example["canvas"][..., :2].sum(-1), example["canvas"][..., 2:4].sum(-1)
    np.testing.assert_allclose(rho_l, rho_m, rtol=1e-4, atol=1e-6)
    assert example["canvas_geometry"]["pixel_angstrom"] == pytest.approx(0.25)
    distance = np.linalg.norm(example["positions"][1] - example["positions"][0])
    assert distance == pytest.approx(example["distance_ang"], rel=1e-5)
    assert example["generating_scalars"][5] == pytest.approx(example["distance_ang"], rel=1e-5)


def test_stamps_control_variant_has_the_same_labels_and_other_images(tiny_dir, tmp_path):
    builder = tfds.builder("quantum_canvas/tiny_stamps", data_dir=tmp_path,
                           store_dir=str(DUMMY / "store"), compute=False)
    builder.download_and_prepare()
    stamps = {ex["pair"]: ex for ex in tfds.data_source("quantum_canvas/tiny_stamps",
                                                        split="test", data_dir=tmp_path)}
    physical = {ex["pair"]: ex for ex in tfds.data_source("quantum_canvas/tiny", split="test",
                                                          data_dir=tiny_dir)}
    assert stamps.keys() == physical.keys()
    for pair, example in stamps.items():
        assert example["e_g_ev"] == physical[pair]["e_g_ev"]
        # The paper's stamps put the atoms at columns 11 and 21 of row 16 whatever the bond.
        assert example["canvas"][16, 21, 7] > example["canvas"][16, 16, 7]
        assert not np.allclose(example["canvas"], physical[pair]["canvas"])


def test_grain_pipeline_batches_every_example_once_per_epoch(tiny_dir):
    from quantum_canvas import grain_pipeline

    seen = []
    for batch in grain_pipeline.batches("quantum_canvas/tiny", "train", batch_size=8, seed=3,
                                        keys=("canvas", "atomic_numbers", "e_g_ev"),
                                        data_dir=tiny_dir):
        assert batch["canvas"].shape[1:] == (32, 32, 10) and batch["canvas"].dtype == np.float32
        seen.extend(map(tuple, batch["atomic_numbers"]))
    assert len(seen) == 17 and len(set(seen)) == 17  # the 17 training pairs, each once
    again = next(grain_pipeline.batches("quantum_canvas/tiny", "train", batch_size=17, seed=3,
                                        keys=("atomic_numbers",), data_dir=tiny_dir))
    assert list(map(tuple, again["atomic_numbers"])) == seen  # seeded shuffle is reproducible


def test_unknown_config_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="BuilderConfig huge not found"):
        tfds.builder("quantum_canvas/huge", data_dir=tmp_path)


def test_missing_official_npz_is_a_clear_error(tmp_path):
    manual = tmp_path / "manual"
    manual.mkdir()
    (manual / "README").write_text("not the npz")
    builder = tfds.builder("quantum_canvas/official", data_dir=tmp_path)
    config = tfds.download.DownloadConfig(manual_dir=str(manual))
    with pytest.raises(FileNotFoundError, match="zenodo"):
        builder.download_and_prepare(download_config=config)


def test_records_of_other_settings_are_a_clear_error(tmp_path):
    theory_folder = tmp_path / "store" / DEFAULT_FOLDER
    shutil.copytree(DUMMY / "store" / DEFAULT_FOLDER, theory_folder)
    with pytest.raises(records.SettingsMismatchError, match="other settings"):
        records.open_store(theory_folder, FAST)
    builder = tfds.builder("quantum_canvas/tiny", data_dir=tmp_path / "tfds",
                           store_dir=str(theory_folder), compute=False)
    builder.download_and_prepare()  # the folder of the config's own settings is accepted
    assert builder.info.metadata["num_left_out"] == 0


def test_a_pair_past_the_time_limit_is_left_out_and_listed(tmp_path):
    shutil.copytree(DUMMY / "store", tmp_path / "store")
    (tmp_path / "store" / DEFAULT_FOLDER / "pairs" / "C_O.npz").unlink()
    builder = tfds.builder("quantum_canvas/tiny", data_dir=tmp_path / "tfds", jobs=1,
                           store_dir=str(tmp_path / "store"), time_limit_s=0.05)
    builder.download_and_prepare()
    assert builder.info.metadata["num_left_out"] == 1
    assert "time limit of 0.05 s exceeded" in builder.info.metadata["left_out"]["C_O"]
    assert sum(split.num_examples for name, split in builder.info.splits.items()
               if name in splits.PARTS) == 20


def test_records_at_a_raised_smearing_are_left_out_with_their_reason():
    from dataclasses import replace

    from qc_jax.store import Store

    record = Store(DUMMY / "store", DEFAULT).load("H_H")
    assert records.left_out_reason(record) is None
    raised = replace(record, status="flagged", reason="converged only with raised smearing",
                     labels={**record.labels, "smearing_sigma_ev": 0.27})
    assert records.left_out_reason(raised).startswith("raised smearing: converged only")
    failed = replace(record, status="failed", reason="SCF not converged", labels={})
    assert records.left_out_reason(failed) == "failed: SCF not converged"


def test_a_build_reads_shipped_records_and_a_store_record_replaces_one_only_when_asked(tmp_path):
    # Shipped records of the default level (made from the dummy store) and an empty store:
    # nothing is computed. A store record (here: H_H with a changed label) is used only with
    # prefer_store.
    from dataclasses import replace

    from qc_jax.compact import ship
    from qc_jax.store import Store

    shipped = tmp_path / "shipped"
    dummy = Store(DUMMY / "store", DEFAULT)
    ship(dummy, shipped)
    store = Store(tmp_path / "store", DEFAULT)
    store.put(replace(dummy.load("H_H"), labels={**dummy.load("H_H").labels, "e_g_ev": 99.0}))

    def gap_of_h2(**kwargs):
        builder = tfds.builder("quantum_canvas/tiny", data_dir=tmp_path / str(len(kwargs)),
                               store_dir=str(tmp_path / "store"), shipped_dir=str(shipped),
                               compute=False, **kwargs)
        builder.download_and_prepare()
        assert builder.info.metadata["num_left_out"] == 0
        assert builder.info.metadata["shipped_dir"] == str(shipped)
        examples = [ex for split in ("train", "validation", "test")
                    for ex in tfds.as_numpy(builder.as_dataset(split=split))]
        assert len(examples) == 21
        return next(ex["e_g_ev"] for ex in examples if ex["pair"] == b"H_H")

    assert gap_of_h2() != pytest.approx(99.0)
    assert gap_of_h2(prefer_store=True) == pytest.approx(99.0)
