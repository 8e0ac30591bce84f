"""Bond optimisation and the harmonic frequency, on real curves (FAST settings)."""

import math

import numpy as np
import pytest

from qc_jax.chem import FAST
from qc_jax.chem.bond import (
    BondSteps,
    evaluate,
    force_constant,
    harmonic_wavenumber,
    optimise_bond,
    search_bounds,
    start_geometry,
)
from qc_jax.units import BOHR_ANGSTROM


def search(a, b, settings=FAST, r=None):
    """The bond search from the GFN2-xTB start (or from ``r``, Bohr) with a restricted start."""
    r0, curvature, _ = start_geometry(a, b, settings)
    first = evaluate(a, b, r or r0, settings, settings.smearing_sigma)
    return optimise_bond(a, b, settings, settings.smearing_sigma, first, curvature=curvature)


@pytest.fixture(scope="module")
def h2_search():
    from dataclasses import replace

    return search("H", "H", replace(FAST, bond_tol=1e-3))


def test_analytic_slope_is_the_derivative_of_the_free_energy():
    # At 0.03 Ha CO's levels are fractionally occupied, so E and F have different slopes.
    h, sigma = 1e-3, 0.03
    point = evaluate("C", "O", 2.2, FAST, sigma)
    plus = evaluate("C", "O", 2.2 + h, FAST, sigma, point)
    minus = evaluate("C", "O", 2.2 - h, FAST, sigma, point)
    # Dispersion and the grid response included: the slope is the exact derivative of F.
    assert abs(point.slope - (plus.e_free - minus.e_free) / (2 * h)) < 1e-6
    assert abs(point.slope - (plus.scf.mf.e_tot - minus.scf.mf.e_tot) / (2 * h)) > 1e-3
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


def test_xtb_start_is_near_the_minimum(h2_search):
    r0, curvature, source = start_geometry("C", "O", FAST)
    assert source == "GFN2-xTB" and abs(r0 * BOHR_ANGSTROM - 1.128) < 0.03 and curvature > 0.5
    assert start_geometry("Th", "Th", FAST)[2] == "covalent radii"  # xTB stops at Rn


def test_xtb_runs_on_one_openmp_thread(monkeypatch):
    # Whether tblite's SCF converges depends on its thread count for a few pairs (2026-12-06),
    # so the start of a pair must not depend on the threads of the process computing it.
    from tblite.interface import Calculator
    from threadpoolctl import threadpool_info, threadpool_limits

    def openmp_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "openmp"}

    threads, singlepoint = set(), Calculator.singlepoint

    def counted(self, *args, **kwargs):
        threads.update(openmp_threads())
        return singlepoint(self, *args, **kwargs)

    monkeypatch.setattr(Calculator, "singlepoint", counted)
    with threadpool_limits(limits=2, user_api="openmp"):
        assert openmp_threads() == {2}
        assert start_geometry("C", "O", FAST)[2] == "GFN2-xTB"
    assert threads == {1}


def test_warm_start_saves_cycles():
    later = search("C", "O", r=2.6).history[1:]
    cold = [evaluate("C", "O", p.r, FAST, FAST.smearing_sigma).scf.cycles for p in later]
    assert sum(p.scf.cycles for p in later) < sum(cold)


def test_search_that_runs_out_of_steps_is_flagged():
    from dataclasses import replace

    found = search("C", "O", replace(FAST, max_bond_steps=1), r=2.6)
    assert not found.converged and found.flag == "max_steps"


# Bond length (Bohr), slope (Ha/Bohr), spin moment and free energy (Ha) of real search points
# (2026-11-30). Lu-Th annealed from 0.01 to 0.003 Ha (data/retry_Lu_Th.log): a moment-0 state,
# then a moment-1.1 state 0.65 eV lower, still descending towards longer bonds.
LU_TH = [(5.8871, +3.41e-3, 0.000, -1272.20720109), (5.7532, -1.65e-2, 1.158, -1272.23122787),
         (5.8642, -1.27e-2, 1.102, -1272.23284322)]
# Bi-Th at 0.003 Ha: a fractional moment that changes by 0.7 between 6.33 and 5.73 Bohr, then
# back by 0.7 at 5.13 Bohr, in a state 0.13 eV higher.
BI_TH = [(6.6273, +3.23e-2, 0.745, -250.45574477), (6.3273, +3.03e-2, 0.976, -250.46529598),
         (5.7273, +1.51e-2, 1.712, -250.48053413), (5.1273, -4.70e-2, 1.008, -250.47589022)]


def next_length(points, moments=None):
    """The bond search's next length after ``points`` (their moments replaced by ``moments``)."""
    steps = BondSteps(lower=3.0, upper=15.0, curvature=0.5, tolerance=5e-3)
    moments = moments or [m for _, _, m, _ in points]
    rows = zip(points, moments, strict=True)
    return [steps.next_length(r, slope, m, f) for (r, slope, _, f), m in rows][-1]


