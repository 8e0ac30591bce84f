"""Convergence ladder, failed records and bad input."""

import logging
import math
import re
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qc_jax.chem import DEFAULT, FAST, compute_pair
from qc_jax.chem.basis_sets import MissingBasisError, basis_spec
from qc_jax.chem.lookup import get_record
from qc_jax.chem.molecule import BondLengthError, canonical_positions, diatomic, record_mole
from qc_jax.chem.scf import ScfNotConverged, restricted_guess, run_scf, run_scf_below
from qc_jax.compact import ShippedRecords
from qc_jax.elements import UnknownElementError
from qc_jax.store import Store
from qc_jax.units import BOHR_ANGSTROM, HARTREE_EV


def test_ladder_climbs_when_diis_runs_out_of_cycles():
    mol = diatomic("C", "O", 1.13, FAST.basis_map)
    result = run_scf(mol, replace(FAST, max_cycle=3), FAST.smearing_sigma)
    assert result.rung in ("damped", "newton")
    reference = run_scf(mol, FAST, FAST.smearing_sigma)
    assert reference.rung == "diis" and reference.grad_norm < 1e-4
    assert math.isclose(result.e_free, reference.e_free, abs_tol=1e-7)
    assert result.cycles > 3


def test_ladder_gives_up_with_a_reason():
    mol = diatomic("C", "O", 1.13, FAST.basis_map)
    with pytest.raises(ScfNotConverged, match="not converged"):
        run_scf(mol, replace(FAST, max_cycle=1), FAST.smearing_sigma)


def test_a_start_cut_short_below_the_ceiling_climbs_the_ladder():
    """O2 from a start with 9 alpha and 7 beta electrons: DIIS cut short at 4 cycles ends just
    above the triplet (the free energy of a density that exists cannot lie below the state it
    approaches); with a ceiling above that the start climbs the rest of the ladder to the
    triplet, with one below it the SCF fails as before."""
    mol = diatomic("O", "O", 1.21, FAST.basis_map)
    sigma, guess = FAST.smearing_sigma, restricted_guess(mol)
    start = np.stack([1.125 * guess[0], 0.875 * guess[1]])
    triplet = run_scf(mol, FAST, sigma, start)
    assert triplet.rung == "diis" and math.isclose(triplet.spin_moment, 2.0, abs_tol=1e-3)
    cut_short = replace(FAST, max_cycle=4)
    with pytest.raises(ScfNotConverged) as failed:
        run_scf_below(mol, cut_short, sigma, start, triplet.e_free - 1e-6, rungs=("diis",))
    assert triplet.e_free - 1e-8 < failed.value.e_free < triplet.e_free + 1e-6
    climbed = run_scf_below(mol, cut_short, sigma, start, triplet.e_free + 1e-3, rungs=("diis",))
    assert climbed.rung in ("damped", "newton")
    assert math.isclose(climbed.e_free, triplet.e_free, abs_tol=1e-7)


def test_unconverged_pair_is_a_failed_record_without_labels():
    record = compute_pair("C", "O", replace(FAST, max_cycle=1))
    assert record.status == "failed" and "not converged" in record.reason
    assert record.labels == {} and record.dm.size == 0
    assert math.isnan(record.bond_length)


def test_unknown_element():
    with pytest.raises(UnknownElementError, match="Qq"):
        compute_pair("H", "Qq", FAST)


def test_element_without_basis_in_the_map():
    with pytest.raises(MissingBasisError, match="Lu"):
        compute_pair("H", "Lu", FAST)


def test_default_map_covers_the_paper_set_with_documented_exceptions():
    from qc_jax.elements import ELEMENT_SETS

    specs = {el: basis_spec(el) for el in ELEMENT_SETS["paper75"]}
    assert specs["C"].basis == "def2-svp" and specs["C"].ecp == ""
    assert specs["Xe"].ecp == "def2-svp" and specs["Fe"].ecp == ""
    assert specs["Ra"].basis == specs["Th"].basis == "crenbl" == specs["Th"].ecp
    assert "nelec 28" in specs["Lu"].ecp


