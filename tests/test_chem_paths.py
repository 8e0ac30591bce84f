"""Every code path of the default level of theory, at cheap numerical settings (default suite).

The slow validation (tests/test_chem_validation.py) checks the numbers at the default settings;
here the same def2-SVP basis, ECPs, D3(BJ) dispersion and spin-state search run on a coarse grid
and loose tolerances, on an ECP pair (AuH), an open-shell transition-metal oxide (ScO, a doublet
from a doublet and a triplet atom: the restricted and ferromagnetic starts) and the O2 triplet (a
homonuclear open-shell dimer: the antiferromagnetic start too); and, at the default settings (where
the case arises), He-O, whose minimum lies far from its start geometry, and B-N, whose
broken-symmetry minimum lies near it; and CaF, an odd electron count that the atoms' starts leave
half filled in both spins; and Cr-Zr, without a GFN2-xTB start, whose high-spin minimum near the
covalent radii is not its lowest, and Cr-Mo, whose high-spin minimum lies above a low-spin state at
a shorter bond, and Mn-W, whose lower state at its minimum the Newton rung reaches, and Cd-V, whose
lower state there the search grid loses (at the default settings); and Kr-O and Ar-O, whose first
minima lie above their free atoms in free energy and in E0 (slow: Ir-Xe, where the second test
finds the ground state, and S-Xe, where the search from the van der Waals distance is repeated
nearer); and He2, with no positive curvature on the final grid (flagged); and H2, whose binding
energy follows its store's free atoms.
"""

import contextlib
import logging
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from quantum_canvas.records import SHIPPED_DIR

from qc_jax.chem import DEFAULT, compute_pair
from qc_jax.chem.atoms import atom_reference
from qc_jax.chem.bond import evaluate, start_geometry
from qc_jax.chem.experiment import EXPERIMENT
from qc_jax.chem.molecule import diatomic, record_mole
from qc_jax.chem.pair import (
    FLAG_REASONS,
    SHORT_PROBE_FRACTION,
    Minimum,
    _followed,
    _probed_shorter,
    _starts_at_minimum,
    refer_to_atoms,
)
from qc_jax.chem.scf import CHEAP_RUNGS, ScfNotConverged, run_scf, run_scf_below
from qc_jax.chem.spin import SAME_STATE_HA, molecule_starts
from qc_jax.compact import ShippedRecords, seed_atoms
from qc_jax.store import Store
from qc_jax.units import BOHR_ANGSTROM, HARTREE_EV

CD_V_STATE = Path(__file__).parent / "fixtures" / "cd_v_lost_state.npz"
"""Cd-V at its 2.48.0 minimum (``distance_ang``): the density ([2, nao, nao], float32) of the
2S = 5 state that the restricted start reaches there on the Newton rung, 26 meV below the
record's."""

CHEAP = replace(DEFAULT, grid_level=1, search_grid_level=1, conv_tol=1e-7, bond_tol=1e-2,
                freq_step=0.02, atom_sigma_path=(0.02,))


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("store"), CHEAP)
    return {name: compute_pair(*name.split("_"), CHEAP, store=store)
            for name in ("H_Au", "O_Sc", "O_O")}


@pytest.mark.parametrize("name", ["H_Au", "O_Sc", "O_O"])
def test_spin_and_bond_length_agree_with_experiment(records, name):
    record = records[name]
    experiment = next(m for m in EXPERIMENT if f"{m.a}_{m.b}" == name)
    assert record.status == "ok", record.reason
    assert round(record.labels["spin_moment"]) + 1 == experiment.multiplicity
    assert abs(record.labels["distance_ang"] - experiment.r_e_ang) < 0.06
    assert record.labels["binding_energy_ev"] < -2 and record.labels["i_ev"] > 5


def test_the_ecp_leaves_gold_its_valence_electrons(records):
    record = records["H_Au"]
    assert record.basis["Au"][1] != "" and record_mole(record).nelectron == 1 + 19
    assert record.labels["n_electrons"] == 20


