"""The main job behind ``make demo``: the shipped dataset -> tfds.load -> CNN and SchNet -> MAE.

    python -m qc_app.dataset_demo [--config paper75] [--data-dir data/tfds] [--out out/demo]
                                  [--models constant cnn schnet] [--epochs 30] [--samples N]
                                  [--store DIR]

1. builds ``quantum_canvas/<config>`` from the pair records shipped with the package (and those
   of ``--store``), without PySCF (``compute=False``): no pair is computed, pairs without a record
   are left out and counted; renders the canvases with the JAX kernel, writes TFDS shards;
2. trains each model of ``--models`` on the ``train`` split of seed 42 (early stopping on
   ``validation``) with :func:`qc_models.train.train_and_evaluate`;
3. prints the test MAE of each model per target in physical units, and the skill ratio (MAE /
   the constant predictor's MAE on the same split: below 1 beats predicting the training
   median);
4. writes ``canvas_<pair>.png`` (a ``test`` pair's ten channels) and each model's
   ``<model>/parity_test.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

TARGETS = ("e_g_ev", "e_homo_ev", "binding_energy_ev", "dipole_mag_d")
MODELS = ("constant", "cnn", "schnet")
MODEL_KWARGS = {"cnn": {"features": 16}}
"""A small CNN: a few minutes on one CPU for the full set."""
SAMPLES = 20_000
"""Training examples per model: 30 epochs of 358 pairs (293 in training) took 81 s for the
constant, the CNN and SchNet together (2026-11-30); the full set's 2,280 training pairs get 9
epochs, about 1,300 steps of 16, so that ``make demo`` stays within 15 minutes."""


def _step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Runs the demo; returns {model: {target: test MAE}} in physical units."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="paper75", help="quantum_canvas config")
    parser.add_argument("--store", default=None, help="records directory besides the shipped "
                        "records (default: $QC_CANVAS_STORE or data/store)")
    parser.add_argument("--data-dir", default="data/tfds", help="TFDS data directory")
    parser.add_argument("--out", default="out/demo", help="figures, checkpoints, metrics")
    parser.add_argument("--models", nargs="+", default=list(MODELS),
                        help="models of qc_models.registry; 'constant' is the reference")
    parser.add_argument("--epochs", type=int, default=30, help="at most this many epochs")
    parser.add_argument("--samples", type=int, default=SAMPLES,
                        help="training examples per model: fewer epochs on a large training "
                             f"split (default {SAMPLES})")
    args = parser.parse_args(argv)
    if "constant" not in args.models:
        args.models.insert(0, "constant")
    start = time.perf_counter()

    import quantum_canvas
    import tensorflow_datasets as tfds
    from quantum_canvas import records

    from qc_app import figures
    from qc_jax.chem.labels import unit
    from qc_jax.chem.lookup import get_record
    from qc_jax.elements import parse_pair
    from qc_models.configs.base import Config
    from qc_models.train import train_and_evaluate

    name = f"quantum_canvas/{args.config}"
    t = _step(f"1/4 building {name} from the shipped records (no PySCF)")
    builder = tfds.builder(name, data_dir=args.data_dir, store_dir=args.store, compute=False)
    builder.download_and_prepare()
    sizes = {split: info.num_examples for split, info in builder.info.splits.items()}
    print(f"{name}: {sizes.get('train', 0)}/{sizes.get('validation', 0)}/{sizes.get('test', 0)} "
          f"train/validation/test pairs, {builder.info.metadata['num_left_out']} of "
          f"{len(builder.builder_config.pairs)} left out (not computed yet, failed, or converged "
          f"only at a raised k_B T), in {builder.data_dir} ({time.perf_counter() - t:.0f} s)")

    epochs = min(args.epochs, max(1, math.ceil(args.samples / max(1, sizes.get("train", 0)))))
    t = _step(f"2/4 training {', '.join(args.models)} on the seed-42 split ({epochs} epochs)")
    config = Config(targets=TARGETS, dataset=name, data_dir=args.data_dir, batch_size=16,
                    num_epochs=epochs, warmup_epochs=2, early_stopping_patience=10,
                    learning_rate=3e-3, progress=True)
    mae = {}
    for model in args.models:
        results = train_and_evaluate(
            config.replace(model=model, model_kwargs=MODEL_KWARGS.get(model, {})),
            Path(args.out).absolute() / model)
        mae[model] = results["test_mae"]
        print(f"{model}: {results['epochs_run']} epochs, best {results['best_epoch']}")
    print(f"({time.perf_counter() - t:.0f} s)")

    _step(f"3/4 test MAE ({sizes.get('test', 0)} pairs) and skill ratio (MAE / constant's)")
    print(f"{'target':<18} {'unit':<4}" + "".join(f"{m:>10}" for m in args.models)
          + "".join(f"{'skill ' + m:>14}" for m in args.models[1:]))
    for target in TARGETS:
        reference = mae["constant"][target]
        print(f"{target:<18} {unit(target):<4}"
              + "".join(f"{mae[m][target]:10.3f}" for m in args.models)
              + "".join(f"{mae[m][target] / reference:14.2f}" for m in args.models[1:]))
    (Path(args.out) / "mae.json").write_text(json.dumps(mae, indent=1))

    _step("4/4 figures")
    test = next(iter(tfds.as_numpy(tfds.load(name, split="test", data_dir=args.data_dir))))
    pair = test["pair"].decode()
    store = records.open_store(records.store_root(args.store),
                               builder.builder_config.level_of_theory)
    shipped = records.shipped_records(store.settings)
    record = get_record(*parse_pair(pair), store, shipped, compute=False).record
    path = figures.canvas_figure(test["canvas"], builder.builder_config.spec, record,
                                 Path(args.out) / f"canvas_{pair}.png",
                                 title=f"{pair} from tfds.load('{name}', split='test')")
    print(f"wrote {path} and {', '.join(f'{m}/parity_test.png' for m in args.models)}")
    print(f"\ndemo done in {time.perf_counter() - start:.0f} s ({quantum_canvas.__name__} "
          f"{builder.info.version})")
    return mae


if __name__ == "__main__":
    main()
