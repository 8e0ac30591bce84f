"""Parity of the JAX kernels with PySCF, density invariants, gradients, batching, bad input."""

import dataclasses
import functools
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from pyscf import dft, gto, scf
from pyscf.dft import numint

from qc_jax import basis as basis_lib
from qc_jax import kernels

# Bond lengths in Angstrom (experimental, rounded); Fe2 and Au2 run with def2 ECP on Au.
DIATOMICS = {"H2": 0.74, "LiH": 1.60, "CO": 1.13, "N2": 1.10, "Fe2": 2.02, "Au2": 2.47}


@pytest.fixture(autouse=True)
def _float64():
    with jax.enable_x64(True):
        yield


@functools.cache
def diatomic(name: str, basis: str = "def2-svp", cart: bool = False, tilted: bool = True):
    """A PySCF molecule; ``tilted`` puts the bond off the z axis, else canonical (along z)."""
    a, b = {"H2": "HH", "LiH": ("Li", "H"), "CO": "CO", "N2": "NN", "Fe2": ("Fe", "Fe"),
            "Au2": ("Au", "Au")}[name]
    axis = np.array([0.3, -0.2, 0.93]) if tilted else np.array([0.0, 0.0, 1.0])
    axis = axis / np.linalg.norm(axis) * DIATOMICS[name] / 2
    atom = [(a, -axis + (0.05 if tilted else 0)), (b, axis + (0.05 if tilted else 0))]
    ecp = basis if name == "Au2" else None  # PySCF adds an ECP only when asked
    mol = gto.M(atom=atom, basis=basis, ecp=ecp, cart=cart, verbose=0)
    assert bool(mol.has_ecp()) == (name == "Au2")
    return mol


def sample_points(mol: gto.Mole, n: int = 300, seed: int = 0) -> np.ndarray:
    """Points (Bohr) around the molecule, including both nuclei."""
    rng = np.random.default_rng(seed)
    centre = mol.atom_coords().mean(axis=0)
    return np.vstack([mol.atom_coords(), centre + 2.0 * rng.standard_normal((n - 2, 3))])


@functools.cache
def guess_density_matrix(mol: gto.Mole) -> np.ndarray:
    """The promolecule: block-diagonal sum of free-atom density matrices, tr(PS) = N."""
    return scf.RHF(mol).get_init_guess(key="atom")


@functools.cache
def scf_density_matrix(mol: gto.Mole) -> np.ndarray:
    """Converged PBE density matrix."""
    mf = dft.RKS(mol, xc="pbe").run()
    assert mf.converged
    return mf.make_rdm1()


def max_relative_error(ours, reference) -> float:
    return float(np.abs(np.asarray(ours) - reference).max() / np.abs(reference).max())


@pytest.mark.parametrize("name", DIATOMICS)
@pytest.mark.parametrize("basis_name", ["def2-svp", "def2-tzvp"])
@pytest.mark.parametrize("cart", [False, True], ids=["spherical", "cartesian"])
def test_ao_values_and_derivatives_match_pyscf(name, basis_name, cart):
    mol = diatomic(name, basis_name, cart)
    points = sample_points(mol)
    ours = kernels.eval_ao(basis_lib.from_pyscf(mol), points, deriv=2)
    reference = numint.eval_ao(mol, points, deriv=2)
    assert ours.shape == reference.shape == (10, len(points), mol.nao)
    for component in range(10):
        assert max_relative_error(ours[component], reference[component]) < 1e-10, component
    np.testing.assert_allclose(kernels.eval_ao(basis_lib.from_pyscf(mol), points),
                               reference[0], rtol=0, atol=1e-10 * np.abs(reference[0]).max())


@pytest.mark.parametrize("cart", [False, True], ids=["spherical", "cartesian"])
def test_g_functions_match_pyscf(cart):
    mol = diatomic("N2", "cc-pvqz", cart)
    assert max(mol.bas_angular(i) for i in range(mol.nbas)) == 4
    points = sample_points(mol, 100)
    ours = kernels.eval_ao(basis_lib.from_pyscf(mol), points, deriv=1)
    reference = numint.eval_ao(mol, points, deriv=1)
    assert max_relative_error(ours, reference) < 1e-10


