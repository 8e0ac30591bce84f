"""compute_pair on H2, LiH, CO and O2 with FAST settings: labels, spin, populations, densities."""

import math

import numpy as np
import pytest

from qc_jax.chem import FAST, compute_pair
from qc_jax.chem.labels import LABEL_NAMES
from qc_jax.chem.molecule import record_mole
from qc_jax.units import HARTREE_EV


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from qc_jax.store import Store

    return Store(tmp_path_factory.mktemp("store"), FAST)


@pytest.fixture(scope="module")
def records(store):
    names = ("H_H", "H_Li", "C_O", "O_O")
    return {name: compute_pair(*name.split("_"), FAST, store=store) for name in names}


def test_records_are_converged_in_canonical_orientation(records):
    for name, record in records.items():
        assert record.pair == name and record.status == "ok", record.reason
        assert record.labels["scf_converged"] == 1 and record.labels["geom_converged"] == 1
        a, b = record.positions
        assert a[2] < 0 < b[2] and np.allclose(a[:2], 0) and np.allclose(b[:2], 0)
        assert math.isclose(a[2], -b[2])
        assert record.numbers[0] <= record.numbers[1]
        assert math.isclose(record.labels["distance_ang"], record.bond_length)
    assert records["H_Li"].symbols == ("H", "Li") and records["C_O"].symbols == ("C", "O")


def test_every_documented_label_is_present(records):
    for record in records.values():
        assert set(record.labels) == set(LABEL_NAMES)


def test_labels_are_self_consistent(records):
    for record in records.values():
        lab = record.labels
        assert lab["e_g_ev"] > 0 and lab["metal_like"] == 0
        assert math.isclose(lab["e_g_ev"], lab["e_lumo_ev"] - lab["e_homo_ev"])
        assert lab["e_homo_ev"] < lab["fermi_level_ev"] < lab["e_lumo_ev"]
        assert math.isclose(lab["i_koopmans_ev"], -lab["e_homo_ev"])
        assert math.isclose(lab["a_koopmans_ev"], -lab["e_lumo_ev"])
        assert math.isclose(lab["chi_ev"], (lab["i_ev"] + lab["a_ev"]) / 2)
        assert math.isclose(lab["mu_ev"], -lab["chi_ev"])
        assert math.isclose(lab["eta_ev"], (lab["i_ev"] - lab["a_ev"]) / 2)
        assert math.isclose(lab["softness_evinv"], 1 / lab["eta_ev"])
        assert lab["i_ev"] > 0
        assert abs(lab["total_charge"]) < 1e-10
        assert lab["binding_energy_ev"] < 0
        assert lab["omega_e_cm1"] > 0
        assert lab["mermin_free_energy_ev"] <= lab["total_energy_ev"] + 1e-9
        assert math.isclose(lab["zero_temperature_energy_ev"],
                            (lab["total_energy_ev"] + lab["mermin_free_energy_ev"]) / 2)
        assert lab["dispersion_energy_ev"] < 0 and lab["van_der_waals"] == 0
        assert math.isclose(lab["smearing_sigma_ev"], FAST.smearing_sigma * HARTREE_EV)
        dipole = [lab[f"dipole_{c}_d"] for c in "xyz"]
        assert math.isclose(lab["dipole_mag_d"], np.linalg.norm(dipole))
        assert abs(dipole[0]) < 1e-8 and abs(dipole[1]) < 1e-8


def test_spin_states_are_found(records):
    # O2 is a triplet (both pi* electrons alpha), the others closed shells.
    o2 = records["O_O"].labels
    assert math.isclose(o2["spin_moment"], 2, abs_tol=1e-4)  # thermal: 1 - 3e-6
    assert 2.0 <= o2["s_squared"] < 2.05  # S(S+1) = 2 plus a little spin contamination
    for name in ("H_H", "H_Li", "C_O"):
        lab = records[name].labels
        assert abs(lab["spin_moment"]) < 1e-6 and abs(lab["s_squared"]) < 1e-4


def test_o2_frontier_levels_are_the_split_pi_star(records):
    # HOMO: the two alpha pi* (filled); LUMO: the two beta pi* (empty), exchange-split above.
    record = records["O_O"]
    homo, lumo = (record.labels[f"e_{x}_ev"] / HARTREE_EV for x in ("homo", "lumo"))
    alpha_homo = np.isclose(record.mo_energy[0], homo, atol=1e-6) & (record.mo_occ[0] > 0.99)
    beta_lumo = np.isclose(record.mo_energy[1], lumo, atol=1e-6) & (record.mo_occ[1] < 0.01)
    assert alpha_homo.sum() == 2 and beta_lumo.sum() == 2