def test_lutetium_has_its_small_core_ecp():
    mol = diatomic("H", "Lu", 2.0, "def2-svp")
    assert mol.nelectron == 1 + 71 - 28
    assert mol.atom_charge(1) == 43


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_bad_bond_lengths(bad):
    with pytest.raises(BondLengthError):
        canonical_positions(bad)
    with pytest.raises(BondLengthError):
        diatomic("H", "H", bad, FAST.basis_map)


def test_canonical_positions():
    assert np.allclose(canonical_positions(1.5), [[0, 0, -0.75], [0, 0, 0.75]])


def test_record_rebuilds_a_mole_with_the_explicit_lutetium_ecp():
    from qc_jax.record import PairRecord

    specs = {el: basis_spec(el) for el in ("H", "Lu")}
    record = PairRecord(
        pair="H_Lu",
        symbols=("H", "Lu"),
        status="ok",
        reason="",
        settings={},
        settings_digest="",
        positions=canonical_positions(1.9),
        basis={el: [s.basis, s.ecp] for el, s in specs.items()},
    )
    mol = record_mole(record)
    assert mol.nelectron == 1 + 43 and mol.nao == diatomic("H", "Lu", 1.9, "def2-svp").nao
    assert np.allclose(mol.atom_coords(unit="Angstrom"), record.positions)


def test_a_pair_past_its_time_limit_is_a_failed_record_that_says_so():
    start = time.perf_counter()
    record = compute_pair("C", "O", time_limit_s=0.05)  # default settings: seconds without limit
    assert time.perf_counter() - start < 5
    assert record.status == "failed" and "time limit of 0.05 s exceeded" in record.reason
    assert "--retry-failed" in record.reason and record.labels == {}
    assert compute_pair("H", "H", FAST, time_limit_s=60).status == "ok"  # a generous one passes


def test_time_limit_rejects_nonsense_and_keeps_the_earlier_deadline():
    from qc_jax.chem.scf import TimeLimitExceeded, _CycleCounter, time_limit

    with pytest.raises(ValueError, match="positive"):
        with time_limit(0):
            pass
    counter = _CycleCounter()
    with time_limit(1e-6), time_limit(3600):  # the inner, later deadline does not extend it
        time.sleep(1e-3)
        with pytest.raises(TimeLimitExceeded, match="SCF cycle 1"):
            counter({})
    counter({})  # no limit outside the blocks


