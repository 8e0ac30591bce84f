"""The main job of `make demo` (qc_app.dataset_demo) end to end on the dummy records: build
without PySCF, tfds.load, the constant predictor, a CNN and SchNet, the MAE table, figures."""

import json
from pathlib import Path

import numpy as np
import quantum_canvas

from qc_app import dataset_demo as demo

DUMMY_STORE = Path(quantum_canvas.__file__).parent / "dummy_data" / "store"


def test_demo_builds_without_pyscf_trains_and_writes_figures(tmp_path, capsys):
    out = tmp_path / "out"
    mae = demo.main(["--config", "tiny", "--store", str(DUMMY_STORE), "--data-dir",
                     str(tmp_path / "tfds"), "--out", str(out), "--epochs", "2",
                     "--samples", "17"])
    printed = capsys.readouterr().out
    assert "17/2/2 train/validation/test pairs, 0 of 21 left out" in printed
    assert "seed-42 split (1 epochs)" in printed and "cnn: 1 epochs" in printed  # 17 samples
    assert "skill cnn" in printed and "skill schnet" in printed
    assert set(mae) == {"constant", "cnn", "schnet"}
    assert json.loads((out / "mae.json").read_text()) == mae
    for model in mae:
        assert set(mae[model]) == set(demo.TARGETS)
        assert all(np.isfinite(value) and value > 0 for value in mae[model].values())
        assert (out / model / "parity_test.png").stat().st_size > 10_000
    (canvas,) = out.glob("canvas_*.png")
    assert canvas.stat().st_size > 50_000