@pytest.mark.parametrize("name, basis_name", [("CO", "def2-svp"), ("Au2", "def2-tzvp"),
                                              ("N2", "cc-pvqz")])
@pytest.mark.parametrize("cart", [False, True], ids=["spherical", "cartesian"])
def test_ao_jet_matches_pyscf(name, basis_name, cart):
    """The hand-differentiated jet (values, gradient, Laplacian; up to g functions) against
    PySCF's AOs and the trace of its AO Hessian."""
    mol = diatomic(name, basis_name, cart)
    points = sample_points(mol, 100)
    tables = kernels.ao_tables(basis_lib.from_pyscf(mol))
    phi, gradient, laplacian = kernels.ao_jet(tables, jnp.asarray(points), deriv=2)
    reference = numint.eval_ao(mol, points, deriv=2)
    assert max_relative_error(phi, reference[0]) < 1e-10
    assert max_relative_error(gradient, reference[1:4]) < 1e-10
    assert max_relative_error(laplacian, reference[4] + reference[7] + reference[9]) < 1e-10


@pytest.mark.parametrize("cart", [False, True], ids=["spherical", "cartesian"])
def test_tables_joined_from_atoms_give_the_molecules_aos(cart):
    """H (l <= 1) next to Cu (l <= 3): tables of the two atoms, joined and moved to the
    molecule's positions, give PySCF's AOs, gradients and Laplacians of the molecule."""
    mol = gto.M(atom="H 0.1 -0.2 -0.7; Cu 0 0.1 0.8", basis="def2-svp", cart=cart, verbose=0)
    atoms = [gto.M(atom=[(symbol, (0, 0, 0))], basis="def2-svp", cart=cart, spin=None, verbose=0)
             for symbol in ("H", "Cu")]
    joined = kernels.join_tables([kernels.ao_tables(basis_lib.from_pyscf(a), xp=np)
                                  for a in atoms])._replace(coords=mol.atom_coords())
    points = sample_points(mol, 100)
    phi, gradient, laplacian = kernels.ao_jet(jax.tree.map(jnp.asarray, joined),
                                              jnp.asarray(points), deriv=2)
    reference = numint.eval_ao(mol, points, deriv=2)
    assert max_relative_error(phi, reference[0]) < 1e-10
    assert max_relative_error(gradient, reference[1:4]) < 1e-10
    assert max_relative_error(laplacian, reference[4] + reference[7] + reference[9]) < 1e-10


@pytest.mark.parametrize("name", ["CO", "Fe2", "Au2"])
def test_density_gradient_laplacian_and_tau_match_pyscf(name):
    mol = diatomic(name)
    points = sample_points(mol)
    mf = scf.RHF(mol)
    dm = guess_density_matrix(mol)
    # MOs of the guess Fock matrix: any orthonormal orbitals with occupations will do.
    energies, mo_coeff = mf.eig(mf.get_fock(dm=dm), mf.get_ovlp())
    mo_occ = mf.get_occ(energies, mo_coeff)
    ao = numint.eval_ao(mol, points, deriv=2)
    reference = numint.eval_rho(mol, ao, dm, xctype="MGGA", with_lapl=True)  # rho, grad, lapl, tau
    b = basis_lib.from_pyscf(mol)
    ours = kernels.density(b, dm, points, deriv=2)
    assert ours.shape == (6, len(points))  # PySCF's MGGA rows
    for row in range(6):
        assert max_relative_error(ours[row], reference[row]) < 1e-10, row
    reference_tau = numint.eval_rho2(mol, ao[:4], mo_coeff, mo_occ, xctype="MGGA")[5]
    tau = kernels.kinetic_energy_density(b, mo_coeff, mo_occ, points)
    assert max_relative_error(tau, reference_tau) < 1e-10