def test_spin_starts_are_tried_again_at_a_minimum_far_from_the_start_geometry(tmp_path):
    # GFN2-xTB binds He-O at 0.81 Angstrom, where the ferromagnetic start falls into the closed
    # shell; the search follows that state out to the van der Waals distance, where O's triplet
    # lies 1.4 eV lower. Without the second try there, the record was the singlet (binding
    # energy +1.72 eV against +0.26 eV; 2026-11-30).
    record = compute_pair("He", "O", DEFAULT, store=Store(tmp_path, DEFAULT))
    start = start_geometry("He", "O", DEFAULT)[0] * BOHR_ANGSTROM
    assert record.bond_length > 1.5 * start  # the case under test: far from the start
    assert abs(record.labels["spin_moment"] - 2) < 1e-3  # the triplet of the O atom
    assert record.labels["binding_energy_ev"] < 0.5


def test_starts_of_another_moment_are_tried_again_at_a_minimum_near_the_start_geometry(tmp_path):
    # B-N (X 3Pi): at GFN2-xTB's 1.21 Angstrom the ferromagnetic start falls into a
    # broken-symmetry state of moment 0, which the search follows to 1.33 Angstrom, 9 % away;
    # there that start gives the triplet, 0.14 eV lower. While only minima 15 % or more from the
    # start geometry had those starts tried again, the record was that state (moment 0, <S^2>
    # 0.91; 2026-12-02).
    record = compute_pair("B", "N", DEFAULT, store=Store(tmp_path, DEFAULT))
    start = start_geometry("B", "N", DEFAULT)[0] * BOHR_ANGSTROM
    assert record.status == "ok", record.reason
    assert record.bond_length < 1.15 * start  # the case under test: near the start geometry
    assert abs(record.labels["spin_moment"] - 2) < 0.05
    assert abs(record.labels["s_squared"] - 2) < 0.05


def test_a_pair_without_a_gfn2_start_is_searched_again_from_a_shorter_bond(tmp_path, caplog):
    # Cr-Zr: GFN2-xTB's SCF does not converge, so the search starts at the sum of the covalent
    # radii, 3.14 Angstrom, where the ferromagnetic start (2S = 8) is lowest; the search followed
    # it to 2.89 Angstrom, E_bind -1.3 eV (shipped so until 2.43.0). From 0.7 of the sum the
    # low-spin state at 1.98 Angstrom, 2S = 2, E_bind -2.7 eV, is found (2026-12-06).
    caplog.set_level(logging.INFO, logger="qc_jax.chem.pair")
    assert start_geometry("Cr", "Zr", CHEAP)[2] == "covalent radii"  # the case under test
    record = compute_pair("Cr", "Zr", CHEAP, store=Store(tmp_path, CHEAP))
    assert "was searched from the covalent radii; searching again" in caplog.text
    assert record.status == "ok", record.reason
    assert record.bond_length < 2.1 and abs(record.labels["spin_moment"] - 2) < 0.05
    assert record.labels["binding_energy_ev"] < -2.5


def test_a_high_spin_minimum_beyond_the_short_search_is_probed_nearer(tmp_path, caplog):
    # Cr-Mo (2026-12-06): from the covalent sum and from 0.7 of it the search ends in the
    # high-spin state at 2.85 Angstrom, 2S = 10, E_bind -0.63 eV (Cr2 1.68, Mo2 1.96 Angstrom
    # shipped). At 0.6 of the sum a singlet lies 1.9 eV below it; the search from there reaches
    # 1.77 Angstrom once its first step, where no rung converges, is halved. At the default
    # settings (the free atoms taken from the shipped records), with the high-spin state at 2.85
    # Angstrom standing in for that minimum.
    caplog.set_level(logging.INFO, logger="qc_jax.chem")
    sigma, store = DEFAULT.smearing_sigma, Store(tmp_path, DEFAULT)
    seed_atoms(store, ShippedRecords(SHIPPED_DIR), {"Cr", "Mo"})
    atoms = tuple(atom_reference(element, DEFAULT, sigma, store) for element in ("Cr", "Mo"))
    r_high = 2.849 / BOHR_ANGSTROM
    high = evaluate("Cr", "Mo", r_high, DEFAULT, sigma, molecule_starts(
        diatomic("Cr", "Mo", 2.849, DEFAULT.basis_map), atoms)["ferromagnetic"])
    assert abs(high.scf.spin_moment) > 9  # the case under test
    r_covalent, curvature, source = start_geometry("Cr", "Mo", DEFAULT)
    assert source == "covalent radii"
    minimum = _probed_shorter("Cr", "Mo", DEFAULT, sigma, atoms, Minimum(high, math.nan, 0),
                              (SHORT_PROBE_FRACTION * r_covalent, curvature))
    assert "lies above a state at" in caplog.text and "halving the step" in caplog.text
    assert abs(minimum.point.r * BOHR_ANGSTROM - 1.77) < 0.03
    assert abs(minimum.point.scf.spin_moment) < 0.05
    assert minimum.point.e_free < high.e_free - 1.5 / HARTREE_EV


