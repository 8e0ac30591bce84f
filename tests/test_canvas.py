"""Canvas invariants and independent references, on records built here from PySCF runs.

The records are made by :func:`pyscf_record` (PBE/def2-SVP Kohn-Sham at fixed bond lengths,
free-atom promolecule), not by ``qc_jax.chem``, so these tests check the canvas alone. Channels 4
(-laplacian rho) and 5 (ELF) are compared with formulas written out here from PySCF's own MGGA
``eval_rho`` (rho, gradient, Laplacian and tau = 1/2 sum_ij P_ij grad phi_i . grad phi_j, per
spin density matrix), every other channel with PySCF AOs and numpy.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pyscf import dft, gto, scf
from pyscf.dft import numint

from qc_app import figures
from qc_jax import canvas, orbitals
from qc_jax.channels import ChannelSet
from qc_jax.chem.molecule import record_mole
from qc_jax.record import PairRecord

FLOAT64 = canvas.CanvasSpec(supersample=1, dtype="float64")

#: Uniform-gas kinetic energy density coefficient 3/10 (3 pi^2)^(2/3) (Hartree Bohr^2).
C_F = 0.3 * (3 * math.pi**2) ** (2 / 3)


def pyscf_record(symbols: tuple[str, str], bond_angstrom: float, spin: int = 0,
                 basis: str = "def2-svp", restricted: bool = False) -> PairRecord:
    """A pair record from a PBE Kohn-Sham run here: UKS with ``spin`` = N_alpha - N_beta (schema
    2), or with ``restricted`` an RKS run stored in the schema-1 layout ([nao, nao] dm, [nmo]
    occupations 0..2) and converted on read like a stored schema-1 record. The promolecule is
    PySCF's spherically averaged free atoms (``init_guess_by_atom``); labels hold only the SCF
    orbital-gradient norm."""
    z = bond_angstrom / 2
    mol = gto.M(atom=[(symbols[0], (0, 0, -z)), (symbols[1], (0, 0, z))], unit="Angstrom",
                basis=basis, spin=spin, verbose=0)
    mf = (dft.RKS if restricted else dft.UKS)(mol)
    mf.xc, mf.conv_tol = "pbe", 1e-11
    mf.kernel()
    assert mf.converged
    record = PairRecord(
        pair="_".join(symbols), symbols=symbols, status="ok", reason="", settings={},
        settings_digest="test", positions=np.array([[0.0, 0.0, -z], [0.0, 0.0, z]]),
        labels={"scf_grad_norm": float(np.linalg.norm(mf.get_grad(mf.mo_coeff, mf.mo_occ)))},
        basis={s: [basis, ""] for s in symbols}, dm=mf.make_rdm1(),
        mo_coeff=np.asarray(mf.mo_coeff), mo_energy=np.asarray(mf.mo_energy),
        mo_occ=np.asarray(mf.mo_occ), dm_promolecule=scf.hf.init_guess_by_atom(mol),
        schema_version=1 if restricted else 2,
    )
    return PairRecord.from_parts(*record.to_parts())


def reference_channels(record: PairRecord, points: np.ndarray, density_matrices: list,
                       frontier: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """[N, 10] channels at ``points`` [N, 3] (Bohr) from PySCF AOs and ``eval_rho``.

    ``density_matrices``: [total] for the closed-shell formulas (the restricted canvas before
    spin polarisation) or [alpha, beta] for the spin-polarised ELF. ``frontier``: (MO
    coefficients [nao], weight) whose weighted |psi|^2 is channel 7.
    """
    mol = record_mole(record)
    ao = numint.eval_ao(mol, points, deriv=2)
    # Per density matrix: rho, d/dx, d/dy, d/dz, laplacian, tau = 1/2 sum P grad phi . grad phi.
    terms = [numint.eval_rho(mol, ao, dm, xctype="MGGA", with_lapl=True)
             for dm in density_matrices]
    rho = sum(t[0] for t in terms)
    laplacian = sum(t[4] for t in terms)
    if len(terms) == 1:
        tau, grad = terms[0][5], terms[0][1:4]
        d = tau - np.sum(grad**2, axis=0) / (8 * rho)
        d0 = C_F * rho ** (5 / 3)
    else:
        d = sum(t[5] - np.sum(t[1:4] ** 2, axis=0) / (8 * t[0]) for t in terms)
        d0 = 2 ** (2 / 3) * C_F * sum(t[0] ** (5 / 3) for t in terms)
    with np.errstate(divide="ignore", invalid="ignore"):
        elf = np.where(rho > 1e-6, 1 / (1 + (d / d0) ** 2), 0.0)

    phi, dm = ao[0], record.dm_total
    l_of_ao = np.array(["spdfg".index(nl[-1]) for _, _, nl, _ in mol.ao_labels(fmt=False)])
    m_zero = np.array([m in ("", "z", "z^2", "+0") for *_, m in mol.ao_labels(fmt=False)])
    by_row = (phi @ dm) * phi
    first, second = (slice(*mol.aoslice_by_atom()[i, 2:]) for i in (0, 1))
    bond = 2 * np.sum((phi[:, first] @ dm[first, second]) * phi[:, second], axis=1)
    frontier_density = sum(weight * (phi @ c) ** 2 for c, weight in frontier)
    deformation = rho - numint.eval_rho(mol, phi, record.dm_promolecule)
    return np.stack([
        by_row[:, l_of_ao <= 1].sum(1), by_row[:, l_of_ao >= 2].sum(1),
        by_row[:, m_zero].sum(1), by_row[:, ~m_zero].sum(1),
        -laplacian, elf, bond, frontier_density,
        np.maximum(deformation, 0), np.maximum(-deformation, 0),
    ], axis=1)


def off_plane_points(bond_angstrom: float, count: int = 300) -> np.ndarray:
    """[count, 3] random points (Bohr) in 3-D around the molecule, off the canvas plane."""
    half = (bond_angstrom / 2 + 2.5) * canvas.BOHR_PER_ANGSTROM
    return np.random.default_rng(0).uniform(-half, half, (count, 3))


def assert_channels_close(ours: np.ndarray, reference: np.ndarray, rtol: float = 1e-8) -> None:
    """Every channel to ``rtol`` of the value, or 1e-12 of the channel's largest |value|
    (values crossing zero)."""
    for channel, (a, b) in enumerate(zip(ours.T, reference.T, strict=True)):
        atol = 1e-12 * np.abs(b).max()
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                   err_msg=canvas.CHANNELS[channel].name)


@pytest.fixture(scope="module")
def records():
    """Closed-shell H2, CO, N2 and the O2 triplet (UKS, spin 2), PBE/def2-SVP near R_e."""
    out = [pyscf_record(("H", "H"), 0.75), pyscf_record(("C", "O"), 1.136),
           pyscf_record(("N", "N"), 1.104), pyscf_record(("O", "O"), 1.22, spin=2)]
    return {record.pair: record for record in out}


@pytest.fixture(scope="module")
def canvases(records):
    images = canvas.render_many(list(records.values()), FLOAT64, progress=False)
    return dict(zip(records, images, strict=True))


def pixel_centres(record: PairRecord) -> np.ndarray:
    return FLOAT64.sample_points(record.bond_length).reshape(-1, 3)


def channels_at(record: PairRecord, points: np.ndarray,
                names: tuple[str, ...] = canvas.PHYSICAL.names) -> np.ndarray:
    """[N, C] ``canvas.fields`` ``names`` of a record at points [N, 3] (Bohr), float64."""
    basis, inputs = canvas.field_inputs(record)
    with jax.enable_x64(True):
        return np.asarray(canvas.fields(basis, inputs, points, names))


def test_closed_shell_channels_match_independent_references(records, canvases):
    """CO: -laplacian rho and ELF from PySCF's MGGA eval_rho of each spin, and every other
    channel, at the pixel centres (rendered in a batch) and at 3-D points (``fields``).
    Measured agreement: < 1e-12 relative."""
    record = records["C_O"]
    assert np.ptp(record.mo_energy[:, 7:9]) < 1e-6  # the LUMO, 2 pi*, is degenerate
    homo = [(record.mo_coeff[s, :, 6], 1 / 4) for s in (0, 1)]  # 5 sigma, both spins
    lumo = [(record.mo_coeff[s, :, i], 1 / 8) for s in (0, 1) for i in (7, 8)]
    on_plane = pixel_centres(record)
    reference = reference_channels(record, on_plane, list(record.dm), homo + lumo)
    assert_channels_close(canvases["C_O"].reshape(-1, 10), reference)
    points = off_plane_points(record.bond_length)
    assert_channels_close(channels_at(record, points),
                          reference_channels(record, points, list(record.dm), homo + lumo))


def test_spin_polarised_channels_match_independent_references(records, canvases):
    """O2 triplet (UKS): spin-polarised ELF from each spin's eval_rho; the frontier channel from
    the alpha pi* (HOMO) and beta pi* (LUMO) pairs."""
    record = records["O_O"]
    assert record.mo_occ[0].sum() == pytest.approx(9) and record.mo_occ[1].sum() == pytest.approx(7)
    levels = orbitals.frontier(record.mo_energy, record.mo_occ)
    np.testing.assert_array_equal(np.argwhere(levels.homo_set), [[0, 7], [0, 8]])  # alpha pi*
    np.testing.assert_array_equal(np.argwhere(levels.lumo_set), [[1, 7], [1, 8]])  # beta pi*
    frontier = [(record.mo_coeff[s, :, i], 1 / 4) for s in (0, 1) for i in (7, 8)]
    assert np.abs(record.dm[0] - record.dm[1]).max() > 0.1  # spin-polarised
    reference = reference_channels(record, pixel_centres(record), list(record.dm), frontier)
    assert_channels_close(canvases["O_O"].reshape(-1, 10), reference)
    # The closed-shell ELF of the same total density differs: the spin form is not a no-op.
    closed_shell = reference_channels(record, pixel_centres(record), [record.dm_total], frontier)
    assert np.abs(closed_shell[:, 5] - reference[:, 5]).max() > 0.01
    points = off_plane_points(record.bond_length)
    assert_channels_close(channels_at(record, points),
                          reference_channels(record, points, list(record.dm), frontier))


def test_schema_1_record_renders_the_restricted_canvas(records, canvases):
    """A spin-restricted (schema 1) CO record, split into two equal spins on read, renders the
    canvas of the closed-shell definitions (restricted tau and ELF, HOMO and LUMO of the
    restricted MOs), i.e. what it rendered before spin polarisation; and the UKS record of the
    same molecule renders the same canvas to the SCF convergence."""
    record = pyscf_record(("C", "O"), 1.136, restricted=True)
    assert record.schema_version == 2 and record.dm.shape == (2, 28, 28)
    np.testing.assert_array_equal(record.dm[0], record.dm[1])
    np.testing.assert_array_equal(record.mo_occ[0], record.mo_occ[1])
    assert record.mo_occ.max() == 1.0
    dm, coeff = 2 * record.dm[0], record.mo_coeff[0]  # the restricted arrays
    frontier = [(coeff[:, 6], 1 / 2), (coeff[:, 7], 1 / 4), (coeff[:, 8], 1 / 4)]
    image = canvas.render(record, FLOAT64)
    reference = reference_channels(record, pixel_centres(record), [dm], frontier)
    assert_channels_close(image.reshape(-1, 10), reference)
    unrestricted = canvases["C_O"]
    scale = np.abs(unrestricted).max(axis=(0, 1))
    assert np.all(np.abs(image - unrestricted).max(axis=(0, 1)) <= 1e-5 * scale)


def test_frontier_without_a_lumo_is_the_homo_set():
    """He2 in STO-3G: every spin-orbital is filled, so channel 7 is the mean |psi|^2 of the HOMO
    set (sigma*, both spins) alone."""
    record = pyscf_record(("He", "He"), 3.0, basis="sto-3g")
    assert record.mo_occ.min() == 1.0
    sigma_star = record.mo_coeff[:, :, 1]  # [2, nao]
    expected = (np.outer(sigma_star[0], sigma_star[0]) + np.outer(sigma_star[1], sigma_star[1])) / 2
    np.testing.assert_allclose(canvas.frontier_density_matrix(record), expected, atol=1e-14)


@pytest.mark.parametrize("pair", ["C_O", "O_O"])
def test_partitions_sum_to_the_pyscf_density_at_every_pixel(records, canvases, pair):
    record, image = records[pair], canvases[pair]
    assert image.shape == (32, 32, 10) and image.dtype == np.float64
    mol = record_mole(record)
    rho = numint.eval_rho(mol, numint.eval_ao(mol, pixel_centres(record)),
                          record.dm[0] + record.dm[1]).reshape(32, 32)
    for first, second in [(0, 1), (2, 3)]:
        np.testing.assert_allclose(image[..., first] + image[..., second], rho,
                                   rtol=0, atol=1e-10 * rho.max())
    assert np.abs(image[..., 1]).max() > 1e-3  # a real d population in def2-SVP


@pytest.mark.parametrize("pair", ["C_O", "O_O"])
def test_channels_integrate_to_electrons_zero_and_one_on_a_3d_grid(records, pair):
    record = records[pair]
    mol = record_mole(record)
    grids = dft.gen_grid.Grids(mol)
    grids.level = 5
    grids.build(with_non0tab=False)
    values = channels_at(record, grids.coords)
    integral = grids.weights @ values
    assert integral[0] + integral[1] == pytest.approx(mol.nelectron, abs=1e-5)
    assert integral[8] - integral[9] == pytest.approx(0.0, abs=1e-5)  # deformation density
    assert integral[7] == pytest.approx(1.0, abs=1e-5)  # normalised frontier density
    overlap = mol.intor("int1e_ovlp")
    on_a = np.array([label.split()[0] == "0" for label in mol.ao_labels()])
    bond_population = 2 * np.sum((record.dm_total * overlap)[np.ix_(on_a, ~on_a)])
    assert integral[6] == pytest.approx(bond_population, abs=1e-5)
    assert integral[8] > 0.1  # a real bond moves charge
    assert values[:, 5].min() >= 0 and values[:, 5].max() <= 1  # ELF


def test_an_eleventh_channel_the_spin_density(records, canvases, tmp_path):
    """The set ``physical_spin``: the ten physical channels, unchanged, and rho_alpha - rho_beta,
    equal at every pixel to PySCF's eval_rho of each spin density matrix; 0 for the closed
    shells, and the O2 triplet's two unpaired electrons (alpha pi*) on a 3-D grid. Its figure
    has eleven panels."""
    spin_spec = dataclasses.replace(FLOAT64, channels="physical_spin")
    images = canvas.render_many(list(records.values()), spin_spec, progress=False)
    spin = canvas.PHYSICAL_SPIN.index("spin_density")
    for (pair, record), image in zip(records.items(), images, strict=True):
        assert image.shape == (32, 32, 11)
        np.testing.assert_array_equal(image[..., :spin], canvases[pair])
        mol = record_mole(record)
        ao = numint.eval_ao(mol, pixel_centres(record))
        alpha, beta = (numint.eval_rho(mol, ao, dm) for dm in record.dm)
        rho = (alpha + beta).reshape(32, 32)
        np.testing.assert_allclose(image[..., spin], (alpha - beta).reshape(32, 32), rtol=0,
                                   atol=1e-10 * rho.max())
        assert np.all(np.abs(image[..., spin]) <= rho * (1 + 1e-10))  # |a - b| <= a + b
    for pair in ("H_H", "C_O", "N_N"):  # closed shells: 0 to the SCF convergence
        image = images[list(records).index(pair)]
        tolerance = 1e-6 + 10 * records[pair].labels["scf_grad_norm"]
        assert np.abs(image[..., spin]).max() <= tolerance * image[..., 0].max(), pair
    o2_image = images[list(records).index("O_O")]
    o2 = o2_image[..., spin]
    assert o2.max() > 0.1 and o2.min() > -0.1 * o2.max()  # alpha excess; little beta excess
    record = records["O_O"]
    grids = dft.gen_grid.Grids(record_mole(record))
    grids.level = 5
    grids.build(with_non0tab=False)
    values = channels_at(record, grids.coords, canvas.PHYSICAL_SPIN.names)
    excess = record.mo_occ[0].sum() - record.mo_occ[1].sum()
    assert excess == pytest.approx(2) and grids.weights @ values[:, spin] == pytest.approx(
        excess, abs=1e-5)
    png = figures.canvas_figure(o2_image, spin_spec, record, tmp_path / "o2.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="channel set 'physical_spin' has 11"):
        figures.canvas_figure(canvases["O_O"], spin_spec, record, tmp_path / "ten.png")


def test_elf_is_bounded_and_high_in_the_bond(canvases):
    for image in canvases.values():
        assert image[..., 5].min() >= 0 and image[..., 5].max() <= 1
    h2 = canvases["H_H"][..., 5]
    assert h2[15:17, 15:17].mean() > 0.9  # H2: one localised pair between the atoms


@pytest.mark.parametrize("pair", ["H_H", "N_N", "O_O"])
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
    """The MO axis is padded per spin: O2 has 9 alpha and 7 beta occupied MOs, CO 7 and 7."""
    o2 = canvas.field_inputs(records["O_O"])[1]
    assert o2.mo_coeff.shape == (2, 28, 9) and o2.nocc == 9 and canvas.padded_mo_count(9) == 16
    spec = canvas.CanvasSpec(height=12, width=16, supersample=2)
    batch = canvas.render_many(list(records.values()), spec, batch_size=3, progress=False)
    assert batch.shape == (4, 12, 16, 10) and batch.dtype == np.float32
    for record, image in zip(records.values(), batch, strict=True):
        np.testing.assert_allclose(canvas.render(record, spec), image, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("pair", ["Cl_Na", "Cu_Cu", "Ir_Tl", "Th_Th"])
def test_shipped_records_render_the_pyscf_canvas(pair):
    """Real paper75 records (the package's shipped compact records: ECPs, f functions, open
    shells, up to 136 AOs), every 3x3 sample of every pixel: the canvas equals the channels
    from PySCF's AOs and MGGA eval_rho, averaged per pixel, to 1e-6 of each channel's largest
    value in float64 generation, and to 5e-3 in float32 (charge accumulation and depletion are
    differences of nearly equal densities: up to 1e-2 in float32 for the weakly bound Rn_Rn,
    docs/canvas.md)."""
    from quantum_canvas.records import SHIPPED_DIR

    from qc_jax.compact import ShippedRecords

    record = ShippedRecords(SHIPPED_DIR).get(pair)
    levels = orbitals.frontier(record.mo_energy, record.mo_occ)
    sets = [s for s in (levels.homo_set, levels.lumo_set) if s.any()]
    frontier = [(record.mo_coeff[spin, :, i], 1 / (s.sum() * len(sets)))
                for s in sets for spin, i in np.argwhere(s)]
    spec = canvas.CanvasSpec(dtype="float64")
    points = spec.sample_points(record.bond_length)  # [H, W, 3, 3, 3]
    reference = reference_channels(record, points.reshape(-1, 3), list(record.dm), frontier)
    reference = reference.reshape(*points.shape[:2], 9, 10).mean(axis=2)
    scale = np.abs(reference).max(axis=(0, 1))
    for precision, bound in (("float64", 1e-6), ("float32", 5e-3)):
        image = canvas.render(record, dataclasses.replace(spec, precision=precision))
        error = np.abs(image - reference).max(axis=(0, 1)) / np.where(scale > 0, scale, 1)
        assert error.max() < bound, (precision, error)


@pytest.mark.parametrize("pair", ["C_O", "O_O"])
def test_float32_generation_matches_float64(records, canvases, pair):
    """The TPU path; 32x32x9 = 9,216 points also catches jax 0.10.2's float32 miscompilation."""
    single = canvas.render(records[pair], canvas.CanvasSpec(supersample=1, precision="float32"))
    reference = canvases[pair]
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


