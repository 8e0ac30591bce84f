"""The main job behind ``make demo``: dataset -> tfds.load -> model zoo CNN -> MAE and figures.

    python -m quantum_canvas.demo [--config tiny] [--store data/store] [--data-dir data/tfds]
                                  [--out out/demo] [--epochs 150] [--jobs 2]

1. builds ``quantum_canvas/<config>``: computes the missing pair records with PySCF (parallel,
   resumable, progress bar), renders the canvases with the JAX kernel, writes TFDS shards;
2. loads the splits with ``tfds.load`` and trains a small CNN of :mod:`qc_models` on the canvases;
3. prints the test MAE of a few targets next to a constant predictor (the training median);
4. writes ``canvas_<pair>.png`` (a test pair's ten channels) and ``parity_test.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

TARGETS = ("e_g_ev", "e_homo_ev", "dipole_mag_d", "distance_ang")


def _step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def main(argv: list[str] | None = None) -> dict:
    """Runs the demo; returns {target: (cnn test MAE, constant test MAE)} in physical units."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="tiny", help="quantum_canvas config")
    parser.add_argument("--store", default=None, help="records directory (default: "
                        "$QC_CANVAS_STORE or data/store)")
    parser.add_argument("--data-dir", default="data/tfds", help="TFDS data directory")
    parser.add_argument("--out", default="out/demo", help="figures, checkpoints, metrics")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--jobs", type=int, default=None, help="PySCF workers (default: cores)")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    import tensorflow_datasets as tfds
    from qc_models import input_pipeline
    from qc_models.configs.base import Config
    from qc_models.train import train_and_evaluate, unit

    import quantum_canvas
    from qc_jax import figures
    from quantum_canvas import records

    name = f"quantum_canvas/{args.config}"
    t = _step(f"1/4 building {name} (PySCF records, JAX canvases, TFDS shards)")
    builder = tfds.builder(name, data_dir=args.data_dir, store_dir=args.store, jobs=args.jobs)
    builder.download_and_prepare()
    sizes = {split: info.num_examples for split, info in builder.info.splits.items()}
    print(f"{name}: {sizes['train']}/{sizes['validation']}/{sizes['test']} train/validation/"
          f"test pairs, {builder.info.metadata['num_left_out']} left out, in "
          f"{builder.data_dir} ({time.perf_counter() - t:.0f} s)")

    t = _step("2/4 tfds.load and training a CNN from the model zoo")
    examples = {split: list(tfds.as_numpy(tfds.load(name, split=split, data_dir=args.data_dir)))
                for split in ("train", "test")}
    data = {split: input_pipeline.stack_examples(found, TARGETS)
            for split, found in examples.items()}
    test = examples["test"][0]
    print(f"tfds.load: {len(examples['train'])} train, {len(examples['test'])} test examples; "
          f"canvas {test['canvas'].shape} {test['canvas'].dtype}")
    config = Config(model="cnn", model_kwargs={"features": 16}, targets=TARGETS,
                    dataset=name, data_dir=args.data_dir, batch_size=8,
                    num_epochs=args.epochs, warmup_epochs=5, early_stopping_patience=50,
                    learning_rate=3e-3, progress=True)
    workdir = Path(args.out) / "cnn"
    results = train_and_evaluate(config, workdir)
    print(f"trained {results['epochs_run']} epochs, best {results['best_epoch']} "
          f"({time.perf_counter() - t:.0f} s)")

    _step(f"3/4 test MAE ({len(examples['test'])} test pairs) vs a constant predictor")
    table = {}
    print(f"{'target':<14} {'unit':<4} {'CNN':>9} {'constant':>9}")
    for target in TARGETS:
        constant = float(np.mean(np.abs(data["test"][target] - np.median(data["train"][target]))))
        table[target] = (results["test_mae"][target], constant)
        print(f"{target:<14} {unit(target):<4} {table[target][0]:9.3f} {constant:9.3f}")
    (Path(args.out) / "mae.json").write_text(json.dumps(table, indent=1))

    _step("4/4 figures")
    pair = test["pair"].decode()
    store = records.open_store(records.store_root(args.store),
                               builder.builder_config.level_of_theory)
    path = figures.canvas_figure(test["canvas"], builder.builder_config.spec, store.get(pair),
                                 Path(args.out) / f"canvas_{pair}.png",
                                 title=f"{pair} from tfds.load('{name}', split='test')")
    print(f"wrote {path} and {workdir / 'parity_test.png'}")
    print(f"\ndemo done in {time.perf_counter() - start:.0f} s ({quantum_canvas.__name__} "
          f"{builder.info.version})")
    return table


if __name__ == "__main__":
    main()
