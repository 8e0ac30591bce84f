"""The model zoo: shapes, symmetries, parameter counts, and that every model learns."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from qc_models import input_pipeline, registry
from qc_models.egnn import EGNN
from qc_models.layers import MLP, count_params
from qc_models.train import masked_loss, predict_step, train_step

NUM_TARGETS = 3
TARGETS = ("e_g_ev", "total_energy_ev", "distance_ang")
CHANNELS = 10  # of the synthetic canvases


def tiny(name: str, in_channels: int = CHANNELS) -> nnx.Module:
    kwargs = {} if name in registry.FITTED else {"features": 8}
    return registry.build(name, NUM_TARGETS, in_channels, nnx.Rngs(0), **kwargs)


@pytest.fixture(scope="module")
def batch():
    data = input_pipeline.synthetic_dataset(12, seed=3)
    normalized = input_pipeline.Normalizer.fit(data, TARGETS)(data)
    return {k: jnp.asarray(v) for k, v in normalized.items()} | {"mask": jnp.ones(12)}


def random_rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def moved(batch, rotation, translation):
    return batch | {"positions": batch["positions"] @ rotation.T + translation}


def swapped(batch):
    return batch | {
        "atomic_numbers": batch["atomic_numbers"][:, ::-1],
        "positions": batch["positions"][:, ::-1],
    }


@pytest.mark.parametrize("name", registry.GEOMETRIC)
def test_geometric_models_are_rotation_and_translation_invariant(name, batch):
    model = tiny(name)
    rotation, translation = random_rotation(0), np.array([1.5, -2.0, 0.7], np.float32)
    np.testing.assert_allclose(
        predict_step(model, moved(batch, rotation, translation)),
        predict_step(model, batch),
        atol=2e-4,
        rtol=1e-4,
    )


@pytest.mark.parametrize("name", registry.GEOMETRIC)
def test_geometric_models_are_invariant_on_a_triatomic(name):
    """The models are general: three atoms, bent, rotated and permuted."""
    model = tiny(name)
    positions = jnp.array([[[0.0, 0.0, 0.0], [1.1, 0.2, 0.0], [-0.4, 1.3, 0.5]]])
    batch = {"atomic_numbers": jnp.array([[8, 1, 1]]), "positions": positions}
    rotation = random_rotation(1)
    expected = model(batch)
    np.testing.assert_allclose(model(moved(batch, rotation, 3.0)), expected, atol=2e-4, rtol=1e-4)
    permuted = {k: v[:, ::-1] for k, v in batch.items()}
    np.testing.assert_allclose(model(permuted), expected, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("name", registry.SWAP_INVARIANT)
def test_symmetric_models_are_invariant_to_swapping_the_atoms(name, batch):
    model = tiny(name)
    np.testing.assert_allclose(
        predict_step(model, swapped(batch)), predict_step(model, batch), atol=2e-4, rtol=1e-4
    )


def test_egnn_coordinates_are_equivariant(batch):
    model = EGNN(NUM_TARGETS, features=8, rngs=nnx.Rngs(0))
    rotation, translation = random_rotation(2), np.array([0.3, 0.1, -1.0], np.float32)
    h, x = model.encode(batch)
    h_moved, x_moved = model.encode(moved(batch, rotation, translation))
    np.testing.assert_allclose(x_moved, x @ rotation.T + translation, atol=2e-4)
    np.testing.assert_allclose(h_moved, h, atol=2e-4, rtol=1e-4)
    assert not np.allclose(x, batch["positions"]), "coordinates were not updated"


def test_dimenet_angles_matter_only_with_three_atoms():
    """A diatomic has no angle triplets: the angular weights cannot change its output."""
    model = tiny("dimenet_pp")
    diatomic = {
        "atomic_numbers": jnp.array([[6, 8]]),
        "positions": jnp.array([[[0.0, 0.0, -0.6], [0.0, 0.0, 0.6]]]),
    }
    triatomic = {
        "atomic_numbers": jnp.array([[8, 1, 1]]),
        "positions": jnp.array([[[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]]),
    }
    before = model(diatomic), model(triatomic)
    for block in model.interactions:
        block.sbf.layers[0].kernel[...] *= 3.0
    after = model(diatomic), model(triatomic)
    np.testing.assert_allclose(after[0], before[0], rtol=1e-6)
    assert not np.allclose(after[1], before[1], rtol=1e-4)


def test_parameter_counts():
    assert count_params(MLP([3, 4, 2], rngs=nnx.Rngs(0))) == 3 * 4 + 4 + 4 * 2 + 2
    counts = registry.parameter_counts(NUM_TARGETS, CHANNELS)
    assert set(counts) == set(registry.MODELS)
    assert all((counts[n] == 0) == (n in registry.FITTED) for n in counts)
    cnn = registry.MODELS["cnn"](NUM_TARGETS, in_channels=CHANNELS, rngs=nnx.Rngs(0))
    assert counts["cnn"] == count_params(cnn)
    # One more input channel: one more 3x3 kernel slice per filter of the first convolution.
    wider = registry.parameter_counts(NUM_TARGETS, CHANNELS + 1)["cnn"]
    assert wider == counts["cnn"] + 9 * cnn.encoder.blocks[0].out_features


def test_the_canvas_models_are_those_that_take_a_channel_count():
    takes_channels = {name for name, cls in registry.MODELS.items()
                      if "in_channels" in inspect.signature(cls.__init__).parameters}
    assert takes_channels == set(registry.CANVAS)


@pytest.mark.parametrize("name", registry.CANVAS)
def test_canvas_models_read_canvases_of_the_channel_count_they_are_given(name, batch):
    """An eleventh channel (a copy of the first, as a spin-density set would add one)."""
    eleven = batch | {"canvas": jnp.concatenate([batch["canvas"], batch["canvas"][..., :1]], -1)}
    out = predict_step(tiny(name, in_channels=11), eleven)
    assert out.shape == (12, NUM_TARGETS) and jnp.all(jnp.isfinite(out))
    with pytest.raises(ValueError):  # a model for ten channels refuses eleven
        predict_step(tiny(name), eleven)


@pytest.mark.parametrize("name", sorted(set(registry.MODELS) - set(registry.FITTED)))
def test_output_shape_and_loss_decreases(name, batch):
    model = tiny(name)
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
    out = predict_step(model, batch)
    assert out.shape == (12, NUM_TARGETS) and jnp.all(jnp.isfinite(out))
    masks = batch["targets"], batch["mask"], batch["target_mask"]
    first = float(masked_loss(out, *masks, "l1"))
    for _ in range(10):
        train_step(model, optimizer, batch, "l1")
    last = float(masked_loss(predict_step(model, batch), *masks, "l1"))
    assert last < 0.9 * first, (first, last)


def loss_batch(seed: int, missing: float) -> tuple:
    """Random predictions and targets [12, 3], the last 3 examples padding, and a target mask
    with about `missing` of the labels missing (their targets 0, as the input pipeline gives)."""
    rng = np.random.default_rng(seed)
    predictions = jnp.asarray(rng.standard_normal((12, 3)), jnp.float32)
    target_mask = jnp.asarray(rng.random((12, 3)) >= missing, jnp.float32)
    targets = jnp.asarray(rng.standard_normal((12, 3)), jnp.float32) * target_mask
    padding = jnp.asarray([1.0] * 9 + [0.0] * 3)
    return predictions, targets, padding, target_mask


@pytest.mark.parametrize("kind", ["l1", "mse"])
def test_the_loss_of_a_batch_without_missing_labels_is_unchanged_bit_for_bit(kind):
    """The loss from before labels could be missing: the mean over the real examples of each
    example's mean over the targets."""
    predictions, targets, padding, target_mask = loss_batch(0, missing=0.0)
    assert np.all(target_mask == 1)
    error = predictions - targets
    per_example = jnp.mean(jnp.abs(error) if kind == "l1" else error**2, axis=-1)
    before = jnp.sum(per_example * padding) / jnp.maximum(jnp.sum(padding), 1.0)
    assert masked_loss(predictions, targets, padding, target_mask, kind) == before
    nothing_real = jnp.zeros(12)
    assert masked_loss(predictions, targets, nothing_real, target_mask, kind) == 0.0


