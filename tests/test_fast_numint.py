"""The fast NumInt: AO values replayed exactly (bit-identical XC energies and potentials), and
densities from whichever of PySCF's two evaluations is cheaper, equal to rounding."""

import numpy as np
import pytest
from pyscf import dft, gto

from qc_jax.chem.fast_numint import fast_numint


def _evaluations_refused(*args, **kwargs):
    raise AssertionError("AO values evaluated again on a cached grid")


def _grids(mol, level=1):
    grids = dft.gen_grid.Grids(mol)
    grids.level = level
    grids.build(with_non0tab=True)
    return grids


@pytest.mark.parametrize("distance", [1.13, 1.25])
def test_cached_xc_equals_pyscf_and_skips_ao_evaluation(distance):
    mol = gto.M(atom=f"C 0 0 0; O 0 0 {distance}", basis="6-31g", spin=0, verbose=0)
    grids = _grids(mol)
    guess = dft.UKS(mol).get_init_guess()
    dm = np.stack([guess[0] * 1.1, guess[1] * 0.9])  # spin-polarised, so alpha != beta
    reference = dft.numint.NumInt().nr_uks(mol, grids, "pbe", dm)

    first = fast_numint().nr_uks(mol, grids, "pbe", dm)
    replayed = fast_numint()  # another instance (another SCF run) shares the cache
    replayed.eval_ao = _evaluations_refused
    second = replayed.nr_uks(mol, grids, "pbe", dm)

    for result in (first, second):
        for value, expected in zip(result, reference, strict=True):
            np.testing.assert_array_equal(value, expected)


def test_another_geometry_is_evaluated_again():
    def grid_of(distance):
        mol = gto.M(atom=f"H 0 0 0; H 0 0 {distance}", basis="sto-3g", verbose=0)
        return mol, _grids(mol, level=3)

    dm = np.stack([np.eye(2) * 0.5] * 2)
    fast_numint().nr_uks(*grid_of(0.74), "pbe", dm)
    moved = fast_numint()
    moved.eval_ao = _evaluations_refused
    with pytest.raises(AssertionError, match="evaluated again"):
        moved.nr_uks(*grid_of(0.80), "pbe", dm)


def _smeared_dm(mol):
    """Spin densities of a converged Fermi-smeared UKS, tagged with their orbitals and
    occupations (as PySCF passes them to the XC code in every SCF cycle)."""
    mf = dft.UKS(mol, xc="pbe").smearing(sigma=0.01, method="fermi")
    mf.grids.level, mf.verbose = 1, 0
    mf.kernel()
    assert mf.converged
    dm = mf.make_rdm1()
    assert dm.mo_occ is not None
    return dm


def _refused(name):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{name} used")
    return refuse


@pytest.mark.parametrize(
    ("atoms", "basis", "slower"),
    [
        # CO: 7 electrons per spin in 18 AOs; 4 x 7 > 18, the density matrix is cheaper
        ("C 0 0 0; O 0 0 1.13", "6-31g", "eval_rho2"),
        # H2: one electron per spin in 28 AOs; the orbitals are cheaper
        ("H 0 0 0; H 0 0 0.74", "cc-pvtz", "eval_rho"),
    ],
)
def test_density_takes_the_cheaper_path_with_pyscf_results(atoms, basis, slower, monkeypatch):
    mol = gto.M(atom=atoms, basis=basis, verbose=0)
    grids, dm = _grids(mol), _smeared_dm(mol)
    reference = dft.numint.NumInt().nr_uks(mol, grids, "pbe", dm)

    fast = fast_numint()
    monkeypatch.setattr(type(fast), slower, _refused(slower))
    n, exc, vxc = fast.nr_uks(mol, grids, "pbe", dm)

    np.testing.assert_allclose(n, reference[0], rtol=1e-13)
    assert exc == pytest.approx(reference[1], rel=1e-13)
    np.testing.assert_allclose(vxc, reference[2], rtol=0, atol=1e-12)


def test_meta_gga_densities_stay_on_the_orbitals(monkeypatch):
    mol = gto.M(atom="C 0 0 0; O 0 0 1.13", basis="6-31g", verbose=0)
    grids, dm = _grids(mol), _smeared_dm(mol)
    reference = dft.numint.NumInt().nr_uks(mol, grids, "tpss", dm)
    fast = fast_numint()
    monkeypatch.setattr(type(fast), "eval_rho", _refused("eval_rho"))
    np.testing.assert_allclose(fast.nr_uks(mol, grids, "tpss", dm)[2], reference[2],
                               rtol=0, atol=1e-12)
