"""The benchmark (`qc_models.benchmark`): its grid, its tables, its controls, and a real run on
`quantum_canvas/tiny` and `tiny_stamps` built from the dataset's dummy store."""

import csv
import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qc_jax.chem import labels
from qc_jax.chem.labels import LABELS
from qc_models import benchmark, benchmark_report, input_pipeline
from qc_models.benchmark_targets import LEFT_OUT, TARGETS

# --------------------------------------------------------------------------- targets, grid


def test_every_label_is_a_target_or_left_out_with_a_reason():
    names = [label.name for label in LABELS]
    assert sorted(names) == sorted([*TARGETS, *LEFT_OUT])
    assert not set(TARGETS) & set(LEFT_OUT)
    # what the inputs give away is never a target
    for label in ("distance_ang", "repulsive_energy_ev", "dispersion_energy_ev", "n_electrons"):
        assert LEFT_OUT[label].startswith("given by the inputs")


def test_grid_runs_every_combination_once():
    options = benchmark.Options(
        models=("cnn", "gcn"), seeds=(42, 123), stamps=True, permute_pixels=True,
        baselines=True, composition=True, control_models=("cnn",),
    )  # fmt: skip
    runs = benchmark.grid(options)
    by_experiment = {e: [r for r in runs if r.experiment == e] for e in benchmark.EXPERIMENTS}
    # main: constant, 2 models, 3 baselines; composition: constant, 1 control, 3 baselines
    assert [len(by_experiment[e]) for e in benchmark.EXPERIMENTS] == [12, 2, 2, 10]
    assert len({r.name for r in runs}) == len(runs)
    single = benchmark.grid(
        benchmark.Options(models=("cnn",), seeds=(42,), targets=("e_g_ev", "i_ev"),
                          single_target=True)
    )  # fmt: skip
    assert sorted(r.name for r in single) == [
        "main/e_g_ev/cnn/seed42", "main/e_g_ev/constant/seed42",
        "main/i_ev/cnn/seed42", "main/i_ev/constant/seed42",
    ]  # fmt: skip
    # the default grid: the constant and the twelve zoo models on three seeds
    assert len(benchmark.grid(benchmark.Options())) == 3 * 13


def test_run_configs_select_dataset_splits_and_permutation():
    options = benchmark.Options(dataset="tiny", epochs=7)
    config = benchmark.run_config(benchmark.Run("stamps", "cnn", 123), options)
    assert config.dataset == "quantum_canvas/tiny_stamps"
    assert config.tfds_splits == ("train_seed123", "validation_seed123", "test_seed123")
    assert (config.seed, config.num_epochs, config.pixel_permutation_seed) == (123, 7, None)
    permuted = benchmark.run_config(benchmark.Run("permuted", "cnn", 42), options)
    assert permuted.dataset == "quantum_canvas/tiny"
    assert permuted.tfds_splits == ("train", "validation", "test")
    assert permuted.pixel_permutation_seed == benchmark.PIXEL_PERMUTATION_SEED
    composition = benchmark.run_config(benchmark.Run("composition", "constant", 42), options)
    assert composition.tfds_splits == benchmark.COMPOSITION_SPLITS
    assert composition.num_epochs == 1  # the constant is fitted, not trained
    single = benchmark.run_config(benchmark.Run("main", "cnn", 42, "i_ev"), options)
    assert single.targets == ("i_ev",)
    with pytest.raises(ValueError, match="seeds"):
        benchmark.run_config(benchmark.Run("main", "cnn", 7), options)
    assert benchmark.Options(out="out/x").runs_dir.is_absolute()  # orbax needs absolute paths