@pytest.mark.parametrize("kind", ["l1", "mse"])
def test_the_loss_averages_over_the_labelled_entries_only(kind):
    predictions, targets, padding, target_mask = loss_batch(1, missing=0.4)
    real = np.asarray(padding[:, None] * target_mask) > 0
    assert 0 < real.sum() < 9 * 3
    error = np.asarray(predictions, np.float64) - np.asarray(targets, np.float64)
    expected = np.mean((np.abs(error) if kind == "l1" else error**2)[real])
    loss = masked_loss(predictions, targets, padding, target_mask, kind)
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    # a missing label or a padded example trains nothing: its prediction gets no gradient
    grad = jax.grad(masked_loss)(predictions, targets, padding, target_mask, kind)
    assert np.all(np.asarray(grad)[~real] == 0) and np.all(np.asarray(grad)[real] != 0)


@pytest.mark.parametrize("kind", ["l1", "mse"])
def test_a_censored_label_is_missed_only_by_a_prediction_above_it(kind):
    """A non-negative label at 0 (the gap of a metal-like pair) is predicted as max(output, 0):
    any output at or below the scaled 0 has no error and no gradient; above it, the usual one."""
    predictions, targets, padding, target_mask = loss_batch(2, missing=0.0)
    censored = jnp.asarray(np.random.default_rng(3).random((12, 3)) < 0.5, jnp.float32)
    assert 0 < float(jnp.sum(censored)) < 36
    error = np.asarray(predictions - targets, np.float64)
    error = np.where(np.asarray(censored) > 0, np.maximum(error, 0), error)
    real = np.broadcast_to(np.asarray(padding)[:, None] > 0, error.shape)
    expected = np.mean((np.abs(error) if kind == "l1" else error**2)[real])
    loss = masked_loss(predictions, targets, padding, target_mask, kind, censored)
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    grad = np.asarray(jax.grad(masked_loss)(predictions, targets, padding, target_mask, kind,
                                            censored))
    below = np.asarray((censored > 0) & (predictions < targets))
    assert below[real].any() and np.all(grad[below] == 0) and np.all(grad[real & ~below] != 0)


def test_constant_baseline_predicts_the_training_median(batch):
    model = tiny("constant")
    model.fit(np.asarray(batch["targets"]))
    np.testing.assert_allclose(
        predict_step(model, batch),
        np.broadcast_to(np.median(batch["targets"], axis=0), (12, NUM_TARGETS)),
    )


def test_cutoffs_cover_the_longest_bond():
    for name in registry.GEOMETRIC:
        cutoff = getattr(tiny(name), "cutoff", None)
        assert cutoff is None or cutoff >= 6.0, name