def test_mo_densities_per_spin_match_pyscf():
    """rho, grad rho and tau from MOs with a leading spin axis (the canvas's spin densities)
    against PySCF's MGGA eval_rho of each spin's P_s = C_s n_s C_s^T; any coefficients and
    fractional occupations will do."""
    mol = diatomic("CO")
    points = sample_points(mol)
    rng = np.random.default_rng(1)
    mo_coeff = rng.standard_normal((2, mol.nao, 9)) / mol.nao
    mo_occ = np.stack([np.ones(9), np.r_[np.ones(6), 0.5, 0.0, 0.0]])
    jet = kernels.ao_jet(kernels.ao_tables(basis_lib.from_pyscf(mol)), jnp.asarray(points), 1)
    rho, grad, tau = kernels.mo_densities_from_jet(jet, mo_coeff, mo_occ)
    assert rho.shape == tau.shape == (2, len(points)) and grad.shape == (2, 3, len(points))
    ao = numint.eval_ao(mol, points, deriv=1)
    for spin in range(2):
        dm = (mo_coeff[spin] * mo_occ[spin]) @ mo_coeff[spin].T
        reference = numint.eval_rho(mol, ao, dm, xctype="MGGA", with_lapl=False)  # rho, grad, tau
        assert max_relative_error(rho[spin], reference[0]) < 1e-10
        assert max_relative_error(grad[spin], reference[1:4]) < 1e-10
        assert max_relative_error(tau[spin], reference[4]) < 1e-10


def test_density_of_converged_scf_matches_pyscf():
    mol = diatomic("CO")
    dm = scf_density_matrix(mol)
    points = sample_points(mol)
    reference = numint.eval_rho(mol, numint.eval_ao(mol, points), dm)
    ours = kernels.density(basis_lib.from_pyscf(mol), dm, points)
    assert max_relative_error(ours, reference) < 1e-10


@pytest.mark.parametrize("name", DIATOMICS)
def test_density_integrates_to_electron_count(name):
    mol = diatomic(name)
    grids = dft.gen_grid.Grids(mol)
    grids.level = 7
    grids.build(with_non0tab=False)
    rho = kernels.density(basis_lib.from_pyscf(mol), guess_density_matrix(mol), grids.coords)
    # With an ECP (Au) mol.nelectron counts valence electrons only.
    assert float(jnp.dot(rho, grids.weights)) == pytest.approx(mol.nelectron, abs=1e-6)


@pytest.mark.parametrize("name", ["CO", "Fe2"])
def test_partitions_sum_to_total_density(name):
    mol = diatomic(name, tilted=False)
    b = basis_lib.from_pyscf(mol)
    # The free-atom guess of CO has no d population; its SCF density has.
    dm = scf_density_matrix(mol) if name == "CO" else guess_density_matrix(mol)
    points = sample_points(mol)
    rho = kernels.density(b, dm, points)
    by_l = sum(kernels.density(b, dm, points, ao_mask=b.ao_l == l) for l in set(b.ao_l))
    by_m = sum(kernels.density(b, dm, points, ao_mask=np.abs(b.ao_m) == m)
               for m in set(np.abs(b.ao_m)))
    on_a, on_b = b.ao_atom == 0, b.ao_atom == 1
    bond = np.outer(on_a, on_b) + np.outer(on_b, on_a)
    by_block = sum(kernels.density(b, dm, points, ao_mask=mask)
                   for mask in (np.outer(on_a, on_a), np.outer(on_b, on_b), bond))
    for partition_sum in (by_l, by_m, by_block):
        assert max_relative_error(partition_sum, np.asarray(rho)) < 1e-12
    # One AO pass for a stack of masked density matrices gives the same numbers.
    stacked = kernels.density(b, np.stack([dm * (b.ao_l <= 1)[:, None], dm]), points)
    np.testing.assert_allclose(stacked[1], rho, rtol=1e-13)
    assert not np.allclose(stacked[0], rho)


def test_magnetic_numbers_follow_pyscf_labels_and_vanish_on_the_bond_axis():
    mol = diatomic("N2", "cc-pvqz", tilted=False)
    b = basis_lib.from_pyscf(mol)
    expected = {"s": 0, "px": 1, "py": -1, "pz": 0, "dxy": -2, "dyz": -1, "dz^2": 0,
                "dxz": 1, "dx2-y2": 2}
    for label, m in zip(mol.ao_labels(), b.ao_m, strict=True):
        orbital = label.split()[2].lstrip("0123456789")
        if orbital in expected:
            assert m == expected[orbital], label
    # AOs with m != 0 about the bond axis (z) vanish on it, for every l up to g.
    axis_points = np.column_stack([np.zeros(50), np.zeros(50), np.linspace(-4, 4, 50)])
    ao = np.asarray(kernels.eval_ao(b, axis_points))
    assert np.abs(ao[:, b.ao_m != 0]).max() < 1e-14
    assert np.abs(ao[:, b.ao_m == 0]).max() > 0.1
    assert {int(l) for l in b.ao_l} == {0, 1, 2, 3, 4}


