"""The training loop: end to end, resume, NaN stop, fitted baseline, 8 simulated devices, the
workdir (config, checkpoints, TensorBoard, predictions, `qc_models.load`)."""

import csv
import json
import os
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from qc_jax.chem.labels import unit
from qc_models import input_pipeline, sources
from qc_models.configs import test as test_config
from qc_models.configs.base import apply_overrides
from qc_models.train import NonFiniteLossError, train_and_evaluate
from qc_models.workdir import ConfigMismatchError

#: A config whose whole run compiles and trains in a couple of seconds.
FAST = test_config.get_config().replace(
    model="gatv2", model_kwargs={"features": 8, "num_layers": 1}, num_synthetic=64
)
#: The same with a partly labelled target: the synthetic softness is NaN where the gap is zero.
PARTLY = FAST.replace(targets=("e_g_ev", "softness_evinv"))


def synthetic_splits(config):
    """The synthetic train/validation/test splits of `config`, in physical units."""
    data = input_pipeline.synthetic_dataset(config.num_synthetic, seed=config.split_seed)
    return input_pipeline.random_split(data, config.split_fractions, config.split_seed)


def records(workdir):
    """metrics.jsonl without the timings."""
    lines = (workdir / "metrics.jsonl").read_text().splitlines()
    timings = ("seconds", "steps_per_second", "elapsed_s")
    return [{k: v for k, v in json.loads(line).items() if k not in timings} for line in lines]


def checkpoint_steps(workdir):
    return sorted(int(p.name) for p in (workdir / "checkpoints").iterdir() if p.name.isdigit())


def test_test_config_end_to_end(tmp_path):
    config = test_config.get_config()
    results = train_and_evaluate(config, tmp_path)
    for name in ("results.json", "normalizer.json", "learning_curve.png", "parity_test.png"):
        assert (tmp_path / name).exists(), name
    history = records(tmp_path)
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert set(history[0]["val_mae"]) == set(config.targets)
    best = min(history, key=lambda r: r["val_mae_scaled"])
    assert results["best_epoch"] == best["epoch"]
    assert results["val_mae"] == pytest.approx(best["val_mae"])
    # one orbax manager keeps the best and the latest epoch, nothing else
    assert checkpoint_steps(tmp_path) == sorted({best["epoch"], 3})
    assert all(r["steps_per_second"] > 0 for r in json_lines(tmp_path / "metrics.jsonl"))


def test_target_scaling_is_fitted_on_the_training_split_only(tmp_path):
    config = FAST.replace(num_epochs=1)
    train_and_evaluate(config, tmp_path)
    saved = input_pipeline.Normalizer.from_dict(
        json.loads((tmp_path / "normalizer.json").read_text())
    )
    data = input_pipeline.synthetic_dataset(config.num_synthetic, seed=config.split_seed)
    train = input_pipeline.random_split(data, config.split_fractions, config.split_seed)["train"]
    expected = input_pipeline.Normalizer.fit(train, config.targets)
    everything = input_pipeline.Normalizer.fit(data, config.targets)
    np.testing.assert_allclose(saved.scale, expected.scale)
    np.testing.assert_allclose(saved.center, expected.center)
    np.testing.assert_allclose(saved.scalars_std, expected.scalars_std)
    assert not np.allclose(saved.scalars_std, everything.scalars_std)


def json_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_padded_batches_cover_every_example_once():
    batches = [sources.padded_batch_indices(10, 4, b) for b in range(3)]
    real = np.concatenate([indices[mask > 0] for indices, mask in batches])
    assert [len(indices) for indices, _ in batches] == [4, 4, 4]
    np.testing.assert_array_equal(real, np.arange(10))
    stacked = input_pipeline.stack_examples([{"x": 1.5, "z": np.array([1, 2])}] * 3, ["x", "z"])
    assert stacked["x"].dtype == np.float32 and stacked["z"].shape == (3, 2)


