"""Training on the real TFDS dataset: the `tiny` config built from the dataset's dummy store,
read through `tfds.data_source`, in a process that never imports TensorFlow."""

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qc_models.configs import test as test_config

quantum_canvas = pytest.importorskip("quantum_canvas")

#: Trains, then says whether TensorFlow was imported (by anything in the training loop).
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from qc_models.configs.base import Config
    from qc_models.train import train_and_evaluate
    config = Config.from_dict(json.loads(sys.argv[1]))
    results = train_and_evaluate(config, sys.argv[2])
    print("RESULT", json.dumps({**results, "tensorflow": "tensorflow" in sys.modules}))
    """
)


def test_train_on_the_tiny_tfds_dataset_without_tensorflow(tmp_path):
    import tensorflow_datasets as tfds
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
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(config.to_dict()), str(tmp_path / "run")],
        env=os.environ | {"OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.split("RESULT", 1)[1])
    assert results["tensorflow"] is False
    assert set(results["test_mae"]) == set(config.targets)
    normalizer = json.loads((tmp_path / "run" / "normalizer.json").read_text())
    assert len(normalizer["scalars_mean"]) == 6  # generating_scalars from the dataset
    # per-pair predictions carry the dataset's own pair names, in split order
    with (tmp_path / "run" / "predictions_test.csv").open() as f:
        pairs = [row[0] for row in list(csv.reader(f))[1:]]
    test = tfds.data_source("quantum_canvas/tiny", split="test", data_dir=str(tmp_path / "tfds"))
    assert pairs == [test[i]["pair"].decode() for i in range(len(test))]