def test_the_restricted_start_is_tried_on_the_newton_rung_at_a_high_spin_minimum(tmp_path):
    # Mn-W (2026-12-06): shipped until 2.47.0 at 2.044 Angstrom with 2S = 5, which the
    # ferromagnetic start reaches there. The spin-restricted start's cheap rungs reach a singlet
    # 0.20 eV above it (or diverge, at 2.04386 Angstrom); on the Newton rung it reaches a doublet
    # 0.92 eV below it (whose search ends at 2.014 Angstrom). On the final grid, with the
    # shipped atoms.
    sigma, store = DEFAULT.smearing_sigma, Store(tmp_path, DEFAULT)
    seed_atoms(store, ShippedRecords(SHIPPED_DIR), {"Mn", "W"})
    atoms = tuple(atom_reference(element, DEFAULT, sigma, store) for element in ("Mn", "W"))
    mol = diatomic("Mn", "W", 2.044, DEFAULT.basis_map)
    high = run_scf(mol, DEFAULT, sigma, molecule_starts(mol, atoms)["ferromagnetic"],
                   rungs=CHEAP_RUNGS)
    assert abs(high.spin_moment - 5) < 0.1  # the minimum under test
    states = []
    for dm0, rungs in _starts_at_minimum(mol, atoms, high.spin_moment):
        with contextlib.suppress(ScfNotConverged):
            states.append(run_scf_below(mol, DEFAULT, sigma, dm0, high.e_free - SAME_STATE_HA,
                                        rungs=rungs))
    lowest = min(states, key=lambda state: state.e_free)
    assert lowest.rung == "newton"
    assert abs(lowest.spin_moment - 1) < 0.1
    assert lowest.e_free < high.e_free - 0.8 / HARTREE_EV


def test_a_state_that_the_search_grid_loses_is_followed_on_the_final_grid(caplog):
    # Cd-V (2026-12-06): no rung converges the state of the fixture on the search grid; there
    # the axial rung took its search back to the record's state, and the lower state was lost.
    fixture, sigma = np.load(CD_V_STATE), DEFAULT.smearing_sigma
    mol = diatomic("Cd", "V", float(fixture["distance_ang"]), DEFAULT.basis_map)
    state = run_scf(mol, DEFAULT, sigma, fixture["dm"].astype(np.float64), rungs=CHEAP_RUNGS)
    assert abs(state.spin_moment - 5) < 0.1
    r = float(fixture["distance_ang"]) / BOHR_ANGSTROM
    curvature = start_geometry("Cd", "V", DEFAULT)[1]
    with caplog.at_level(logging.INFO, logger="qc_jax.chem.pair"):
        minimum = _followed("Cd", "V", DEFAULT, sigma, r, state, curvature)
    assert minimum.point.e_free <= state.e_free + SAME_STATE_HA
    assert "lost on the search grid" in caplog.text
    assert abs(minimum.point.scf.spin_moment - 5) < 0.1
    assert abs(minimum.point.r - r) * BOHR_ANGSTROM < 0.02
    assert not minimum.notes