def test_killed_run_resumes_to_the_same_result(tmp_path):
    config = FAST.replace(num_epochs=4, schedule="plateau", plateau_patience=0)
    straight = train_and_evaluate(config, tmp_path / "straight")
    assert train_and_evaluate(config, tmp_path / "resumed", stop_after_epoch=2) == {
        "stopped_after_epoch": 2
    }
    before_resume_s = json_lines(tmp_path / "resumed" / "metrics.jsonl")[-1]["elapsed_s"]
    start = time.perf_counter()
    resumed = train_and_evaluate(config, tmp_path / "resumed")
    resumed_s = time.perf_counter() - start
    wall_s = resumed.pop("wall_s"), straight.pop("wall_s")
    assert resumed == straight
    assert records(tmp_path / "resumed") == records(tmp_path / "straight")
    # the run's clock counts the killed process up to its last epoch, then the resumed one
    assert wall_s[0] == pytest.approx(before_resume_s + resumed_s, abs=0.1)
    elapsed = [r["elapsed_s"] for r in json_lines(tmp_path / "straight" / "metrics.jsonl")]
    assert elapsed == sorted(elapsed) and elapsed[-1] < wall_s[1]


def test_non_finite_loss_stops_before_saving(tmp_path):
    # warm-up: steps 0 and 1 of epoch 1 run at a sane rate, the update of step 1 blows up
    config = FAST.replace(learning_rate=1e38, grad_clip_norm=1e38, warmup_epochs=2)
    with pytest.raises(NonFiniteLossError, match=r"at step 2 \(epoch 1\)"):
        train_and_evaluate(config, tmp_path)
    assert checkpoint_steps(tmp_path) == []
    assert records(tmp_path) == []


def test_early_stopping_on_validation_mae(tmp_path):
    config = FAST.replace(learning_rate=0.0, loss="mse", num_epochs=5, early_stopping_patience=2)
    results = train_and_evaluate(config, tmp_path)  # nothing changes, so nothing improves
    assert (results["best_epoch"], results["epochs_run"]) == (1, 3)


def test_a_cutoff_shorter_than_a_bond_is_refused(tmp_path):
    config = FAST.replace(model="schnet", model_kwargs={"features": 4, "cutoff": 2.0})
    with pytest.raises(ValueError, match="does not cover the longest bond"):
        train_and_evaluate(config, tmp_path)


def test_constant_baseline_scores_the_training_median(tmp_path):
    # of the labelled pairs only, in training and test; the total energy has no atom reference
    targets = (*PARTLY.targets, "total_energy_ev")
    config = PARTLY.replace(model="constant", model_kwargs={}, num_epochs=1, targets=targets)
    results = train_and_evaluate(config, tmp_path)
    splits = synthetic_splits(config)
    for t in config.targets:
        train, test = splits["train"][t], splits["test"][t]
        median = np.median(train[np.isfinite(train)])
        expected = np.mean(np.abs(test[np.isfinite(test)] - median))
        assert results["test_mae"][t] == pytest.approx(expected, rel=1e-4)