def test_gradients_wrt_positions_exponents_and_density_matrix_match_finite_differences():
    mol = diatomic("CO", tilted=True)
    b = basis_lib.from_pyscf(mol)
    dm = guess_density_matrix(mol)
    points = sample_points(mol, 62)[2:]  # away from the nuclei, where rho**2 is huge

    def functional(coords, exponents, dm):
        moved = dataclasses.replace(b, coords=coords, exponents=exponents)
        rho = kernels.density(moved, dm, points)
        return jnp.sum(rho**2 * jnp.linspace(0.5, 1.5, len(points)))

    params = (jnp.asarray(b.coords), tuple(map(jnp.asarray, b.exponents)), jnp.asarray(dm))
    flat, unravel = ravel_pytree(params)
    gradient = ravel_pytree(jax.grad(lambda p: functional(*p))(params))[0]
    n_coords, n_exponents = b.coords.size, sum(e.size for e in b.exponents)
    sections = np.split(np.arange(flat.size), [n_coords, n_coords + n_exponents])
    # In each of coordinates, exponents and density matrix: the two largest derivatives.
    picks = [i for section in sections for i in section[np.argsort(-np.abs(gradient[section]))[:2]]]
    h = 1e-5
    for i in picks:
        step = jnp.zeros_like(flat).at[i].set(h)
        plus, minus = functional(*unravel(flat + step)), functional(*unravel(flat - step))
        difference = (plus - minus) / (2 * h)
        assert float(gradient[i]) == pytest.approx(float(difference), rel=1e-6), i


def test_exponent_changes_keep_functions_normalised():
    mol = diatomic("H2")
    b = basis_lib.from_pyscf(mol)
    scaled = dataclasses.replace(b, exponents=tuple(1.3 * np.asarray(e) for e in b.exponents))
    grids = dft.gen_grid.Grids(mol)
    grids.level = 6
    grids.build(with_non0tab=False)
    ao = np.asarray(kernels.eval_ao(scaled, grids.coords))
    norms = np.einsum("pi,p->i", ao**2, grids.weights)
    np.testing.assert_allclose(norms, 1.0, atol=1e-6)


def test_batch_of_different_molecules_equals_one_at_a_time():
    mols = [diatomic(n) for n in ("H2", "LiH", "CO", "Au2")]
    bases = [basis_lib.from_pyscf(m) for m in mols]
    dms = [guess_density_matrix(m) for m in mols]
    assert len({b.nao for b in bases}) == 4
    points = sample_points(mols[2], 500)
    batched = kernels.density_many(bases, dms, points, deriv=2)
    assert batched.shape == (4, 6, 500)
    for b, dm, row in zip(bases, dms, batched, strict=True):
        np.testing.assert_allclose(row, kernels.density(b, dm, points, deriv=2),
                                   rtol=1e-12, atol=1e-14)
    per_molecule_points = np.stack([sample_points(m, 50) for m in mols])
    batched = kernels.density_many(bases, dms, per_molecule_points)
    for b, dm, pts, row in zip(bases, dms, per_molecule_points, batched, strict=True):
        np.testing.assert_allclose(row, kernels.density(b, dm, pts), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["CO", "Au2"])
def test_density_on_a_grid_equals_density_at_its_points(name):
    """The per-axis Gaussians of a Grid (a tilted molecule, so no axis is special): a plane
    and a box, rho with gradient, Laplacian and tau, one molecule and a batch."""
    mol = diatomic(name)
    b, dm = basis_lib.from_pyscf(mol), guess_density_matrix(mol)
    axis = np.linspace(-4.0, 4.5, 13)
    for grid in (kernels.Grid(axis, np.array([0.3]), axis[:11]),
                 kernels.Grid(axis[:5], axis[3:9], axis[:7])):
        points = np.asarray(grid.points())
        on_grid = kernels.density(b, dm, grid, deriv=2, chunk_size=64)
        assert on_grid.shape == (6, len(points))
        reference = numint.eval_rho(mol, numint.eval_ao(mol, points, deriv=2), dm,
                                    xctype="MGGA", with_lapl=True)
        for row in range(6):
            assert max_relative_error(on_grid[row], reference[row]) < 1e-10, row
    other = diatomic("LiH")
    batched = kernels.density_many([b, basis_lib.from_pyscf(other)],
                                   [dm, guess_density_matrix(other)], grid)
    np.testing.assert_allclose(batched[0], on_grid[0], rtol=1e-12, atol=1e-14)