def test_an_odd_electron_count_is_not_left_half_filled_in_both_spins(tmp_path):
    # CaF (X 2Sigma+, R_e 1.967 Angstrom, Huber-Herzberg): the restricted start keeps alpha =
    # beta, and the F atom's moment in the ferromagnetic start is quenched by the charge
    # transfer to F, so both starts end with the top level half filled in both spins (moment 0,
    # <S^2> 0.25). The polarised start from that state finds the doublet, 0.15 eV lower.
    record = compute_pair("Ca", "F", CHEAP, store=Store(tmp_path, CHEAP))
    assert record.status == "ok", record.reason
    assert abs(record.labels["spin_moment"] - 1) < 0.05
    assert abs(record.labels["s_squared"] - 0.75) < 0.05
    assert abs(record.labels["distance_ang"] - 1.967) < 0.06


def test_a_minimum_above_the_free_atoms_is_searched_again_from_the_van_der_waals_distance(
        tmp_path):
    # Kr-O: GFN2-xTB's start leads to a singlet minimum at 1.86 Angstrom whose free energy lies
    # above the free atoms'; from the sum of the van der Waals radii the search finds the
    # triplet of the O atom bound by dispersion at 2.87 Angstrom, 1.1 eV lower.
    from qc_jax.units import HARTREE_EV

    store = Store(tmp_path, CHEAP)
    record = compute_pair("O", "Kr", CHEAP, store=store)
    assert record.status == "ok", record.reason
    atoms = sum(store.get_atom(element, CHEAP.smearing_sigma).e_free for element in ("O", "Kr"))
    assert record.labels["mermin_free_energy_ev"] < atoms * HARTREE_EV
    assert record.bond_length > 2.5 and abs(record.labels["spin_moment"] - 2) < 1e-3


def test_a_minimum_above_the_atoms_in_e0_only_is_searched_again(tmp_path, caplog):
    # Ar-O: the first minimum, at 2.83 Angstrom, is below the free atoms in free energy but above
    # them in E0 (the O atom's -TS at 0.003 Ha hides it): the second test searches again.
    from qc_jax.units import HARTREE_EV

    caplog.set_level(logging.INFO, logger="qc_jax.chem.pair")
    store = Store(tmp_path, CHEAP)
    record = compute_pair("O", "Ar", CHEAP, store=store)
    assert record.status == "ok", record.reason
    atoms = [store.get_atom(element, CHEAP.smearing_sigma) for element in ("O", "Ar")]
    assert record.labels["mermin_free_energy_ev"] < sum(a.e_free for a in atoms) * HARTREE_EV
    assert record.labels["binding_energy_ev"] > 0
    assert "lies above the free atoms; searching again" in caplog.text


def test_a_minimum_without_positive_curvature_on_the_final_grid_is_flagged(tmp_path):
    # He2, bound by about 1 meV: at the minimum of the search grid (level 0 here) the force
    # constant's two points on the final grid (level 1) give no positive curvature. The record
    # keeps its labels but has no omega_e, and says so (Cs-Hg at the default settings had been
    # stored as ok with a NaN omega_e; 2026-11-30).
    settings = replace(CHEAP, search_grid_level=0)
    record = compute_pair("He", "He", settings, store=Store(tmp_path, settings))
    assert record.status == "flagged" and record.reason == FLAG_REASONS["flat"]
    assert math.isnan(record.labels["omega_e_cm1"]) and record.labels["geom_converged"] == 0
    assert -0.01 < record.labels["binding_energy_ev"] < 0


@pytest.mark.slow
def test_a_pair_without_a_gfn2_start_reaches_its_multiple_bond_from_scratch(tmp_path):
    # V-W at the default settings, with the shipped atoms: the searches from the covalent sum
    # and from 0.7 of it ended high-spin at 2.77 Angstrom (2S = 9, E_bind -1.84 eV, shipped
    # until 2.45.0); the probe at 0.6 of the sum found a state 2.3 eV lower, and the search from
    # it ends at 1.92 Angstrom, a doublet, E_bind -4.28 eV (2026-12-06). The whole path of
    # compute_pair, which the tests of _probed_shorter and _starts_at_minimum above enter
    # halfway (at 407f623, before the Newton start at high-spin minima, by the probe: 600 s of
    # wall time with three processes on the two cores; with it, 322 s beside `make test`).
    store = Store(tmp_path, DEFAULT)
    seed_atoms(store, ShippedRecords(SHIPPED_DIR), {"V", "W"})
    record = compute_pair("V", "W", DEFAULT, store=store)
    assert start_geometry("V", "W", DEFAULT)[2] == "covalent radii"  # the case under test
    assert record.status == "ok", record.reason
    assert abs(record.bond_length - 1.915) < 0.03
    assert abs(record.labels["spin_moment"] - 1) < 0.05
    assert record.labels["binding_energy_ev"] < -4.0


