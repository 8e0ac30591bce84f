"""Canvas invariants on real PySCF records: partitions, integrals, symmetry, geometry, gradients."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pyscf import dft
from pyscf.dft import numint

from qc_jax import canvas
from qc_jax.chem import compute_pair
from qc_jax.store import Store

FLOAT64 = canvas.CanvasSpec(supersample=1, dtype="float64")


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """H2, CO and N2 at the default level of theory (PBE/def2-SVP, optimised bonds)."""
    store = Store(tmp_path_factory.mktemp("store"))
    out = {}
    for a, b in [("H", "H"), ("C", "O"), ("N", "N")]:
        record = store.get(a, b) or compute_pair(a, b)
        assert record.status == "ok", record.reason
        out[record.pair] = record
    return out


@pytest.fixture(scope="module")
def canvases(records):
    images = canvas.render_many(list(records.values()), FLOAT64, progress=False)
    return dict(zip(records, images, strict=True))


def test_partitions_sum_to_the_pyscf_density_at_every_pixel(records, canvases):
    record, image = records["C_O"], canvases["C_O"]
    assert image.shape == (32, 32, 10) and image.dtype == np.float64
    mol = record.mole()
    points = FLOAT64.sample_points(record.bond_length).reshape(-1, 3)
    rho = numint.eval_rho(mol, numint.eval_ao(mol, points), record.dm).reshape(32, 32)
    for first, second in [(0, 1), (2, 3)]:
        np.testing.assert_allclose(image[..., first] + image[..., second], rho,
                                   rtol=0, atol=1e-10 * rho.max())
    assert np.abs(image[..., 1]).max() > 1e-3  # CO has a real d population in def2-SVP


def test_channels_integrate_to_electrons_zero_and_one_on_a_3d_grid(records):
    record = records["C_O"]
    mol = record.mole()
    grids = dft.gen_grid.Grids(mol)
    grids.level = 5
    grids.build(with_non0tab=False)
    basis, inputs = canvas.field_inputs(record)
    with jax.enable_x64(True):
        values = np.asarray(canvas.fields(basis, inputs, grids.coords))
    integral = grids.weights @ values
    assert integral[0] + integral[1] == pytest.approx(mol.nelectron, abs=1e-5)
    assert integral[8] - integral[9] == pytest.approx(0.0, abs=1e-5)  # deformation density
    assert integral[7] == pytest.approx(1.0, abs=1e-5)  # normalised frontier density
    overlap = mol.intor("int1e_ovlp")
    on_a = np.array([label.split()[0] == "0" for label in mol.ao_labels()])
    bond_population = 2 * np.sum((record.dm * overlap)[np.ix_(on_a, ~on_a)])
    assert integral[6] == pytest.approx(bond_population, abs=1e-5)
    assert integral[8] > 0.1  # a real bond moves charge


def test_elf_is_bounded_and_high_in_the_bond(records, canvases):
    for image in canvases.values():
        assert image[..., 5].min() >= 0 and image[..., 5].max() <= 1
    h2 = canvases["H_H"][..., 5]
    assert h2[15:17, 15:17].mean() > 0.9  # H2: one localised pair between the atoms


@pytest.mark.parametrize("pair", ["H_H", "N_N"])
def test_homonuclear_canvases_are_mirror_symmetric(records, canvases, pair):
    """To the SCF convergence of the density matrix (its orbital-gradient norm)."""
    image = canvases[pair]
    tolerance = 1e-6 + 10 * records[pair].labels["scf_grad_norm"]
    scale = np.abs(image).max(axis=(0, 1))
    assert np.all(np.abs(image - image[:, ::-1]).max(axis=(0, 1)) <= tolerance * scale + 1e-14)


def test_every_canvas_is_symmetric_about_the_bond_axis(canvases):
    for image in canvases.values():
        scale = np.abs(image).max(axis=(0, 1))
        assert np.all(np.abs(image - image[::-1]).max(axis=(0, 1)) <= 1e-6 * scale + 1e-14)


def test_canvases_follow_the_geometry(records):
    record = records["C_O"]
    stretched = dataclasses.replace(record, positions=record.positions * 1.5)
    near, far = canvas.render_many([record, stretched], FLOAT64, progress=False)
    assert not np.allclose(near, far, rtol=1e-3)
    # The density maxima (the nuclei) sit in the columns of the atoms: they move apart.
    peaks = lambda image: sorted(np.argsort(image[16, :, 0])[-2:])  # noqa: E731
    assert peaks(far)[0] < peaks(near)[0] and peaks(far)[1] > peaks(near)[1]


def test_no_channel_is_a_fixed_pattern_scaled_by_a_label(canvases):
    images = np.stack(list(canvases.values())).reshape(len(canvases), -1, 10)
    for channel in range(10):
        with np.errstate(invalid="ignore", divide="ignore"):
            correlation = np.corrcoef(images[:, :, channel])
        off_diagonal = correlation[~np.eye(len(images), dtype=bool)]
        # NaN for an all-zero canvas (H2 has no d density), which is no fixed pattern either.
        assert np.nanmin(off_diagonal) < 0.99, canvas.CHANNELS[channel].name


def test_channel_sums_are_differentiable_in_the_bond_length(records):
    record = records["C_O"]
    basis, inputs = canvas.field_inputs(record)
    spec = canvas.CanvasSpec(height=8, width=8, supersample=1)
    points = jnp.asarray(spec.sample_points(record.bond_length).reshape(-1, 3))

    def channel_sums(bond_bohr):
        coords = jnp.array([[0.0, 0.0, -0.5], [0.0, 0.0, 0.5]]) * bond_bohr
        return jnp.sum(canvas.fields(dataclasses.replace(basis, coords=coords), inputs, points),
                       axis=0)

    with jax.enable_x64(True):
        bond = record.bond_length * canvas.BOHR_PER_ANGSTROM
        gradient = jax.jacfwd(channel_sums)(bond)
        h = 1e-4
        difference = (channel_sums(bond + h) - channel_sums(bond - h)) / (2 * h)
    for channel in (0, 2, 3, 6):  # smooth channels (the others have max(.) or ELF kinks)
        assert float(gradient[channel]) == pytest.approx(float(difference[channel]), rel=1e-5)


def test_batched_rendering_equals_one_at_a_time(records):
    spec = canvas.CanvasSpec(height=12, width=16, supersample=2)
    batch = canvas.render_many(list(records.values()), spec, batch_size=2, progress=False)
    assert batch.shape == (3, 12, 16, 10) and batch.dtype == np.float32
    for record, image in zip(records.values(), batch, strict=True):
        np.testing.assert_allclose(canvas.render(record, spec), image, rtol=1e-6, atol=1e-9)


def test_float32_generation_matches_float64(records, canvases):
    """The TPU path; 32x32x9 = 9,216 points also catches jax 0.10.2's float32 miscompilation."""
    single = canvas.render(records["C_O"], canvas.CanvasSpec(supersample=1, precision="float32"))
    reference = canvases["C_O"]
    error = np.abs(single - reference).max(axis=(0, 1)) / np.abs(reference).max(axis=(0, 1))
    assert error.max() < 1e-4, error