def test_docs_channel_tables_are_the_code_tables():
    """Every row of every channel set's table is in docs/canvas.md; the physical and stamp
    tables whole, in order."""
    from pathlib import Path

    docs = (Path(__file__).parents[1] / "docs" / "canvas.md").read_text()
    assert canvas.PHYSICAL.table_markdown() in docs
    assert canvas.STAMPS.table_markdown() in docs
    for channel_set in canvas.CHANNEL_SETS.values():
        assert all(row in docs for row in channel_set.table_markdown().splitlines())


def test_channel_sets_name_their_channels():
    spec = canvas.CanvasSpec(channels="physical_spin")
    assert spec.channel_set is canvas.PHYSICAL_SPIN and spec.channel_set.count == 11
    assert canvas.CanvasSpec().channel_set.names[:2] == ("rho_sp", "rho_df")
    assert canvas.PHYSICAL.index("elf") == 5  # the paper's field pair: Laplacian 4, ELF 5
    assert canvas.PHYSICAL_SPIN.index("spin_density") == 10
    assert canvas.STAMPS.index("cation") == 8  # the paper's Q+ channel
    with pytest.raises(KeyError, match="no channel 'spin_density'"):
        canvas.PHYSICAL.index("spin_density")
    with pytest.raises(ValueError, match="names a channel twice"):
        ChannelSet("twice", "", (canvas.CHANNELS[0], canvas.CHANNELS[0]), canvas.PHYSICAL.renderer)
    empty = canvas.render_many([], spec)
    assert empty.shape == (0, 32, 32, 11) and empty.dtype == np.float32


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
