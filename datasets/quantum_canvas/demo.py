"""The main job behind ``make demo``: dataset -> tfds.load -> model zoo CNN -> MAE and figures.

    python -m quantum_canvas.demo [--config tiny] [--store data/store] [--data-dir data/tfds]
                                  [--out out/demo] [--epochs 150] [--jobs 2]

1. builds ``quantum_canvas/<config>``: computes the missing pair records with PySCF (parallel,
   resumable, progress bar), renders the canvases with the JAX kernel, writes TFDS shards;
2. loads the splits with ``tfds.load`` and trains a small CNN of :mod:`qc_models` on the canvases
   of each of the paper's three seeded random splits (seeds 42, 123, 456);
3. prints the test MAE of a few targets, per seed and averaged over the seeds (the paper's
   protocol), next to a constant predictor (the training median of the same split);
4. writes ``canvas_<pair>.png`` (a ``test`` pair's ten channels) and
   ``cnn/seed42/parity_test.png``.
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
    """Runs the demo; returns {target: (cnn, constant)} test MAEs in physical units, each
    averaged over the three seeded splits."""
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
    from quantum_canvas import records, splits
    from quantum_canvas.configs import SPLIT_SEEDS

    name = f"quantum_canvas/{args.config}"
    t = _step(f"1/4 building {name} (PySCF records, JAX canvases, TFDS shards)")
    builder = tfds.builder(name, data_dir=args.data_dir, store_dir=args.store, jobs=args.jobs)
    builder.download_and_prepare()
    sizes = {split: info.num_examples for split, info in builder.info.splits.items()}
    print(f"{name}: {sizes['train']}/{sizes['validation']}/{sizes['test']} train/validation/"
          f"test pairs, {builder.info.metadata['num_left_out']} left out, in "
          f"{builder.data_dir} ({time.perf_counter() - t:.0f} s)")

    t = _step(f"2/4 tfds.load and training a CNN from the model zoo on the splits of seeds "
              f"{', '.join(map(str, SPLIT_SEEDS))}")
    config = Config(model="cnn", model_kwargs={"features": 16}, targets=TARGETS,
                    dataset=name, data_dir=args.data_dir, batch_size=8,
                    num_epochs=args.epochs, warmup_epochs=5, early_stopping_patience=50,
                    learning_rate=3e-3, progress=True)
    cnn, constant = {target: [] for target in TARGETS}, {target: [] for target in TARGETS}
    for seed in SPLIT_SEEDS:
        train, _, test_split = split_names = splits.seeded_split_names(seed, SPLIT_SEEDS)
        examples = {split: list(tfds.as_numpy(tfds.load(name, split=split,
                                                        data_dir=args.data_dir)))
                    for split in (train, test_split)}
        data = {split: input_pipeline.stack_examples(found, TARGETS)
                for split, found in examples.items()}
        print(f"seed {seed}: tfds.load gave {len(examples[train])} train, "
              f"{len(examples[test_split])} test examples")
        results = train_and_evaluate(config.replace(tfds_splits=split_names),
                                     Path(args.out) / "cnn" / f"seed{seed}")
        print(f"seed {seed}: trained {results['epochs_run']} epochs, best {results['best_epoch']}")
        if seed == SPLIT_SEEDS[0]:
            test = examples[test_split][0]
        for target in TARGETS:
            cnn[target].append(results["test_mae"][target])
            constant[target].append(float(np.mean(np.abs(
                data[test_split][target] - np.median(data[train][target])))))
    print(f"canvas {test['canvas'].shape} {test['canvas'].dtype} "
          f"({time.perf_counter() - t:.0f} s)")

    _step(f"3/4 test MAE, mean over seeds {', '.join(map(str, SPLIT_SEEDS))} "
          f"({len(examples[test_split])} test pairs each), vs a constant predictor")
    print(f"{'target':<14} {'unit':<4} {'CNN':>9} {'constant':>9}   CNN per seed")
    table = {}
    for target in TARGETS:
        table[target] = (float(np.mean(cnn[target])), float(np.mean(constant[target])))
        per_seed = " ".join(f"{value:.3f}" for value in cnn[target])
        print(f"{target:<14} {unit(target):<4} {table[target][0]:9.3f} {table[target][1]:9.3f}"
              f"   {per_seed}")
    (Path(args.out) / "mae.json").write_text(json.dumps(
        {"cnn": cnn, "constant": constant, "seeds": list(SPLIT_SEEDS)}, indent=1))

    _step("4/4 figures")
    pair = test["pair"].decode()
    store = records.open_store(records.store_root(args.store),
                               builder.builder_config.level_of_theory)
    path = figures.canvas_figure(test["canvas"], builder.builder_config.spec, store.get(pair),
                                 Path(args.out) / f"canvas_{pair}.png",
                                 title=f"{pair} from tfds.load('{name}', split='test')")
    parity = Path(args.out) / "cnn" / f"seed{SPLIT_SEEDS[0]}" / "parity_test.png"
    print(f"wrote {path} and {parity}")
    print(f"\ndemo done in {time.perf_counter() - start:.0f} s ({quantum_canvas.__name__} "
          f"{builder.info.version})")
    return table


if __name__ == "__main__":
    main()
