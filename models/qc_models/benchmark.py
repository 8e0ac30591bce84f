"""The benchmark: the paper's protocol on our canvases, with the controls the paper lacked.

    qc-canvas benchmark --dataset paper75 --all-controls      # or python -m qc_models.benchmark

For a `quantum_canvas` config, trains and evaluates every combination of model, target set and
seed (default: the model zoo, `benchmark_targets.TARGETS`, seeds 42/123/456 on the dataset's
random 80/10/10 splits of those seeds) with `qc_models.train.train_and_evaluate`, always next to
the constant predictor. Controls, each a flag, run on `--control-models`:

  --stamps               the same models on the `<config>_stamps` canvases (the paper's encoder
                         fed with our populations, same labels and splits)
  --permute-pixels       one fixed pixel permutation applied to every canvas
  --baselines            the element-pair lookup (`pair_mlp`) and scalar (`scalar_mlp`) baselines
                         (on every seed, with the zoo)
  --composition          the element-held-out split (`composition_*`: every pair with a halogen
                         in test)
  --channel-importance   channel-ablation importance on the test split (`qc_models.controls`)

Resumable: each run has its own workdir under `<runs>/<experiment>/<training>/<model>/seed<s>`;
a run whose `benchmark.json` exists is skipped, a killed run resumes from its checkpoint. After
every finished run the tables are rewritten (`qc_models.benchmark_report`): `results.csv` (one
row per run and target: test MAE and RMSE in physical units, skill ratio, parameters, epochs,
wall time, commit, machine), `channel_importance.csv` and `benchmark.md`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from qc_models.benchmark_targets import TARGETS

#: The paper's three seeds: the dataset has a random 80/10/10 split for each.
SEEDS = (42, 123, 456)
#: Baselines besides the constant predictor (control 3).
BASELINES = ("atom_reference", "pair_mlp", "scalar_mlp")
#: Models the controls run on by default: the canvas CNN and the canvas-atoms fusion.
CONTROL_MODELS = ("cnn", "cross_attention")
#: Seed of the one pixel permutation of the permutation control.
PIXEL_PERMUTATION_SEED = 0
#: Experiment -> what its test numbers measure.
EXPERIMENTS = {
    "main": "random 80/10/10 split of each seed, physical canvases",
    "stamps": "the same splits, the paper's population-stamp canvases (`<config>_stamps`)",
    "permuted": "the same splits, every canvas's pixels moved by one fixed permutation",
    "composition": "element-held-out split (`composition_*`): every pair with a halogen in test; "
    "no training pair holds a halogen, so the total and band energies have no atom reference for "
    "it, and their MAE is mostly the halogen's missing free-atom energy",
}
COMPOSITION_SPLITS = ("composition_train", "composition_validation", "composition_test")


def zoo() -> tuple[str, ...]:
    """The model zoo: every registered model but the baselines."""
    from qc_models.registry import FITTED, MODELS

    return tuple(m for m in MODELS if m not in (*FITTED, *BASELINES))


@dataclasses.dataclass(frozen=True)
class Options:
    """What a benchmark runs (see the module docstring)."""

    dataset: str = "paper75"  # a quantum_canvas config with 32x32 canvases and a _stamps twin
    out: str = "out/benchmark/paper75"  # tables (results.csv, benchmark.md, ...)
    runs: str | None = None  # run workdirs (default: <out>/runs)
    data_dir: str | None = None  # TFDS data directory (default: TFDS's)
    models: tuple[str, ...] = ()  # () -> the zoo
    targets: tuple[str, ...] = TARGETS
    seeds: tuple[int, ...] = SEEDS
    single_target: bool = False  # one run per target instead of one multi-target run
    stamps: bool = False
    permute_pixels: bool = False
    baselines: bool = False
    composition: bool = False
    channel_importance: bool = False
    control_models: tuple[str, ...] = CONTROL_MODELS
    epochs: int = 50
    batch_size: int = 64
    model_kwargs: dict[str, dict] = dataclasses.field(default_factory=dict)  # model -> kwargs

    @property
    def runs_dir(self) -> Path:
        """Absolute (orbax refuses relative checkpoint paths)."""
        return Path(self.runs or Path(self.out) / "runs").absolute()


@dataclasses.dataclass(frozen=True)
class Run:
    """One training run of the grid."""

    experiment: str  # a key of EXPERIMENTS
    model: str
    seed: int  # split seed (random splits) and initialisation seed
    target: str | None = None  # None: one run on all targets

    @property
    def training(self) -> str:
        return "multi" if self.target is None else "single"

    @property
    def name(self) -> str:
        return f"{self.experiment}/{self.target or 'multi'}/{self.model}/seed{self.seed}"


def grid(options: Options) -> list[Run]:
    """Every run of a benchmark, seed by seed (so the first seed's table fills first)."""
    models = options.models or zoo()
    baselines = BASELINES if options.baselines else ()
    controls = options.control_models
    experiments = {"main": ("constant", *models, *baselines)}
    if options.stamps:
        experiments["stamps"] = controls
    if options.permute_pixels:
        experiments["permuted"] = controls
    if options.composition:
        experiments["composition"] = ("constant", *controls, *baselines)
    targets = options.targets if options.single_target else (None,)
    return [
        Run(experiment, model, seed, target)
        for seed in options.seeds
        for experiment, names in experiments.items()
        for target in targets
        for model in dict.fromkeys(names)
    ]


def protocol(options: Options):
    """The paper's protocol, corrected: Adam 1e-3 without weight decay, batch 64, 50 epochs,
    early stopping after 10 epochs without a better validation MAE, learning rate x0.8 after 10
    such epochs, L1 loss on targets min-max scaled on the training split only; the energies that
    grow with the atoms as residuals from a per-element reference fitted on it (`Config`)."""
    from qc_models.configs.base import Config

    return Config(
        schedule="plateau",
        weight_decay=0.0,
        num_epochs=options.epochs,
        batch_size=options.batch_size,
        progress=False,
    )


def run_config(run: Run, options: Options):
    """The training config of one run."""
    from quantum_canvas.configs import SPLIT_SEEDS
    from quantum_canvas.splits import seeded_split_names

    from qc_models.registry import FITTED

    stamps = "_stamps" if run.experiment == "stamps" else ""
    if run.experiment == "composition":
        splits = COMPOSITION_SPLITS
    elif run.seed in SPLIT_SEEDS:
        splits = seeded_split_names(run.seed, SPLIT_SEEDS)
    else:
        raise ValueError(f"the dataset has random splits for seeds {SPLIT_SEEDS}, not {run.seed}")
    return protocol(options).replace(
        model=run.model,
        model_kwargs=options.model_kwargs.get(run.model, {}),
        targets=options.targets if run.target is None else (run.target,),
        dataset=f"quantum_canvas/{options.dataset}{stamps}",
        data_dir=options.data_dir,
        tfds_splits=splits,
        seed=run.seed,
        pixel_permutation_seed=PIXEL_PERMUTATION_SEED if run.experiment == "permuted" else None,
        num_epochs=1 if run.model in FITTED else options.epochs,
    )


# --------------------------------------------------------------------------- provenance


def commit(outputs: Sequence[Path] = (), repository: Path = Path(__file__).parent) -> str:
    """The commit of `repository` (default: this package's), `git describe --always
    --abbrev=12`, with "-dirty" when a tracked file differs from it, files under `outputs`
    excepted (a benchmark's own tables and records, committed as they grow, are not a change of
    the code it runs); "unknown" outside a repository."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repository, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        described = git("describe", "--always", "--abbrev=12")
        top = Path(git("rev-parse", "--show-toplevel")).resolve()
        mine = [Path(p).resolve() for p in outputs]
        excluded = [f":(top,exclude){p.relative_to(top)}" for p in mine if p.is_relative_to(top)]
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ":/", *excluded)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return described + ("-dirty" if changed else "")


def machine() -> str:
    """CPU model and cores, memory, and the JAX devices the runs use."""
    import jax

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB"
    devices = jax.devices()
    return (f"{cpu}, {os.cpu_count()} cores{memory}; JAX {jax.__version__} on "
            f"{len(devices)} x {devices[0].device_kind}")


# --------------------------------------------------------------------------- one run


def evaluate_run(run: Run, config, workdir: Path, provenance: dict) -> dict:
    """The benchmark record of a finished run: test MAE and RMSE per target (physical units,
    over the test pairs that have the label: `n_test_labelled` of `n_test`) of its best
    checkpoint, parameters, epochs, wall time (training and test evaluation, every process of a
    resumed run included: results.json's `wall_s`), and `provenance` (commit and machine).

    Raises ValueError if a test pair is also a training pair (no number on training data).
    """
    import numpy as np

    from qc_jax.elements import pair_name
    from qc_models import load
    from qc_models.layers import count_params
    from qc_models.sources import open_splits

    trained = load(workdir)
    sources = open_splits(config)
    metrics, arrays = trained.evaluate(sources["test"])
    train_numbers = sources["train"].read(np.arange(len(sources["train"])))["atomic_numbers"]
    shared = set(arrays["pairs"]) & {pair_name(int(a), int(b)) for a, b in train_numbers}
    if shared:
        raise ValueError(f"{run.name}: test pairs {sorted(shared)} are also training pairs")
    results = json.loads((workdir / "results.json").read_text())
    return {
        **dataclasses.asdict(run),
        "run": run.name,
        "training": run.training,
        "dataset": config.dataset,
        "splits": list(config.tfds_splits),
        "n_train": len(sources["train"]),
        "n_test": metrics["pairs"],
        "n_test_labelled": metrics["labelled"],
        "params": count_params(trained.model),
        "best_epoch": results["best_epoch"],
        "epochs_run": results["epochs_run"],
        "wall_s": results["wall_s"],
        **provenance,
        "mae": metrics["mae"],
        "rmse": metrics["rmse"],
    }


def importance_record(config, workdir: Path) -> dict:
    """Channel-ablation importance of a finished run on its test split (`qc_models.controls`)."""
    import numpy as np

    from qc_jax.canvas import CHANNELS
    from qc_models import load
    from qc_models.controls import channel_importance, mean_canvas
    from qc_models.sources import open_splits

    sources = open_splits(config)
    test = sources["test"].read(np.arange(len(sources["test"])))
    ratios = channel_importance(load(workdir), test, mean_canvas(sources["train"]))
    return {
        "channels": [c.name for c in CHANNELS],
        "targets": list(config.targets),
        "importance": ratios.tolist(),  # [channel][target]
    }


def wants_importance(run: Run, options: Options) -> bool:
    return (
        options.channel_importance
        and run.experiment == "main"
        and run.model in options.control_models
    )


def provenance(options: Options) -> dict[str, str]:
    """The commit and machine of a benchmark, taken when it starts (the code it runs)."""
    return {"commit": commit((Path(options.out), options.runs_dir)), "machine": machine()}


def run_one(run: Run, options: Options, started: dict[str, str]) -> bool:
    """Trains, evaluates and records one run unless its records exist; True if it did work.
    `started`: the benchmark's `provenance`."""
    from qc_models.train import train_and_evaluate

    workdir = options.runs_dir / run.name
    record_path, importance_path = workdir / "benchmark.json", workdir / "importance.json"
    needs_importance = wants_importance(run, options) and not importance_path.exists()
    if record_path.exists() and not needs_importance:
        return False
    config = run_config(run, options)
    if not record_path.exists():
        print(f"[benchmark] {run.name}: training", flush=True)
        train_and_evaluate(config, workdir)
        record = evaluate_run(run, config, workdir, started)
        write_json(record_path, record)
    if needs_importance:
        print(f"[benchmark] {run.name}: channel importance", flush=True)
        write_json(importance_path, importance_record(config, workdir))
    return True


def write_json(path: Path, value: dict) -> None:
    """Written whole or not at all (a killed benchmark never leaves half a record)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(value, indent=1) + "\n")
    partial.replace(path)


# --------------------------------------------------------------------------- the benchmark


def run_benchmark(options: Options, command: str = "") -> int:
    """Runs every missing run of the grid, rewriting the tables after each; returns how many
    runs did work. `command` (the command line) is recorded with the commit and machine."""
    from qc_models.benchmark_report import write_report

    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    prepare_datasets(options)
    started = provenance(options)
    record_invocation(out, options, command, missing_labels(options), started)
    done = 0
    for run in grid(options):
        if run_one(run, options, started):
            done += 1
            write_report(options.runs_dir, out)
    write_report(options.runs_dir, out)
    return done


def prepare_datasets(options: Options) -> None:
    """Builds the configs the grid reads (the dataset and, with the stamps control, its
    `_stamps` twin) where `options.data_dir` does not hold them yet. The builder reads the
    records shipped with the package and the store (`$QC_CANVAS_STORE`); it computes missing
    pairs with PySCF only when that is minutes of CPU, and otherwise stops with an error that
    says how to go on (`quantum_canvas.records.decide_compute`)."""
    import quantum_canvas  # noqa: F401  (registers the builder)
    import tensorflow_datasets as tfds

    twins = ("", "_stamps") if options.stamps else ("",)
    for name in (f"quantum_canvas/{options.dataset}{twin}" for twin in twins):
        builder = tfds.builder(name, data_dir=options.data_dir)
        if not builder.is_prepared():
            print(f"building {name} in {builder.data_dir} (first use)", flush=True)
            builder.download_and_prepare()


def missing_labels(options: Options) -> dict[str, int]:
    """Target -> how many pairs of the dataset lack its label (NaN). Such a pair is left out of
    that target's training loss, scaling and test metrics only (see `qc_models.train`)."""
    import numpy as np

    from qc_models.sources import TfdsSource

    missing = dict.fromkeys(options.targets, 0)
    for split in ("train", "validation", "test"):
        source = TfdsSource(
            f"quantum_canvas/{options.dataset}", split, options.targets, options.data_dir
        )
        labels = source.read(np.arange(len(source)))
        for target in options.targets:
            missing[target] += int(np.sum(~np.isfinite(labels[target])))
    return missing


def record_invocation(
    out: Path, options: Options, command: str, missing: dict[str, int], started: dict
) -> None:
    """Appends the command, options, the pairs without each target's label (`missing_labels`),
    commit, machine and start time to `<out>/invocations.json`."""
    path = out / "invocations.json"
    invocations = json.loads(path.read_text()) if path.exists() else []
    invocations.append({
        "command": command,
        "options": dataclasses.asdict(options),
        "missing_labels": missing,
        **started,
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    })
    write_json(path, invocations)


# --------------------------------------------------------------------------- command line


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `qc-canvas benchmark` and `python -m qc_models.benchmark`."""
    parser.add_argument("--dataset", default="paper75",
                        help="quantum_canvas config (default: paper75; its _stamps twin is the "
                             "stamps control)")
    parser.add_argument("--out", default=None,
                        help="folder of the tables (default: out/benchmark/<dataset>)")
    parser.add_argument("--runs", default=None, help="folder of the run workdirs (default: "
                        "<out>/runs)")
    parser.add_argument("--data-dir", default=None, help="TFDS data directory")
    parser.add_argument("--models", default="", help="comma-separated models (default: the zoo)")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help="comma-separated labels (default: the non-redundant targets)")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)),
                        help="comma-separated split seeds (default: 42,123,456)")
    parser.add_argument("--single-target", action="store_true",
                        help="one run per target (default: one multi-target run)")
    parser.add_argument("--stamps", action="store_true", help="control 1: stamp canvases")
    parser.add_argument("--permute-pixels", action="store_true",
                        help="control 2: one fixed pixel permutation of every canvas")
    parser.add_argument("--baselines", action="store_true",
                        help="control 3: element-pair lookup and scalar baselines")
    parser.add_argument("--composition", action="store_true",
                        help="control 4: the element-held-out composition split")
    parser.add_argument("--channel-importance", action="store_true",
                        help="control 5: channel-ablation importance on the test split")
    parser.add_argument("--all-controls", action="store_true", help="the five controls")
    parser.add_argument("--control-models", default=",".join(CONTROL_MODELS),
                        help=f"models of the controls (default: {','.join(CONTROL_MODELS)})")
    parser.add_argument("--epochs", type=int, default=50, help="maximum epochs (default: 50)")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default: 64)")
    parser.add_argument("--model-kwargs", default="{}",
                        help='JSON: model -> keyword arguments, e.g. \'{"cnn": {"features": 16}}\'')
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the tables from the finished runs, train nothing")


def options_from_args(args: argparse.Namespace) -> Options:
    """Options from parsed arguments; ValueError for unknown models or targets."""
    from qc_models.registry import MODELS

    controls = args.all_controls
    options = Options(
        dataset=args.dataset.removeprefix("quantum_canvas/"),
        out=args.out or f"out/benchmark/{args.dataset.removeprefix('quantum_canvas/')}",
        runs=args.runs,
        data_dir=args.data_dir,
        models=_names(args.models),
        targets=_names(args.targets),
        seeds=tuple(int(s) for s in _names(args.seeds)),
        single_target=args.single_target,
        stamps=args.stamps or controls,
        permute_pixels=args.permute_pixels or controls,
        baselines=args.baselines or controls,
        composition=args.composition or controls,
        channel_importance=args.channel_importance or controls,
        control_models=_names(args.control_models),
        epochs=args.epochs,
        batch_size=args.batch_size,
        model_kwargs=json.loads(args.model_kwargs),
    )
    unknown = set(options.models + options.control_models) - set(MODELS)
    if unknown:
        raise ValueError(f"unknown models {sorted(unknown)}; choose from {sorted(MODELS)}")
    return options


def run(args: argparse.Namespace, command: str) -> int:
    """Runs the benchmark of parsed arguments; `command` is the command line, as recorded."""
    options = options_from_args(args)
    if args.report_only:
        from qc_models.benchmark_report import write_report

        write_report(options.runs_dir, Path(options.out))
    else:
        done = run_benchmark(options, command)
        print(f"[benchmark] {done} runs trained or completed")
    print(f"[benchmark] tables in {options.out}: results.csv, benchmark.md")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qc_models.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    argv = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "-m", "qc_models.benchmark", *argv])
    try:
        return run(parser.parse_args(argv), command)
    except ValueError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")


if __name__ == "__main__":
    raise SystemExit(main())