def test_an_unguarded_script_computes_pairs_in_worker_processes(tmp_path):
    # The first thing a user writes: no `if __name__ == "__main__":` guard. Spawned workers
    # must not run the script again.
    import subprocess
    import sys

    script = tmp_path / "compute.py"
    script.write_text(
        "from qc_jax.chem import FAST\n"
        "from qc_jax.chem.runner import compute_missing\n"
        "from qc_jax.store import Store\n"
        f"store = Store({str(tmp_path / 'store')!r}, FAST)\n"
        "summary = compute_missing(store, [('H', 'H'), ('H', 'Li')], jobs=2, progress=False)\n"
        "print('RESULT', summary.counts['ok'], summary.counts['error'])\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("RESULT") == 1 and "RESULT 2 0" in result.stdout


@pytest.mark.slow
def test_a_pair_whose_starts_fail_at_the_start_bond_converges_shorter(tmp_path):
    # No GFN2-xTB parameters for Th: the search starts at the covalent-radii sum, 3.76 Angstrom,
    # where no spin start converges on any rung at k_B T 0.003 Ha (before SHORTER_STARTS the
    # pair was recomputed at 0.01 Ha and left out of the datasets).
    record = compute_pair("Ta", "Th", DEFAULT, store=Store(tmp_path, DEFAULT))
    assert record.status == "ok" and not record.raised_smearing
    assert 2.2 < record.bond_length < 2.7  # short, multiply bonded: 0.64 x the covalent sum
    assert record.labels["binding_energy_ev"] < -1


def test_a_stored_pair_at_a_raised_k_b_t_is_annealed_to_the_default_on_retry(tmp_path, caplog):
    # The record the ladder stores when the default k_B T fails: the pair converged at the next
    # rung, 0.01 Ha, at the store's settings otherwise.
    store = Store(tmp_path, FAST)
    hot = compute_pair("O", "O", replace(FAST, smearing_sigma=0.01))
    assert math.isclose(hot.labels["smearing_sigma_ev"], 0.01 * HARTREE_EV)
    store.put(replace(hot, status="flagged", settings=FAST.to_dict(),
                      settings_digest=FAST.digest(),
                      reason="converged only with raised smearing sigma = 0.01 Ha"))
    assert store.get("O", "O").raised_smearing
    with caplog.at_level(logging.INFO, logger="qc_jax.chem.pair"):
        annealed = compute_pair("O", "O", FAST, store=store)
    assert "annealing to 0.003 Ha" in caplog.text
    assert annealed.status == "ok" and not annealed.raised_smearing
    cold = compute_pair("O", "O", FAST, store=Store(tmp_path / "cold", FAST))
    assert cold.status == "ok"
    assert abs(annealed.bond_length - cold.bond_length) < FAST.bond_tol * BOHR_ANGSTROM
    for label in ("mermin_free_energy_ev", "spin_moment", "binding_energy_ev", "i_ev"):
        assert math.isclose(annealed.labels[label], cold.labels[label], abs_tol=1e-3), label
    assert round(annealed.labels["spin_moment"]) == 2
    # A retry that fails (here: out of time at once) keeps the stored record, not a failed one.
    kept = compute_pair("O", "O", FAST, time_limit_s=1e-3, store=store)
    assert kept.raised_smearing and kept.labels == store.get("O", "O").labels


def test_a_given_start_is_where_the_search_starts_and_no_spin_start_is_skipped(tmp_path, caplog):
    # The spin-restricted O2 (moment 0) at 1.4 x its bond length: the search walks in from
    # there, and the spin starts converged beside the given one still give the triplet. Through
    # get_record, as benchmarks/spin_recheck.py --compute-again calls it.
    cold = compute_pair("O", "O", FAST, store=Store(tmp_path, FAST))
    r_bohr = 1.4 * cold.bond_length / BOHR_ANGSTROM
    mol = diatomic("O", "O", r_bohr * BOHR_ANGSTROM, FAST.basis_map)
    singlet = run_scf(mol, FAST, FAST.smearing_sigma, restricted_guess(mol))
    assert abs(singlet.spin_moment) < 1e-6
    with caplog.at_level(logging.DEBUG, logger="qc_jax.chem.bond"):
        record = get_record("O", "O", Store(tmp_path, FAST), recompute=True,
                            start=(r_bohr, singlet.dm)).record
    walked = [float(r) for r in re.findall(r"O-O R=([\d.]+) Bohr", caplog.text)]
    assert max(walked) > 1.25 * cold.bond_length / BOHR_ANGSTROM
    assert abs(record.bond_length - cold.bond_length) < FAST.bond_tol * BOHR_ANGSTROM
    assert round(record.labels["spin_moment"]) == 2
    assert math.isclose(record.labels["mermin_free_energy_ev"],
                        cold.labels["mermin_free_energy_ev"], abs_tol=1e-3)


@pytest.mark.slow
def test_a_pair_left_at_a_raised_k_b_t_is_annealed_to_the_default(tmp_path):
    # Re_Ta's record of 2026-11-30 (shipped compact, the fixture): no start converged at
    # 0.003 or 0.01 Ha, so it was computed at 0.05 Ha, where its bond came out at 2.70 A.
    raised = ShippedRecords(Path(__file__).parent / "fixtures" / "raised_k_b_t").get("Re_Ta")
    assert raised.raised_smearing and raised.bond_length > 2.6
    store = Store(tmp_path, DEFAULT)
    store.put(raised)
    record = compute_pair("Re", "Ta", DEFAULT, store=store)
    assert record.status == "ok" and not record.raised_smearing
    # Multiply bonded like the other group 5-7 dimers (Mo2: 1.94 A in experiment): shorter than
    # the sum of Pyykko's triple-bond radii, 1.22 + 1.10 A.
    assert record.bond_length < 2.32
    assert record.labels["binding_energy_ev"] < -3