def test_the_atom_reference_baseline_predicts_the_training_fit_of_per_element_energies(tmp_path):
    config = FAST.replace(
        model="atom_reference", model_kwargs={}, num_epochs=1, num_synthetic=600,
        targets=("e_g_ev", "total_energy_ev"),
    )  # fmt: skip
    results = train_and_evaluate(config, tmp_path)
    splits = synthetic_splits(config)
    train, test = splits["train"], splits["test"]

    def counts(atomic_numbers):  # [N, 119]: atoms of each element in each pair
        matrix = np.zeros((len(atomic_numbers), 119))
        for row, (a, b) in enumerate(atomic_numbers):
            matrix[row, a] += 1
            matrix[row, b] += 1
        return matrix

    energy = train["total_energy_ev"].astype(np.float64)
    per_element = np.linalg.lstsq(counts(train["atomic_numbers"]), energy, rcond=None)[0]
    shift = np.median(energy - counts(train["atomic_numbers"]) @ per_element)
    prediction = counts(test["atomic_numbers"]) @ per_element + shift
    expected = np.mean(np.abs(test["total_energy_ev"] - prediction))
    assert results["test_mae"]["total_energy_ev"] == pytest.approx(expected, rel=1e-4)
    constant = np.mean(np.abs(test["total_energy_ev"] - np.median(energy)))
    assert expected < 0.05 * constant
    # a target without a reference: the training median, as the constant predictor's
    gap = np.mean(np.abs(test["e_g_ev"] - np.median(train["e_g_ev"])))
    assert results["test_mae"]["e_g_ev"] == pytest.approx(gap, rel=1e-4)


def test_missing_labels_are_masked_and_left_out_of_the_scaling():
    data = synthetic_splits(PARTLY)["train"]
    softness = data["softness_evinv"].astype(np.float64)
    labelled = np.isfinite(softness)
    assert 0 < labelled.sum() < len(softness)
    known = softness[labelled]
    minmax = input_pipeline.Normalizer.fit(data, PARTLY.targets, "minmax")
    standard = input_pipeline.Normalizer.fit(data, PARTLY.targets, "standard")
    np.testing.assert_allclose(
        [minmax.center[1], minmax.scale[1], standard.center[1], standard.scale[1]],
        [(known.max() + known.min()) / 2, (known.max() - known.min()) / 2, known.mean(),
         known.std()],
        rtol=1e-12,
    )  # fmt: skip
    assert minmax.median[1] == np.median(known)
    # the fully labelled target is scaled as if it were alone
    alone = input_pipeline.Normalizer.fit(data, ("e_g_ev",))
    assert (minmax.center[0], minmax.scale[0]) == (alone.center[0], alone.scale[0])
    # model-ready arrays: no NaN, and a mask of the finite labels
    arrays = minmax(data)
    expected_mask = np.stack([np.ones(len(labelled)), labelled], axis=1)
    np.testing.assert_array_equal(arrays["target_mask"], expected_mask)
    assert np.all(arrays["targets"][~labelled, 1] == 0) and np.all(np.isfinite(arrays["targets"]))
    np.testing.assert_allclose(
        arrays["targets"][labelled, 1], (known - minmax.center[1]) / minmax.scale[1], rtol=1e-6
    )
    # a target without any finite training label is refused, by name
    unlabelled = input_pipeline.take(data, np.flatnonzero(~labelled))
    with pytest.raises(ValueError, match="no finite label of 'softness_evinv' in the training"):
        input_pipeline.Normalizer.fit(unlabelled, PARTLY.targets)


