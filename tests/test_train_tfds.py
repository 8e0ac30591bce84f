"""Training on the real TFDS dataset: the `tiny` config built from the dataset's dummy store."""

import json
from pathlib import Path

import pytest
from qc_models.configs import test as test_config
from qc_models.train import train_and_evaluate

quantum_canvas = pytest.importorskip("quantum_canvas")


def test_train_on_the_tiny_tfds_dataset(tmp_path):
    from quantum_canvas import quantum_canvas_dataset_builder

    store = Path(quantum_canvas.__file__).parent / "dummy_data" / "store"
    builder = quantum_canvas_dataset_builder.Builder(
        data_dir=str(tmp_path / "tfds"), config="tiny", store_dir=str(store), jobs=1
    )
    builder.download_and_prepare()
    config = test_config.get_config().replace(
        dataset="quantum_canvas/tiny",
        data_dir=str(tmp_path / "tfds"),
        model="late_fusion",  # reads the canvas, the positions and the atomic numbers
        model_kwargs={"features": 4},
        batch_size=4,
        num_epochs=2,
    )
    results = train_and_evaluate(config, tmp_path / "run")
    assert set(results["test_mae"]) == set(config.targets)
    normalizer = json.loads((tmp_path / "run" / "normalizer.json").read_text())
    assert len(normalizer["scalars_mean"]) == 6  # generating_scalars from the dataset