def test_grid_cost_times_each_model_of_a_benchmark_command_and_projects_its_grid():
    script = Path(__file__).parents[1] / "benchmarks" / "grid_cost.py"
    command = [sys.executable, str(script), "--models", "gcn", "--baselines", "--seeds", "42,123",
               "--epochs", "20", "--timing-epochs", "2"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rows = {line.split("|")[1].strip(" `"): line.split("|")[2:-1]
            for line in out.splitlines() if line.startswith("| `")}
    assert sorted(rows) == ["gcn", "pair_mlp", "scalar_mlp"]  # the fitted ones are not timed
    hours = 0.0
    for parameters, seconds, runs, model_hours in rows.values():
        assert int(runs) == 2 and int(parameters.replace(",", "")) > 0
        assert float(model_hours) == pytest.approx(float(seconds) * 20 * 2 / 3600, abs=0.006)
        hours += float(model_hours)
    total = re.search(r"grid: ([0-9.]+) hours of epochs \(20 epochs per run\)", out)
    assert float(total[1]) == pytest.approx(hours, abs=0.06)
    one_epoch = subprocess.run([*command[:-1], "1"], capture_output=True, text=True)
    assert one_epoch.returncode == 2 and "first epoch compiles" in one_epoch.stderr


def test_grid_changes_compares_two_grids(tmp_path):
    """The committed 2.16.0 grid against itself (the controls as its `benchmark.md` states
    them), then against a copy in which one run's skill ratio is 0.3 higher: the three-seed
    mean of that model and target moves by 0.1."""
    grid = Path(__file__).parents[1] / "benchmarks" / "results" / "paper75_2.16.0"
    script = [sys.executable, str(grid.parents[1] / "grid_changes.py"), str(grid)]
    same = subprocess.run([*script, str(grid)], capture_output=True, text=True, check=True).stdout
    assert "seeds 42, 123, 456: 168 skill ratios (14 models, 12 targets" in same
    assert "median |change| 0.000; 0 down (better), 0 up" in same
    assert re.search(r"e_g_ev +film_cnn 0\.33 +film_cnn 0\.33 +0\.899 -> 0\.899", same)
    for control in (r"stamps cnn: physical better on / MAE ratio +10 of 10 / 2\.16",
                    r"permuted cross_attention: .* +10 of 12 / 1\.06",
                    r"composition cnn e_g_ev skill +0\.91", r"channel ablation cnn elf +\+123 %"):
        assert re.search(rf"{control} -> ", same), control

    rows = _rows(grid / "results.csv")
    cnn_a_ev = [r for r in rows if (r["experiment"], r["model"], r["target"])
                == ("main", "cnn", "a_ev")]  # fmt: skip
    before = sum(float(r["skill"]) for r in cnn_a_ev) / 3
    cnn_a_ev[0]["skill"] = str(float(cnn_a_ev[0]["skill"]) + 0.3)
    (tmp_path / "results.csv").write_text(benchmark_report.to_csv(rows, list(rows[0])))
    changed = subprocess.run([*script, str(tmp_path)], capture_output=True, text=True,
                             check=True).stdout
    assert f"largest change: cnn a_ev {before:.3f} -> {before + 0.1:.3f} (+0.100)" in changed
    assert "0 down (better), 1 up" in changed
    assert re.search(r"channel ablation cnn elf +\+123 % -> -\n", changed)  # no runs/ there
    one_seed = subprocess.run([*script, str(tmp_path), "--seeds", cnn_a_ev[0]["seed"]],
                              capture_output=True, text=True, check=True).stdout
    assert "(+0.300)" in one_seed and "168 skill ratios" in one_seed


# --------------------------------------------------------------------------- pixel permutation


def test_pixel_permutation_is_one_fixed_permutation_of_every_canvas():
    data = input_pipeline.synthetic_dataset(5)
    canvas = data["canvas"]
    permuted = input_pipeline.permute_pixels(canvas, 0)
    n, h, w, c = canvas.shape
    flat, flat_permuted = canvas.reshape(n, h * w, c), permuted.reshape(n, h * w, c)
    # the same pixel order for every canvas and channel: find it from one canvas, check all
    order = [int(np.flatnonzero(np.all(flat[0] == p, axis=-1))[0]) for p in flat_permuted[0]]
    assert np.array_equal(flat[:, order], flat_permuted)
    assert order != list(range(h * w))
    assert np.array_equal(input_pipeline.permute_pixels(canvas, 0), permuted)  # fixed
    # the normaliser applies it (and keeps it through normalizer.json)
    normalizer = input_pipeline.Normalizer.fit(data, ("e_g_ev",))
    normalizer.pixel_permutation_seed = 0
    again = input_pipeline.Normalizer.from_dict(json.loads(json.dumps(normalizer.to_dict())))
    expected = permuted / normalizer.canvas_scale
    np.testing.assert_allclose(again(data)["canvas"], expected, rtol=1e-6, atol=1e-30)


# --------------------------------------------------------------------------- tables


def _record(experiment, model, seed, mae, training="multi"):
    return {
        "experiment": experiment, "model": model, "seed": seed, "training": training,
        "dataset": "quantum_canvas/x", "splits": ["train", "validation", "test"],
        "mae": mae, "rmse": mae, "n_train": 8, "n_test": 2, "params": 10, "best_epoch": 1,
        "epochs_run": 3, "wall_s": 1.0, "commit": "c", "machine": "m",
    }  # fmt: skip


def test_commit_is_dirty_for_changed_code_not_for_the_benchmarks_own_outputs(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    (tmp_path / "results").mkdir()
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results" / "results.csv").write_text("a\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first")
    clean = benchmark.commit(repository=tmp_path)
    assert re.fullmatch("[0-9a-f]{12}", clean)
    (tmp_path / "results" / "results.csv").write_text("a\nb\n")  # a benchmark's tables grew
    assert benchmark.commit([tmp_path / "results"], repository=tmp_path) == clean
    assert benchmark.commit(repository=tmp_path) == clean + "-dirty"
    (tmp_path / "code.py").write_text("x = 2\n")
    assert benchmark.commit([tmp_path / "results"], repository=tmp_path) == clean + "-dirty"
    assert benchmark.commit([Path("/elsewhere")], repository=tmp_path) == clean + "-dirty"


def test_skill_ratios_means_and_best_from_hand_made_records(tmp_path):
    records = [
        _record("main", "constant", 42, {"e_g_ev": 2.0, "dipole_mag_d": 1.0}),
        _record("main", "constant", 123, {"e_g_ev": 4.0, "dipole_mag_d": 1.0}),
        _record("main", "cnn", 42, {"e_g_ev": 1.0, "dipole_mag_d": 0.5}),
        _record("main", "cnn", 123, {"e_g_ev": 3.0, "dipole_mag_d": 0.5}),
        _record("main", "gcn", 42, {"e_g_ev": 1.8, "dipole_mag_d": 0.4}),
        _record("main", "gcn", 123, {"e_g_ev": 2.0, "dipole_mag_d": 0.4}),
        _record("main", "scalar_mlp", 42, {"e_g_ev": 9.0, "dipole_mag_d": 0.01}),
        _record("stamps", "cnn", 42, {"e_g_ev": 1.5, "dipole_mag_d": 0.6}),
        _record("composition", "constant", 42, {"e_g_ev": 5.0, "dipole_mag_d": 2.0}),
        _record("composition", "cnn", 42, {"e_g_ev": 2.5, "dipole_mag_d": 1.0}),
    ]
    rows = benchmark_report.result_rows(records)
    written = tmp_path / "results.csv"  # read back typed as written: the script's input
    written.write_text(benchmark_report.to_csv(rows, benchmark_report.COLUMNS))
    assert benchmark_report.read_results(written) == [
        {k: r.get(k) for k in benchmark_report.COLUMNS} for r in rows]
    skill = {(r["experiment"], r["model"], r["seed"], r["target"]): r["skill"] for r in rows}
    assert skill["main", "cnn", 42, "e_g_ev"] == 0.5  # 1.0 / 2.0
    assert skill["main", "cnn", 123, "e_g_ev"] == 0.75  # 3.0 / 4.0
    assert skill["stamps", "cnn", 42, "e_g_ev"] == 0.75  # the main split's constant: 1.5 / 2.0
    assert skill["composition", "cnn", 42, "e_g_ev"] == 0.5  # its own constant: 2.5 / 5.0
    summary = benchmark_report.aggregate(rows)
    cell = summary["main", "multi", "cnn", "e_g_ev"]
    assert cell["mae"] == pytest.approx((2.0, 2**0.5))  # mean, std (n - 1) of 1.0 and 3.0
    assert cell["skill"] == pytest.approx(0.625)
    # best: lowest mean MAE, neither the constant nor a model that reads the target
    assert benchmark_report.best_models(summary, "main", "multi") == {
        "e_g_ev": "gcn",  # 1.9 against the CNN's 2.0
        "dipole_mag_d": "gcn",  # scalar_mlp's 0.01 is its own input
    }
    text = benchmark_report.markdown(rows, [], [])
    # gcn: MAE 1.8 and 2.0 -> 1.90 +- 0.14 (sqrt(0.02)), skill 1.8 / 2.0 and 2.0 / 4.0 -> 0.70
    assert "| `gcn` | 10 | 2 | 3 | 1 | **1.90 ± 0.14** (0.70) | **0.400 ± 0.000** (0.40) |" in text
    assert "0.0100 (0.01) †" in text
    assert "0.201 (0.43) GATv2" in text  # the paper's best gap and its skill ratio
    # the summary: constant 2.0 and 4.0 -> 3.00; the best model; the paper's best
    assert ("| `e_g_ev` | eV | 3.00 | `gcn` | 1.90 ± 0.14 (0.70) | 0.201 (0.43) GATv2 |"
            in text)  # fmt: skip
    assert "| `dipole_mag_d` | D | 1.00 | `gcn` | 0.400 ± 0.000 (0.40) |  |" in text
    assert [benchmark_report.skill_text(x) for x in (0.7, 0.01, 2.04e-5)] == [
        "0.70", "0.01", "2.0e-05"
    ]  # fmt: skip
    # the stamps draw the dipole: an input there, so only the gap is compared (and lost)
    assert "| `cnn` | 10 | 1 | 3 | 1 | 1.50 (0.75) | 0.600 (0.60) † |" in text
    # compared on the seeds both have run: the stamps' 1.5 against seed 42's 1.0, not the mean
    # 2.0 of seeds 42 and 123
    assert ("physical canvases beat stamp canvases on 1 of 1 targets; stamp MAE / physical MAE "
            "= 1.50 (geometric mean over targets; each MAE the mean over the 1 seed both have "
            "run); left out: `dipole_mag_d`, drawn into the stamps") in text
    # the figure's grid: every experiment and model but the constant, main first
    grid_rows, targets, grid, is_input = benchmark_report.skill_grid(summary, "multi")
    assert grid_rows == [("main", "cnn"), ("main", "gcn"), ("main", "scalar_mlp"),
                         ("stamps", "cnn"), ("composition", "cnn")]  # fmt: skip
    assert targets == ["e_g_ev", "dipole_mag_d"]
    np.testing.assert_allclose(grid, [[0.625, 0.5], [0.7, 0.4], [4.5, 0.01], [0.75, 0.6],
                                      [0.5, 0.5]])  # fmt: skip
    assert is_input.tolist() == [[False, False], [False, False], [False, True], [False, True],
                                 [False, False]]  # fmt: skip


def test_no_skill_figure_while_only_the_constant_has_run(tmp_path):
    rows = benchmark_report.result_rows([_record("main", "constant", 42, {"e_g_ev": 2.0})])
    summary = benchmark_report.aggregate(rows)
    assert benchmark_report.skill_grid(summary, "multi")[0] == []
    benchmark_report.write_skill_figure(summary, "multi", tmp_path / "skill_multi.png")
    assert not (tmp_path / "skill_multi.png").exists()


def test_a_partly_labelled_target_is_kept_counted_and_reported(tmp_path):
    """A real run on synthetic pairs whose softness is NaN where the gap is zero, recorded as the
    benchmark records a run."""
    from qc_models.configs import test as test_config
    from qc_models.train import train_and_evaluate

    config = test_config.get_config().replace(
        model="pair_mlp", model_kwargs={"features": 4}, targets=("e_g_ev", "softness_evinv"),
        num_synthetic=64, num_epochs=1,
    )  # fmt: skip
    results = train_and_evaluate(config, tmp_path)
    run = benchmark.Run("main", "pair_mlp", config.split_seed)
    record = benchmark.evaluate_run(run, config, tmp_path, {"commit": "c", "machine": "m"})
    assert record["wall_s"] == results["wall_s"] > 0
    data = input_pipeline.synthetic_dataset(config.num_synthetic, seed=config.split_seed)
    test = input_pipeline.random_split(data, config.split_fractions, config.split_seed)["test"]
    labelled = int(np.isfinite(test["softness_evinv"]).sum())
    assert 0 < labelled < len(test["softness_evinv"]) == record["n_test"]
    assert record["n_test_labelled"] == {"e_g_ev": record["n_test"], "softness_evinv": labelled}
    # MAE and RMSE over the labelled pairs of the predictions the training wrote
    _, pred, true = _predictions(tmp_path, "softness_evinv")
    known = np.isfinite(true)
    assert known.sum() == labelled
    error = pred[known] - true[known]
    assert record["mae"]["softness_evinv"] == pytest.approx(np.mean(np.abs(error)), rel=1e-4)
    assert record["rmse"]["softness_evinv"] == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-4)
    # the tables: the labelled count per row, the table's row of it, the dataset's missing labels
    rows = benchmark_report.result_rows([record])
    assert {r["target"]: r["n_labelled"] for r in rows} == record["n_test_labelled"]
    invocation = {"command": "test", "commit": "c", "machine": "m", "started_utc": "now",
                  "missing_labels": {"e_g_ev": 0, "softness_evinv": 29}}  # fmt: skip
    text = benchmark_report.markdown(rows, [], [invocation])
    n = record["n_test"]
    assert f"| labelled test pairs (per seed) |  |  |  |  |  | {labelled}/{n} |" in text
    assert "| `softness_evinv` | 29 |" in text and "| `e_g_ev` | 0 |" not in text


# --------------------------------------------------------------------------- a real benchmark


@pytest.fixture(scope="module")
def tiny_tfds(tmp_path_factory):
    """An empty TFDS data directory: the benchmark builds `tiny` and `tiny_stamps` in it on
    first use, from the dataset's dummy store (`$QC_CANVAS_STORE`), as a user's would."""
    pytest.importorskip("quantum_canvas")
    return str(tmp_path_factory.mktemp("tfds"))


SMALL = {"cnn": {"features": 4}, "pair_mlp": {"features": 8}, "scalar_mlp": {"features": 8}}


@pytest.fixture(scope="module")
def finished(tiny_tfds, tmp_path_factory):
    """Every control on one seed: the CNN and the element-pair lookup as control models."""
    import quantum_canvas
    from quantum_canvas.records import STORE_VARIABLE

    options = benchmark.Options(
        dataset="tiny", out=str(tmp_path_factory.mktemp("benchmark")), data_dir=tiny_tfds,
        models=("cnn",), targets=("e_g_ev", "dipole_mag_d", "q_absmean"), seeds=(42,),
        stamps=True, permute_pixels=True, baselines=True, composition=True,
        channel_importance=True, control_models=("cnn", "pair_mlp"), epochs=2, batch_size=4,
        model_kwargs=SMALL,
    )  # fmt: skip
    store = Path(quantum_canvas.__file__).parent / "dummy_data" / "store"
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv(STORE_VARIABLE, str(store))
        done = benchmark.run_benchmark(options, "test")
    return options, done


def test_the_benchmark_builds_its_datasets_on_first_use(finished):
    import tensorflow_datasets as tfds

    options, _ = finished
    for name in ("quantum_canvas/tiny", "quantum_canvas/tiny_stamps"):
        assert tfds.builder(name, data_dir=options.data_dir).is_prepared()


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _maes_of(text):
    return sorted((r["experiment"], r["model"], r["target"], r["mae"])
                  for r in csv.DictReader(text.splitlines()))  # fmt: skip


def _maes(path):
    return _maes_of(Path(path).read_text())


def _predictions(workdir, target):
    rows = _rows(Path(workdir) / "predictions_test.csv")
    unit = labels.unit(target)
    pred = np.array([float(r[f"{target} [{unit}]"]) for r in rows])
    true = np.array([float(r[f"{target}_true [{unit}]"]) for r in rows])
    return [r["pair"] for r in rows], pred, true


def test_benchmark_writes_test_numbers_of_every_run(finished):
    options, done = finished
    assert done == 14  # main 5, stamps 2, permuted 2, composition 5
    rows = _rows(Path(options.out) / "results.csv")
    assert len(rows) == 14 * 3
    assert all(r["skill"] for r in rows)  # every run has its constant on the same split
    cnn = options.runs_dir / "main/multi/cnn/seed42"
    pairs, pred, true = _predictions(cnn, "e_g_ev")
    row = next(r for r in rows if (r["experiment"], r["model"], r["target"]) ==
               ("main", "cnn", "e_g_ev"))  # fmt: skip
    # the MAE and RMSE of the table are those of the test predictions written by the training
    assert float(row["mae"]) == pytest.approx(np.mean(np.abs(pred - true)), rel=1e-4)
    assert float(row["rmse"]) == pytest.approx(np.sqrt(np.mean((pred - true) ** 2)), rel=1e-4)
    assert int(row["n_test"]) == len(pairs) == 2
    # tiny has every label: each MAE is over every test pair, and the benchmark recorded so
    assert all(r["n_labelled"] == r["n_test"] for r in rows)
    invocation = json.loads((Path(options.out) / "invocations.json").read_text())[0]
    assert invocation["missing_labels"] == dict.fromkeys(options.targets, 0)
    composition_pairs, _, _ = _predictions(
        options.runs_dir / "composition/multi/cnn/seed42", "e_g_ev"
    )
    assert len(composition_pairs) == 6 and all("F" in p.split("_") for p in composition_pairs)
    permuted = json.loads((options.runs_dir / "permuted/multi/cnn/seed42/normalizer.json")
                          .read_text())  # fmt: skip
    assert permuted["pixel_permutation_seed"] == benchmark.PIXEL_PERMUTATION_SEED


def test_canvas_controls_change_only_what_reads_the_canvas(finished):
    options, _ = finished
    rows = _rows(Path(options.out) / "results.csv")
    mae = {(r["experiment"], r["model"], r["target"]): float(r["mae"]) for r in rows}
    for target in options.targets:
        # the element-pair lookup never sees the canvas: identical on all three canvases
        for control in ("stamps", "permuted"):
            assert mae[control, "pair_mlp", target] == pytest.approx(
                mae["main", "pair_mlp", target], rel=1e-6
            )
    for control in ("stamps", "permuted"):
        assert any(
            mae[control, "cnn", t] != pytest.approx(mae["main", "cnn", t], rel=1e-6)
            for t in options.targets
        )
    importance = _rows(Path(options.out) / "channel_importance.csv")
    assert len(importance) == 2 * 10 * 3  # models x channels x targets
    assert all(float(r["importance"]) == 0 for r in importance if r["model"] == "pair_mlp")
    assert any(float(r["importance"]) != 0 for r in importance if r["model"] == "cnn")


def test_benchmark_resumes_and_reports(finished):
    options, _ = finished
    out = Path(options.out)
    before = (out / "results.csv").read_text()
    assert benchmark.run_benchmark(options, "test") == 0  # everything finished: nothing to do
    assert (out / "results.csv").read_text() == before
    # a run killed after training, before its record: completed without training again
    record = options.runs_dir / "main/multi/cnn/seed42/benchmark.json"
    record.unlink()
    assert benchmark.run_benchmark(options, "test") == 1
    assert json.loads(record.read_text())["epochs_run"] == 2
    assert _maes(out / "results.csv") == _maes_of(before)
    # single-target runs sit next to the multi-target ones, labelled
    single = dataclasses.replace(
        options, models=("pair_mlp",), targets=("e_g_ev",), single_target=True, stamps=False,
        permute_pixels=False, baselines=False, composition=False, channel_importance=False,
    )  # fmt: skip
    assert benchmark.run_benchmark(single, "test") == 2  # the constant and pair_mlp
    rows = _rows(out / "results.csv")
    assert {r["training"] for r in rows if r["model"] == "pair_mlp"} == {"multi", "single"}
    text = (out / "benchmark.md").read_text()
    assert "## main, single-target training" in text and "## main, multi-target training" in text
    assert "| `distance_ang` | given by the inputs" in text
    assert "## Channel importance (test split)" in text
    for training in ("multi", "single"):  # the skill heatmaps, one per training mode
        assert (out / f"skill_{training}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_line_rewrites_the_tables(finished, tmp_path):
    from qc_app import cli

    options, _ = finished
    shutil.copytree(options.runs_dir, tmp_path / "runs")
    code = cli.main(["benchmark", "--dataset", "tiny", "--out", str(tmp_path), "--report-only"])
    assert code == 0
    assert _rows(tmp_path / "results.csv") == _rows(Path(options.out) / "results.csv")
    assert cli.main(["benchmark", "--models", "nonsense", "--report-only"]) == 2