def test_extensive_energies_are_scaled_as_residuals_from_a_least_squares_atom_reference():
    data = input_pipeline.synthetic_dataset(2000, seed=3)  # every element in about 45 pairs
    targets = ("total_energy_ev", "e_homo_ev")
    normalizer = input_pipeline.Normalizer.fit(data, targets)
    atoms = data["atomic_numbers"]
    energy = data["total_energy_ev"].astype(np.float64)
    residual = energy - normalizer.reference(atoms)[:, 0]
    # least squares: for every element, the residuals of its pairs, counted per atom, sum to 0
    per_element = np.zeros(119)
    np.add.at(per_element, atoms[:, 0], residual)
    np.add.at(per_element, atoms[:, 1], residual)
    assert np.abs(per_element).max() < 1e-6 * np.abs(energy).sum()
    # the free atoms carry the energy: the residuals spread over a few eV, the energies over 100s
    assert np.ptp(residual) < 0.05 * np.ptp(energy)
    np.testing.assert_allclose(
        [normalizer.center[0], normalizer.scale[0]],
        [(residual.max() + residual.min()) / 2, np.ptp(residual) / 2],
        rtol=1e-9,
    )
    np.testing.assert_allclose(normalizer.median[0], np.median(energy))  # physical units
    # the HOMO has none; a round trip through the scaling gives the physical values back
    assert not normalizer.atom_reference[1].any() and not normalizer.reference(atoms)[:, 1].any()
    y = np.stack([data[t] for t in targets], 1).astype(np.float64)
    back = normalizer.unscale_targets(normalizer.scale_targets(y, atoms), atoms)
    np.testing.assert_allclose(back, y, rtol=0, atol=1e-6 * np.abs(residual).max())
    again = input_pipeline.Normalizer.from_dict(json.loads(json.dumps(normalizer.to_dict())))
    np.testing.assert_array_equal(again.reference(atoms), normalizer.reference(atoms))
    # without it the scaling is the plain min-max of the energies
    plain = input_pipeline.Normalizer.fit(data, targets, referenced=())
    assert plain.atom_reference is None and plain.scale[0] == np.ptp(energy) / 2
    with pytest.raises(ValueError, match="e_g_ev cannot have an atom reference"):
        input_pipeline.Normalizer.fit(data, ("e_g_ev",), referenced=("e_g_ev",))


def test_a_non_negative_target_is_never_predicted_below_zero_and_its_zeros_are_censored():
    data = synthetic_splits(FAST)["train"]
    assert np.mean(data["e_g_ev"] == 0) > 0.2  # zero-inflated, as the dataset's gap
    normalizer = input_pipeline.Normalizer.fit(data, ("e_g_ev", "e_homo_ev"))
    physical = np.array([[-0.5, -9.0], [0.0, 1.0], [2.0, -1.0]])
    atoms = data["atomic_numbers"][:3]
    clipped = normalizer.clip_predictions(normalizer.scale_targets(physical, atoms))
    np.testing.assert_allclose(
        normalizer.unscale_targets(clipped, atoms),
        [[0.0, -9.0], [0.0, 1.0], [2.0, -1.0]],
        atol=1e-5,
    )
    # the loss treats a gap of 0 as censored (any prediction <= 0 is exact); the HOMO never is
    arrays = normalizer(data)
    np.testing.assert_array_equal(arrays["target_censored"][:, 0], data["e_g_ev"] == 0)
    assert not arrays["target_censored"][:, 1].any()
    np.testing.assert_allclose(arrays["targets"][data["e_g_ev"] == 0, 0], -1.0)  # the scaled 0


def test_a_partly_labelled_target_is_scored_on_its_labelled_pairs(tmp_path, capsys):
    import qc_models
    from qc_app.cli import main

    results = train_and_evaluate(PARTLY, tmp_path)
    assert all(np.isfinite(r["train_loss"]) and np.isfinite(r["val_loss"])
               for r in records(tmp_path))  # fmt: skip
    test = synthetic_splits(PARTLY)["test"]
    truth = np.stack([test[t] for t in PARTLY.targets], axis=1)
    labelled = np.isfinite(truth)
    assert labelled[:, 0].all() and 0 < labelled[:, 1].sum() < len(truth)
    assert results["test_pairs"] == len(truth)
    assert results["test_labelled"] == {"softness_evinv": labelled[:, 1].sum()}
    predicted = qc_models.load(tmp_path).predict({k: test[k] for k in input_pipeline.INPUT_KEYS})
    for j, t in enumerate(PARTLY.targets):
        errors = np.abs(predicted[:, j] - truth[:, j])[labelled[:, j]]
        assert results["test_mae"][t] == pytest.approx(errors.mean(), rel=1e-4), t
    # the per-pair table keeps every pair's prediction and writes a missing label as nan
    with (tmp_path / "predictions_test.csv").open() as f:
        rows = list(csv.DictReader(f))
    written = np.array([[float(r[f"{t}_true [{unit(t)}]"]) for t in PARTLY.targets] for r in rows])
    np.testing.assert_array_equal(np.isnan(written), ~labelled)
    assert all(r["softness_evinv [1/eV]"] != "nan" for r in rows)
    # qc-canvas predict says over how many pairs the partly labelled target's MAE is
    assert main(["predict", "--workdir", str(tmp_path), "--out", str(tmp_path / "again.csv")]) == 0
    maes = [line.split() for line in capsys.readouterr().out.splitlines() if "MAE" in line]
    units = {words[1]: " ".join(words[3:]) for words in maes}
    n = labelled[:, 1].sum()
    assert units == {"e_g_ev": "eV", "softness_evinv": f"1/eV ({n} labelled pairs)"}


