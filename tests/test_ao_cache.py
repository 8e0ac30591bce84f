"""The AO cache replays exactly PySCF's AO values: bit-identical XC energies and potentials."""

import numpy as np
import pytest
from pyscf import dft, gto

from qc_jax.chem.ao_cache import caching_numint


def _evaluations_refused(*args, **kwargs):
    raise AssertionError("AO values evaluated again on a cached grid")


@pytest.mark.parametrize("distance", [1.13, 1.25])
def test_cached_xc_equals_pyscf_and_skips_ao_evaluation(distance):
    mol = gto.M(atom=f"C 0 0 0; O 0 0 {distance}", basis="6-31g", spin=0, verbose=0)
    grids = dft.gen_grid.Grids(mol)
    grids.level = 1
    grids.build(with_non0tab=True)
    guess = dft.UKS(mol).get_init_guess()
    dm = np.stack([guess[0] * 1.1, guess[1] * 0.9])  # spin-polarised, so alpha != beta
    reference = dft.numint.NumInt().nr_uks(mol, grids, "pbe", dm)

    first = caching_numint().nr_uks(mol, grids, "pbe", dm)
    replayed = caching_numint()  # another instance (another SCF run) shares the cache
    replayed.eval_ao = _evaluations_refused
    second = replayed.nr_uks(mol, grids, "pbe", dm)

    for result in (first, second):
        for value, expected in zip(result, reference, strict=True):
            np.testing.assert_array_equal(value, expected)


def test_another_geometry_is_evaluated_again():
    def grid_of(distance):
        mol = gto.M(atom=f"H 0 0 0; H 0 0 {distance}", basis="sto-3g", verbose=0)
        grids = dft.gen_grid.Grids(mol)
        grids.build(with_non0tab=True)
        return mol, grids

    dm = np.stack([np.eye(2) * 0.5] * 2)
    caching_numint().nr_uks(*grid_of(0.74), "pbe", dm)
    moved = caching_numint()
    moved.eval_ao = _evaluations_refused
    with pytest.raises(AssertionError, match="evaluated again"):
        moved.nr_uks(*grid_of(0.80), "pbe", dm)
