"""Bond optimisation and the harmonic frequency, on real curves (FAST settings)."""

import math

import numpy as np
import pytest

from qc_jax.chem import FAST
from qc_jax.chem.bond import evaluate, force_constant, harmonic_wavenumber, optimise_bond
from qc_jax.chem.units import BOHR_ANGSTROM


@pytest.fixture(scope="module")
def h2_search():
    return optimise_bond("H", "H", FAST, FAST.smearing_sigma)


def test_analytic_slope_is_the_derivative_of_the_free_energy():
    h = 1e-3
    point = evaluate("C", "O", 2.2, FAST, FAST.smearing_sigma)
    plus = evaluate("C", "O", 2.2 + h, FAST, FAST.smearing_sigma, warm=point)
    minus = evaluate("C", "O", 2.2 - h, FAST, FAST.smearing_sigma, warm=point)
    assert abs(point.slope - (plus.e_free - minus.e_free) / (2 * h)) < 5e-5
    assert abs(point.slope) > 1e-2  # a real slope, not a minimum


def test_search_finds_the_minimum_of_the_scanned_curve(h2_search):
    assert h2_search.converged and h2_search.flag == ""
    r_e = h2_search.point.r
    radii = r_e + np.linspace(-0.15, 0.15, 7)
    energies = [evaluate("H", "H", r, FAST, FAST.smearing_sigma).e_free for r in radii]
    assert int(np.argmin(energies)) == 3
    coefficients = np.polyfit(radii - r_e, energies, 4)
    fine = np.linspace(-0.1, 0.1, 20001)
    r_scan = r_e + fine[np.argmin(np.polyval(coefficients, fine))]
    assert abs(r_scan - r_e) * BOHR_ANGSTROM < 2e-3
    # Harmonic wavenumber from the scan's curvature agrees with the gradient-based one.
    k_scan = 2 * coefficients[2]
    k, _ = force_constant("H", "H", h2_search.point, FAST, FAST.smearing_sigma)
    assert math.isclose(k, k_scan, rel_tol=0.03)
    assert math.isclose(
        harmonic_wavenumber(k, "H", "H"), harmonic_wavenumber(k_scan, "H", "H"), rel_tol=0.02
    )


def test_warm_start_saves_cycles():
    later = optimise_bond("C", "O", FAST, FAST.smearing_sigma).history[1:]
    cold = [evaluate("C", "O", p.r, FAST, FAST.smearing_sigma).scf.cycles for p in later]
    assert sum(p.scf.cycles for p in later) < sum(cold)


def test_search_that_runs_out_of_steps_is_flagged():
    from dataclasses import replace

    search = optimise_bond("C", "O", replace(FAST, max_bond_steps=1), FAST.smearing_sigma)
    assert not search.converged and search.flag == "max_steps"


def test_harmonic_wavenumber_units():
    # H2 with k = 0.37 Ha/Bohr^2 (about the experimental curvature) gives about 4400 cm^-1.
    assert 4300 < harmonic_wavenumber(0.37, "H", "H") < 4500
    assert math.isnan(harmonic_wavenumber(-0.1, "H", "H"))


def test_unbound_pair_is_flagged_dissociative():
    # PBE/def2-SVP binds no He-Li minimum inside the search range: the curve descends to the
    # upper bound (the minimal FAST basis would bind it through basis-set superposition error).
    from qc_jax.chem import DEFAULT
    from qc_jax.chem.bond import search_bounds

    search = optimise_bond("He", "Li", DEFAULT, DEFAULT.smearing_sigma)
    assert not search.converged and search.flag == "dissociative"
    assert search.point.r == search_bounds("He", "Li")[2] and search.point.slope < 0