def test_binding_energy_is_against_the_stored_free_atoms(records, store):
    atoms = [store.get_atom(element, FAST.smearing_sigma) for element in ("C", "O")]
    assert all(atom.status == "ok" for atom in atoms)
    assert [atom.spin_moment for atom in atoms] == pytest.approx([2, 2], abs=1e-3)
    assert all(atom.e_ground <= atom.e_zero for atom in atoms)
    lab = records["C_O"].labels
    expected = lab["zero_temperature_energy_ev"] - sum(a.e_ground for a in atoms) * HARTREE_EV
    assert math.isclose(lab["binding_energy_ev"], expected, abs_tol=1e-9)


def test_homonuclear_pair_has_no_dipole_and_no_charges(records):
    lab = records["H_H"].labels
    assert abs(lab["dipole_mag_d"]) < 1e-6
    assert lab["q_maxabs"] < 1e-8


def test_lih_dipole_points_from_hydride_to_lithium(records):
    record = records["H_Li"]
    q_h, q_li = record.mulliken_charges
    assert math.isclose(q_h, -q_li, abs_tol=1e-10)
    # Li(+) at +z, H(-) at -z: the dipole points along +z (Mulliken charges of a minimal basis
    # do not even get the sign right, which is why the dipole is the test here).
    assert record.labels["dipole_z_d"] > 1.0


def test_populations_add_up(records):
    for record in records.values():
        mol = record_mole(record)
        by_l, by_lm = record.populations_l, record.populations_lm
        assert np.allclose(by_lm.sum(axis=2), by_l)
        nuclear = np.array([mol.atom_charge(i) for i in range(2)])
        assert np.allclose(nuclear - by_l.sum(axis=1), record.mulliken_charges)
        # Linear molecule: the two pi components (m = +1, -1) carry equal populations.
        centre = by_lm.shape[2] // 2
        if by_lm.shape[1] > 1:
            assert np.allclose(by_lm[:, 1, centre + 1], by_lm[:, 1, centre - 1])
    assert np.allclose(records["H_H"].populations_l, [[1.0], [1.0]])


def test_density_matrices_hold_all_electrons_per_spin(records):
    for record in records.values():
        mol = record_mole(record)
        overlap = mol.intor("int1e_ovlp")
        n_alpha = (mol.nelectron + round(record.labels["spin_moment"])) // 2
        n_beta = mol.nelectron - n_alpha
        assert record.dm.shape == (2, mol.nao, mol.nao)
        assert record.dm_promolecule.shape == (mol.nao, mol.nao)
        electrons = [np.trace(d @ overlap) for d in record.dm]
        assert electrons == pytest.approx(record.mo_occ.sum(axis=1), rel=1e-8)
        assert electrons == pytest.approx([n_alpha, n_beta], abs=1e-4)  # thermal occupations
        assert math.isclose(sum(electrons), mol.nelectron, rel_tol=1e-8)
        assert math.isclose(np.trace(record.dm_promolecule @ overlap), mol.nelectron, rel_tol=1e-8)
        assert record.mo_occ.min() >= 0 and record.mo_occ.max() <= 1
        for spin in range(2):
            occupied = record.mo_coeff[spin] * record.mo_occ[spin]
            assert np.allclose(occupied @ record.mo_coeff[spin].T, record.dm[spin], atol=1e-10)


def test_mole_rebuild_reproduces_the_energy(records):
    from qc_jax.chem.scf import smeared_uks

    record = records["O_O"]
    mf = smeared_uks(record_mole(record), FAST, FAST.smearing_sigma)
    mf.kernel(record.dm)
    assert math.isclose(mf.e_tot * HARTREE_EV, record.labels["total_energy_ev"], abs_tol=1e-5)
    assert math.isclose(mf.e_zero * HARTREE_EV, record.labels["zero_temperature_energy_ev"],
                        abs_tol=1e-5)


def test_docs_render_the_label_table():
    from pathlib import Path

    from qc_jax.chem.labels import label_table_markdown

    docs = (Path(__file__).parents[1] / "docs" / "chemistry.md").read_text()
    begin, end = "<!-- label table: begin -->\n", "<!-- label table: end -->"
    assert docs[docs.index(begin) + len(begin) : docs.index(end)] == label_table_markdown()