def test_spec_geometry_and_adaptive_box(records):
    spec = canvas.CanvasSpec(height=16, width=32, extent_angstrom=8.0)
    geometry = spec.geometry(1.1)
    assert geometry["pixel_angstrom"] == pytest.approx(0.25)
    assert geometry["box_height_angstrom"] == pytest.approx(4.0)
    points = spec.sample_points(1.1) / canvas.BOHR_PER_ANGSTROM
    assert points.shape == (16, 32, 3, 3, 3)
    assert points[..., 2].min() > -4 and points[..., 2].max() < 4
    assert np.allclose(points[..., 1], 0)
    assert points[0, 0, ..., 0].mean() > 0 > points[-1, 0, ..., 0].mean()  # top row is +x
    adaptive = canvas.CanvasSpec(adaptive=True, margin_angstrom=2.0)
    assert adaptive.geometry(3.0)["box_width_angstrom"] == pytest.approx(7.0)


def test_display_transform_is_invertible_and_fitted_per_channel(canvases):
    images = np.stack(list(canvases.values())).astype(np.float32)
    transform = canvas.DisplayTransform.fit(images[:2])
    assert len(transform.scale) == 10 and all(s > 0 for s in transform.scale)
    np.testing.assert_allclose(transform.inverse(transform(images)), images, rtol=1e-4,
                               atol=1e-7)


def test_docs_channel_table_is_the_code_table():
    from pathlib import Path

    docs = Path(__file__).parents[1] / "docs" / "canvas.md"
    assert canvas.channel_table_markdown() in docs.read_text()


def test_bad_input_is_rejected(records):
    with pytest.raises(ValueError, match="supersample must be >= 1"):
        canvas.CanvasSpec(supersample=0)
    with pytest.raises(ValueError, match="channels must be"):
        canvas.CanvasSpec(channels="rgb")
    with pytest.raises(ValueError, match="canvas size must be positive"):
        canvas.CanvasSpec(height=0)
    failed = dataclasses.replace(records["H_H"], status="failed", reason="SCF did not converge",
                                 dm=np.zeros((0,)))
    with pytest.raises(ValueError, match="failed record has no density"):
        canvas.render(failed)