def test_the_bracket_of_a_higher_spin_state_is_dropped():
    # Lu-Th: the lower state's curve descends past the first point's positive slope: the
    # search walks on (a full trusted step) instead of bisecting towards 5.8871 Bohr.
    assert next_length(LU_TH) > 5.8642 + 0.25
    # On one curve, the same slopes bracket a minimum, and the search bisects the bracket.
    assert next_length(LU_TH, [0.0, 0.0, 0.0]) == pytest.approx(0.5 * (5.8642 + 5.8871))


def test_a_jump_to_a_higher_state_keeps_the_bracket():
    # Bi-Th: dropping the bracket at the jump back to the higher state sent the search back to
    # 5.73 Bohr, and so on until it ran out of steps; kept, it closes on the crossing.
    assert 5.1273 < next_length(BI_TH) < 5.7273


def test_harmonic_wavenumber_units():
    # H2 with k = 0.37 Ha/Bohr^2 (about the experimental curvature) gives about 4400 cm^-1.
    assert 4300 < harmonic_wavenumber(0.37, "H", "H") < 4500
    assert math.isnan(harmonic_wavenumber(-0.1, "H", "H"))


def test_search_stops_at_the_canvas_bound_and_flags_it():
    # The bound keeps both atoms inside the canvas: with a 0.6 Angstrom limit, H2 still
    # descends there and is flagged dissociative.
    from dataclasses import replace

    settings = replace(FAST, max_bond_angstrom=0.6)
    upper = search_bounds("H", "H", settings)[2]
    assert upper == pytest.approx(0.6 / BOHR_ANGSTROM)
    found = search("H", "H", settings)
    assert not found.converged and found.flag == "dissociative"
    assert found.point.r == pytest.approx(upper) and found.point.slope < 0
    assert search_bounds("Cs", "Cs", FAST)[2] * BOHR_ANGSTROM <= FAST.max_bond_angstrom


def test_the_longest_searched_bond_fits_the_default_canvas():
    # Atoms at -+R/2 along the box width: at the search's upper bound they still lie 0.5
    # Angstrom inside the default canvas, so no record puts an atom outside its image.
    from qc_jax.canvas import CanvasSpec
    from qc_jax.chem import DEFAULT

    width = CanvasSpec().geometry(DEFAULT.max_bond_angstrom)["box_width_angstrom"]
    assert DEFAULT.max_bond_angstrom / 2 + 0.5 <= width / 2


def test_a_soft_minimum_is_found_again_on_the_final_grid(tmp_path):
    # He-Ne in STO-3G: the final grid (level 3) puts the minimum 0.29 Bohr beyond the search
    # grid's (level 0), far outside the force constant's two points; the search continues on the
    # final grid until the record's slope there is flat.
    from dataclasses import replace

    from qc_jax.chem import compute_pair
    from qc_jax.store import Store
    from qc_jax.units import HARTREE_EV

    settings = replace(FAST, search_grid_level=0, grid_level=3, bond_tol=5e-3, freq_step=0.01)
    on_search_grid = search("He", "Ne", replace(settings, grid_level=0))
    record = compute_pair("He", "Ne", settings, store=Store(tmp_path, settings))
    assert record.labels["geom_converged"] == 1, record.reason  # (the ions do not fit STO-3G)
    assert record.bond_length / BOHR_ANGSTROM - on_search_grid.point.r > 0.2  # the case
    slope = record.labels["geom_slope_ev_ang"] * BOHR_ANGSTROM / HARTREE_EV  # Ha/Bohr
    k = force_constant("He", "Ne", on_search_grid.point, settings, settings.smearing_sigma)[0]
    assert abs(slope) < k * settings.freq_step  # within one Newton step of size freq_step


def test_the_force_constant_points_of_one_state_obey_the_trapezoid_rule():
    # The check for points in different states (bond.STENCIL_MISMATCH_HA) must leave one
    # state's points alone: for CO, F(R + h) - F(R - h) = h (slope(R + h) + slope(R - h)) up to
    # the rule's error (2/3) h^3 |d3F/dR3|, 2.9e-5 Ha at FAST's h = 0.02 Bohr (3.6e-6 Ha at the
    # default h = 0.01 Bohr).
    from qc_jax.chem.bond import STENCIL_MISMATCH_HA

    point = evaluate("C", "O", 2.15, FAST, FAST.smearing_sigma)
    _, (plus, minus) = force_constant("C", "O", point, FAST, FAST.smearing_sigma)
    h = FAST.freq_step
    mismatch = abs(plus.e_free - minus.e_free - h * (plus.slope + minus.slope))
    assert mismatch < 0.5 * STENCIL_MISMATCH_HA
    assert abs(plus.e_free - minus.e_free) > 50 * STENCIL_MISMATCH_HA  # a real difference
