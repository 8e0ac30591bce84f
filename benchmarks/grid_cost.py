"""What a `qc-canvas benchmark` command would cost here, from a few timed epochs per model.

Takes the benchmark's own arguments (`--models`, `--seeds`, `--all-controls`, `--epochs`, ...),
lists its grid (`qc_models.benchmark.grid`), and times every model of it for `--timing-epochs`
epochs of its protocol on synthetic data of paper75's size (2,850 pairs: 2,280 in training, 285
in validation; `input_pipeline.synthetic_dataset`, in memory like a built dataset once read;
its six default targets, as the head's width hardly matters).
Seconds per epoch: the mean over the epochs after the first (which compiles). Prints per model
the parameters, seconds per epoch and the grid's runs of it, then the grid's projected wall time
of its epochs, every run going to `--epochs` (early stopping may end some sooner). Not counted:
reading the dataset and the test evaluation of each run (measured once at about a quarter more:
docs/benchmark.md, *Budget*). Every run is costed as a main-table run (the composition split
trains on fewer pairs).

    OMP_NUM_THREADS=1 python benchmarks/grid_cost.py --all-controls [--timing-epochs 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
from pathlib import Path


def time_epochs(config, workdir: Path) -> tuple[float, int]:
    """(seconds per epoch after the first, parameters) of `config` trained in `workdir`."""
    from qc_models import load
    from qc_models.layers import count_params
    from qc_models.train import train_and_evaluate

    train_and_evaluate(config, workdir)
    rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    seconds = [row["seconds"] for row in rows if "seconds" in row][1:]
    return sum(seconds) / len(seconds), count_params(load(workdir).model)


def main() -> None:
    from qc_models import benchmark
    from qc_models.configs.base import DEFAULT_TARGETS
    from qc_models.registry import FITTED

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    benchmark.add_arguments(parser)
    parser.add_argument("--timing-epochs", type=int, default=3,
                        help="epochs timed per model (the first, which compiles, is not counted)")
    args = parser.parse_args()
    if args.timing_epochs < 2:
        parser.error("--timing-epochs must be at least 2 (the first epoch compiles)")
    options = benchmark.options_from_args(args)
    runs = collections.Counter(run.model for run in benchmark.grid(options)
                               if run.model not in FITTED)
    print(f"{sum(runs.values())} runs of {len(runs)} models at up to {options.epochs} epochs; "
          f"timing {args.timing_epochs} epochs of each on synthetic data", flush=True)
    print("| model | parameters | s per epoch | runs | hours of epochs |")
    print("|---|---:|---:|---:|---:|")
    total_h = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for model, count in runs.items():
            config = benchmark.run_config(benchmark.Run("main", model, options.seeds[0]), options)
            config = config.replace(dataset="synthetic", data_dir=None, targets=DEFAULT_TARGETS,
                                    tfds_splits=("train", "validation", "test"),
                                    num_epochs=args.timing_epochs)
            seconds, params = time_epochs(config, Path(tmp, model).absolute())
            hours = seconds * options.epochs * count / 3600
            total_h += hours
            print(f"| `{model}` | {params:,} | {seconds:.1f} | {count} | {hours:.2f} |", flush=True)
    print(f"\ngrid: {total_h:.1f} hours of epochs ({options.epochs} epochs per run), before "
          "early stopping, without reading the data and the test evaluations")


if __name__ == "__main__":
    main()
