"""The main job of `make demo` (quantum_canvas.demo) end to end on the dummy records: build,
tfds.load, CNN training on the three seeded splits, the MAE table and the figures."""

import json
from pathlib import Path

import numpy as np
import quantum_canvas
from quantum_canvas import demo

DUMMY_STORE = Path(quantum_canvas.__file__).parent / "dummy_data" / "store"


def test_demo_builds_trains_on_three_seeds_and_writes_figures(tmp_path, capsys):
    out = tmp_path / "out"
    table = demo.main(["--store", str(DUMMY_STORE), "--data-dir", str(tmp_path / "tfds"),
                       "--out", str(out), "--epochs", "2"])
    printed = capsys.readouterr().out
    assert "17/2/2 train/validation/test pairs, 0 left out" in printed
    assert "mean over seeds 42, 123, 456" in printed
    assert set(table) == set(demo.TARGETS)
    saved = json.loads((out / "mae.json").read_text())
    for target, (cnn, constant) in table.items():
        assert len(saved["cnn"][target]) == 3 and np.isfinite(cnn) and constant > 0
        assert cnn == np.mean(saved["cnn"][target])
    for seed in (42, 123, 456):
        assert (out / "cnn" / f"seed{seed}" / "parity_test.png").stat().st_size > 10_000
    (canvas,) = out.glob("canvas_*.png")
    assert canvas.stat().st_size > 50_000
