"""The training loop: end to end, resume, NaN stop, fitted baseline, 8 simulated devices, the
workdir (config, checkpoints, TensorBoard, predictions, `qc_models.load`)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from qc_models import input_pipeline, sources
from qc_models.configs import test as test_config
from qc_models.configs.base import apply_overrides
from qc_models.train import NonFiniteLossError, train_and_evaluate

#: A config whose whole run compiles and trains in a couple of seconds.
FAST = test_config.get_config().replace(
    model="gatv2", model_kwargs={"features": 8, "num_layers": 1}, num_synthetic=64
)


def records(workdir):
    """metrics.jsonl without the timings."""
    lines = (workdir / "metrics.jsonl").read_text().splitlines()
    timings = ("seconds", "steps_per_second")
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
    resumed = train_and_evaluate(config, tmp_path / "resumed")
    assert resumed == straight
    assert records(tmp_path / "resumed") == records(tmp_path / "straight")


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
    config = FAST.replace(model="constant", model_kwargs={}, num_epochs=1)
    results = train_and_evaluate(config, tmp_path)
    splits = input_pipeline.random_split(
        input_pipeline.synthetic_dataset(config.num_synthetic, seed=config.split_seed),
        seed=config.split_seed,
    )
    for t in config.targets:
        expected = np.mean(np.abs(splits["test"][t] - np.median(splits["train"][t])))
        assert results["test_mae"][t] == pytest.approx(expected, rel=1e-4)


def test_overrides_parse_json_values():
    config = apply_overrides(FAST, ["model=schnet", "batch_size=8", 'model_kwargs={"features": 4}'])
    assert (config.model, config.batch_size, config.model_kwargs) == ("schnet", 8, {"features": 4})


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
    from qc_jax.cli import main

    overrides = ["model=pair_mlp", 'model_kwargs={"features": 4}', "num_synthetic=64"]
    argv = ["train", "--config", "test", "--workdir", str(tmp_path), "--set", *overrides]
    assert main(argv) == 0
    assert json.loads((tmp_path / "results.json").read_text())["model"] == "pair_mlp"