def test_overrides_parse_json_values():
    config = apply_overrides(FAST, ["model=schnet", "batch_size=8", 'model_kwargs={"features": 4}'])
    assert (config.model, config.batch_size, config.model_kwargs) == ("schnet", 8, {"features": 4})
    config = apply_overrides(FAST, ["learning_rate=1", "data_dir=null", "split_seed=7"])
    assert (config.learning_rate, config.data_dir, config.split_seed) == (1.0, None, 7)
    assert isinstance(config.learning_rate, float)


def test_eight_simulated_devices_match_one_device(tmp_path):
    config = FAST.replace(model="schnet", model_kwargs={"features": 8, "num_interactions": 1})
    script = textwrap.dedent(
        f"""
        import json, jax
        from qc_models.configs import test
        from qc_models.train import train_and_evaluate
        assert jax.device_count() == 8, jax.devices()
        config = test.get_config().replace(**{config.__dict__!r})
        print("RESULT", json.dumps(train_and_evaluate(config, {str(tmp_path / "eight")!r})))
        """
    )
    env = os.environ | {"XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    eight = json.loads(done.stdout.split("RESULT", 1)[1])
    one = train_and_evaluate(config, tmp_path / "one")
    assert eight["best_epoch"] == one["best_epoch"]
    for t in config.targets:
        assert eight["test_mae"][t] == pytest.approx(one["test_mae"][t], rel=1e-4, abs=1e-5)


def test_qc_canvas_train_command(tmp_path):
    from qc_app.cli import main

    overrides = ["model=pair_mlp", 'model_kwargs={"features": 4}', "num_synthetic=64"]
    argv = ["train", "--config", "test", "--workdir", str(tmp_path), "--set", *overrides]
    assert main(argv) == 0
    assert json.loads((tmp_path / "results.json").read_text())["model"] == "pair_mlp"


def test_resume_with_another_config_is_refused(tmp_path):
    # a run that failed before its first checkpoint binds nothing: the corrected config starts
    with pytest.raises(ValueError, match="does not cover the longest bond"):
        train_and_evaluate(FAST.replace(model="schnet", model_kwargs={"cutoff": 2.0}), tmp_path)
    train_and_evaluate(FAST, tmp_path, stop_after_epoch=1)
    with pytest.raises(ConfigMismatchError, match="num_epochs: 3 there, 5 now"):
        train_and_evaluate(FAST.replace(num_epochs=5), tmp_path)
    assert checkpoint_steps(tmp_path) == [1]
    # the progress bar changes nothing that is computed: the run resumes
    assert train_and_evaluate(FAST.replace(progress=True), tmp_path)["epochs_run"] == 3
    assert json.loads((tmp_path / "config.json").read_text()) == FAST.to_dict()


def test_plateau_rule_lowers_the_rate_after_flat_epochs(tmp_path):
    # at this rate the validation MAE moves by far less than optax's rtol of 1e-4: a plateau
    config = FAST.replace(
        schedule="plateau", learning_rate=1e-12, plateau_patience=1, plateau_factor=0.5,
        num_epochs=4,
    )  # fmt: skip
    train_and_evaluate(config, tmp_path)
    rates = [r["learning_rate"] for r in records(tmp_path)]
    np.testing.assert_allclose(rates, [1e-12, 1e-12, 5e-13, 2.5e-13], rtol=1e-6)


def read_events(folder):
    """(tag, step, value) of the scalars in TensorBoard event files (TFRecord framing)."""
    from tensorboardX.proto.event_pb2 import Event

    scalars = []
    for path in sorted(folder.iterdir()):
        data, offset = path.read_bytes(), 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            event = Event.FromString(data[offset + 12 : offset + 12 + length])
            offset += 16 + length
            scalars += [(v.tag, event.step, v.simple_value) for v in event.summary.value]
    return scalars


def test_workdir_logs_predictions_and_load(tmp_path, capsys):
    import qc_models
    from qc_app.cli import main
    from qc_jax.elements import pair_name

    results = train_and_evaluate(FAST, tmp_path)
    history = records(tmp_path)
    events = read_events(tmp_path / "tensorboard")
    assert [(s, v) for t, s, v in events if t == "train_loss"] == [
        (r["epoch"], pytest.approx(r["train_loss"], rel=1e-6)) for r in history
    ]
    assert {t for t, _, _ in events} >= {"val_mae/e_g_ev", "learning_rate", "steps_per_second"}

    trained = qc_models.load(tmp_path)
    assert trained.epoch == results["best_epoch"]
    data = input_pipeline.synthetic_dataset(FAST.num_synthetic, seed=FAST.split_seed)
    test = input_pipeline.random_split(data, FAST.split_fractions, FAST.split_seed)["test"]
    predicted = trained.predict({k: test[k] for k in input_pipeline.INPUT_KEYS})
    truth = np.stack([test[t] for t in FAST.targets], axis=1)
    np.testing.assert_allclose(
        np.abs(predicted - truth).mean(0), list(results["test_mae"].values()), rtol=1e-4
    )
    with (tmp_path / "predictions_test.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["pair", "e_g_ev [eV]", "e_g_ev_true [eV]", "distance_ang [Angstrom]",
                       "distance_ang_true [Angstrom]"]  # fmt: skip
    assert [r[0] for r in rows[1:]] == [pair_name(*map(int, z)) for z in test["atomic_numbers"]]
    np.testing.assert_allclose(np.array(rows[1:])[:, [1, 3]].astype(float), predicted, rtol=1e-4)

    out = tmp_path / "again.csv"
    assert main(["predict", "--workdir", str(tmp_path), "--out", str(out)]) == 0
    assert list(csv.reader(out.open())) == rows
    assert f"MAE e_g_ev {results['test_mae']['e_g_ev']:.4g} eV" in capsys.readouterr().out


def test_bad_config_or_override_is_a_clear_error(tmp_path, capsys):
    from qc_app.cli import main

    argv = ["train", "--workdir", str(tmp_path), "--config"]
    assert main([*argv, "nope"]) == 2
    assert "unknown config 'nope'; choose from default, synthetic, test" in capsys.readouterr().err
    assert main([*argv, "test", "--set", "num_epochs=ten"]) == 2
    assert "num_epochs='ten': expected an integer" in capsys.readouterr().err
    assert main([*argv, "test", "--set", "tfds_splits=[\"a\"]"]) == 2
    assert "expected tuple[str, str, str]" in capsys.readouterr().err
    assert main([*argv, "missing.py"]) == 2
    assert "config file missing.py does not exist" in capsys.readouterr().err


def test_an_unprepared_dataset_is_a_clear_error_not_a_build(tmp_path):
    config = FAST.replace(dataset="quantum_canvas/tiny", data_dir=str(tmp_path / "tfds"))
    with pytest.raises(ValueError, match=r"quantum_canvas/tiny is not prepared in .*build it"):
        train_and_evaluate(config, tmp_path / "run")
    assert not list((tmp_path / "tfds").rglob("*.array_record*"))  # nothing was built