@pytest.mark.slow
def test_ir_xe_is_bound_by_dispersion_not_at_a_metastable_short_bond(tmp_path):
    # Ir-Xe at the default settings (200 CPU-s): the first minimum, at 2.53 Angstrom and moment
    # 1.3, lies 0.03 eV below the atoms in free energy (the Ir atom's -TS is 0.34 eV) and 0.16 eV
    # above them in E0; searched again from the sum of the van der Waals radii, the quartet bound
    # by dispersion at 3.27 Angstrom is 0.20 eV lower in free energy (2026-11-30).
    record = compute_pair("Ir", "Xe", DEFAULT, store=Store(tmp_path, DEFAULT))
    assert record.status == "ok", record.reason
    assert record.bond_length > 3.0 and record.labels["binding_energy_ev"] < 0
    assert abs(record.labels["spin_moment"] - 3) < 0.05


@pytest.mark.slow
def test_a_search_from_the_van_der_waals_distance_left_above_the_atoms_is_repeated_nearer(
        tmp_path, caplog):
    # S-Xe (180 CPU-s): GFN2-xTB's start leads to a singlet at 2.44 Angstrom, 0.48 eV above the
    # free atoms in free energy; at the sum of the van der Waals radii, 3.96 Angstrom, the
    # ferromagnetic start (the S atom's triplet) converges on no rung, and the search from there
    # ends in the same singlet. From 0.85 of the sum the triplet bound by dispersion is found,
    # at 3.46 Angstrom and 0.09 eV below the atoms (2026-12-03; the shipped record had been the
    # singlet).
    caplog.set_level(logging.INFO, logger="qc_jax.chem.pair")
    store = Store(tmp_path, CHEAP)
    record = compute_pair("S", "Xe", CHEAP, store=store)
    assert record.status == "ok", record.reason
    assert "searching again from 6.361 Bohr" in caplog.text
    atoms = sum(store.get_atom(element, CHEAP.smearing_sigma).e_free for element in ("S", "Xe"))
    assert record.labels["mermin_free_energy_ev"] < atoms * HARTREE_EV
    assert record.bond_length > 3.2 and abs(record.labels["spin_moment"] - 2) < 1e-3


def test_a_record_is_referred_to_the_atoms_of_its_store(tmp_path):
    """What a record takes from its free atoms follows an atom computed again (a kept record,
    ``qc_jax.chem.lookup.get_record``): the binding energy by twice the H atom's shift here."""
    store = Store(tmp_path, CHEAP)
    record = compute_pair("H", "H", CHEAP, store=store)
    same = refer_to_atoms(record, store)
    assert same.labels["binding_energy_ev"] == pytest.approx(
        record.labels["binding_energy_ev"], abs=1e-9)
    assert np.array_equal(same.dm_promolecule, record.dm_promolecule)
    atom = store.get_atom("H", CHEAP.smearing_sigma)
    store.put_atom(replace(atom, e_ground=atom.e_ground - 0.01, dm=atom.dm / 2))  # another one
    again = refer_to_atoms(record, store)
    assert again.labels["binding_energy_ev"] == pytest.approx(
        record.labels["binding_energy_ev"] + 0.02 * HARTREE_EV, abs=1e-9)
    assert np.allclose(again.dm_promolecule, record.dm_promolecule / 2, rtol=0, atol=1e-12)
    assert again.labels["zero_temperature_energy_ev"] == record.labels["zero_temperature_energy_ev"]