def test_chunked_evaluation_equals_one_pass():
    mol = diatomic("CO")
    b = basis_lib.from_pyscf(mol)
    points = sample_points(mol, 1000)
    one_pass = kernels.density(b, guess_density_matrix(mol), points, deriv=1)
    chunked = kernels.density(b, guess_density_matrix(mol), points, deriv=1, chunk_size=128)
    np.testing.assert_allclose(chunked, one_pass, rtol=1e-13, atol=1e-15)


def test_float32_matches_float64():
    """Catches float32 miscompilation such as jax 0.10.2's (needs >= 1024 points)."""
    mol = diatomic("CO")
    b = basis_lib.from_pyscf(mol)
    dm = guess_density_matrix(mol)
    points = sample_points(mol, 4096)
    rho64 = np.asarray(kernels.density(b, dm, points, deriv=2))
    rho32 = kernels.density(b.astype(np.float32), dm.astype(np.float32),
                            points.astype(np.float32), deriv=2)
    assert rho32.dtype == np.float32
    # Error relative to the largest value of each component (the nuclear cusps).
    error = np.abs(np.asarray(rho32, np.float64) - rho64).max(axis=1) / np.abs(rho64).max(axis=1)
    assert error.max() < 1e-5, error


def test_float32_without_x64_in_a_fresh_process():
    script = textwrap.dedent("""
        import numpy as np
        from pyscf import gto, scf
        from pyscf.dft import numint
        from qc_jax import basis, kernels
        mol = gto.M(atom="C 0 0 -0.56; O 0 0 0.56", basis="def2-svp", verbose=0)
        dm = scf.RHF(mol).get_init_guess()
        points = np.random.default_rng(0).normal(size=(2048, 3)) * 2
        rho = kernels.density(basis.from_pyscf(mol), dm, points)
        reference = numint.eval_rho(mol, numint.eval_ao(mol, points), dm)
        assert rho.dtype == np.float32, rho.dtype
        print(float(np.abs(rho - reference).max() / reference.max()))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.split()[-1]) < 1e-5


def test_basis_above_maximum_angular_momentum_is_rejected():
    mol = gto.M(atom="H 0 0 0", basis={"H": [[basis_lib.MAX_L + 1, [1.0, 1.0]]]}, spin=1)
    with pytest.raises(ValueError, match=r"angular momentum l=6.*l <= 5"):
        basis_lib.from_pyscf(mol)


def test_bad_points_and_matrices_are_rejected():
    mol = diatomic("H2")
    b = basis_lib.from_pyscf(mol)
    dm = guess_density_matrix(mol)
    points = sample_points(mol, 10)
    with pytest.raises(ValueError, match="NaN or inf"):
        kernels.density(b, dm, np.where(np.arange(10)[:, None] == 3, np.nan, points))
    with pytest.raises(ValueError, match=r"points must be \[N, 3\]"):
        kernels.eval_ao(b, points[:, :2])
    with pytest.raises(ValueError, match=r"density matrix must be \[\.\.\., 10, 10\]"):
        kernels.density(b, dm[:-1, :-1], points)
    with pytest.raises(ValueError, match="ao_mask must be"):
        kernels.density(b, dm, points, ao_mask=np.ones(3, bool))
    with pytest.raises(ValueError, match="deriv must be 0, 1 or 2"):
        kernels.eval_ao(b, points, deriv=3)
    with pytest.raises(ValueError, match=r"mo_coeff must be \[nao=10"):
        kernels.kinetic_energy_density(b, np.eye(9), np.ones(9), points)
    with pytest.raises(ValueError, match="2 bases but 1 density"):
        kernels.density_many([b, b], [dm], points)
    with pytest.raises(ValueError, match="Cartesian and spherical"):
        basis_lib.stack([b, basis_lib.from_pyscf(diatomic("H2", cart=True))])
