"""Compact shipped records: round trip, canvases within float32 tolerance, manifest checks."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import quantum_canvas

from qc_jax import canvas, orbitals
from qc_jax.changes import improvement, record_changes
from qc_jax.chem import DEFAULT, FAST
from qc_jax.compact import ShippedRecordError, ShippedRecords, seed_atoms, ship
from qc_jax.store import Store
from qc_jax.units import HARTREE_EV

DUMMY_STORE = Path(quantum_canvas.__file__).parent / "dummy_data" / "store"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    root = tmp_path_factory.mktemp("shipped")
    added = ship(Store(DUMMY_STORE, DEFAULT), root)
    assert len(added) == 21
    return ShippedRecords(root)


def test_compact_records_keep_labels_levels_and_densities(shipped):
    store = Store(DUMMY_STORE, DEFAULT)
    for name in shipped.names():
        full, compact = store.load(name), shipped.get(name)
        assert compact.labels == full.labels and compact.settings == full.settings
        np.testing.assert_array_equal(compact.positions, full.positions)
        np.testing.assert_array_equal(compact.populations_lm, full.populations_lm)
        for spin in range(2):  # density matrices from float32 MO coefficients
            np.testing.assert_allclose(compact.dm[spin], full.dm[spin], atol=2e-7)
        np.testing.assert_allclose(compact.dm_promolecule, full.dm_promolecule, atol=2e-7)
        levels = [orbitals.frontier(r.mo_energy, r.mo_occ) for r in (full, compact)]
        assert levels[0].homo == levels[1].homo and levels[0].lumo == levels[1].lumo
        assert compact.mo_coeff.shape[2] < full.mo_coeff.shape[2]  # only MOs with density


def test_canvases_from_compact_records_match_full_ones(shipped):
    store = Store(DUMMY_STORE, DEFAULT)
    names = ["C_O", "O_O", "H_Li"]
    full = canvas.render_many([store.load(n) for n in names], progress=False)
    compact = canvas.render_many([shipped.get(n) for n in names], progress=False)
    # Float32 coefficients: errors of a few float32 ulps of each channel's scale; charge
    # accumulation and depletion are differences of two densities (16 e/Bohr^3 at an O nucleus),
    # so theirs is the density's.
    scale = np.abs(full).max(axis=(0, 1, 2))
    scale[8:] = np.abs(full[..., 0] + full[..., 1]).max()
    assert np.all(np.abs(compact - full).max(axis=(0, 1, 2)) <= 1e-5 * scale)


def test_compact_is_smaller_and_adding_again_adds_nothing(shipped, tmp_path):
    full = sum(p.stat().st_size for p in Store(DUMMY_STORE, DEFAULT).pairs_folder.glob("*.npz"))
    compact = sum(p.stat().st_size for p in (shipped.root / "pairs").glob("*.npz"))
    assert compact < full / 2
    root = tmp_path / "copy"
    shutil.copytree(shipped.root, root)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*.npz")}
    assert ship(Store(DUMMY_STORE, DEFAULT), root) == []
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*.npz")} == before


@pytest.mark.parametrize("left_out", ["failed", "raised k_B T"])
def test_a_left_out_pair_is_replaced_once_it_converges_at_the_default_k_b_t(left_out, tmp_path):
    shutil.copytree(DUMMY_STORE, tmp_path / "store")
    store = Store(tmp_path / "store", DEFAULT)
    converged = store.load("C_O")
    if left_out == "failed":
        first = replace(converged, status="failed", reason="time limit")
    else:
        raised = 0.01
        first = replace(converged, status="flagged",
                        reason=f"converged only with raised smearing sigma = {raised} Ha",
                        labels={**converged.labels, "smearing_sigma_ev": raised * HARTREE_EV})
        for element in ("C", "O"):
            store.put_atom(replace(store.get_atom(element, DEFAULT.smearing_sigma), sigma=raised))
    assert first.retryable and not converged.retryable
    assert first.raised_smearing == (left_out != "failed")
    store.put(first)
    assert store.missing([("C", "O")]) == [] and store.missing([("C", "O")], True) == [("C", "O")]
    root = tmp_path / "shipped"
    assert ship(store, root, ["C_O"]) == ["C_O"]
    assert ShippedRecords(root).get("C_O").retryable
    assert ship(store, root, ["C_O"]) == []  # still left out: nothing to replace
    store.put(converged)  # retried
    assert ship(store, root, ["C_O"]) == ["C_O"]
    assert ShippedRecords(root).get("C_O").status == "ok"
    assert ship(store, root, ["C_O"]) == []


def test_a_recomputed_pair_is_shipped_again_only_when_asked(tmp_path):
    shutil.copytree(DUMMY_STORE, tmp_path / "store")
    store, root = Store(tmp_path / "store", DEFAULT), tmp_path / "shipped"
    assert ship(store, root, ["C_O"]) == ["C_O"]
    reader = ShippedRecords(root)  # as a `qc-canvas compute` that runs while the ship replaces
    recomputed = store.load("C_O")
    store.put(replace(recomputed, labels={**recomputed.labels, "e_g_ev": 1.0}))
    assert ship(store, root, ["C_O"]) == []
    assert ship(store, root, ["C_O"], replace=True) == ["C_O"]
    assert ShippedRecords(root).get("C_O").labels["e_g_ev"] == 1.0
    assert reader.get("C_O").labels["e_g_ev"] == 1.0  # its manifest read anew, not an error



def test_changes_of_recomputed_records_are_printed_before_they_replace_the_shipped(tmp_path,
                                                                                  capsys):
    from qc_app.cli import main

    shutil.copytree(DUMMY_STORE, tmp_path / "store")
    store, root = Store(tmp_path / "store", DEFAULT), tmp_path / "shipped"
    ship(store, root, ["C_O", "H_H", "O_O"])
    c_o, h_h = store.load("C_O"), store.load("H_H")
    free_energy = c_o.labels["mermin_free_energy_ev"]
    store.put(replace(c_o, labels={**c_o.labels, "mermin_free_energy_ev": free_energy - 0.0076}))
    store.put(replace(h_h, labels={**h_h.labels, "smearing_sigma_ev": 0.272}))
    table = record_changes(store, ShippedRecords(root), ["O_O", "C_O", "H_H", "N_N"])
    rows = [line for line in table.splitlines() if line.startswith("| ") and "_" in line[:8]]
    assert [row.split(" | ")[:2] for row in rows] == [["| C_O", "-7.6"], ["| O_O", "+0.0"]]
    assert "H_H: not compared, k_B T 0.272 eV now" in table
    assert "N_N: not compared, absent before" in table
    assert table.endswith("2 pairs compared: 1 lower by more than 1 meV, 0 higher, 1 the same")
    with_gap = record_changes(store, ShippedRecords(root), ["C_O"], labels=["e_g_ev"])
    gap = c_o.labels["e_g_ev"]
    assert " `e_g_ev` now/before |\n|---|---:|---|---|---:|---:|---:|---|\n" in with_gap
    assert "| C_O | -7.6 |" in with_gap and f" {gap:.3f}/{gap:.3f} |\n" in with_gap

    before = (root / "pairs" / "C_O.npz").read_bytes()
    arguments = ["ship", "--store", str(tmp_path / "store"), "--to", str(root), "--pairs", "C_O"]
    assert main([*arguments, "--dry-run"]) == 2  # --dry-run needs --replace
    assert main([*arguments, "--replace", "--dry-run"]) == 0
    assert "| C_O | -7.6 |" in capsys.readouterr().out
    assert (root / "pairs" / "C_O.npz").read_bytes() == before
    assert main([*arguments, "--replace"]) == 0
    assert "| C_O | -7.6 |" in capsys.readouterr().out
    assert ShippedRecords(root).get("C_O").labels["mermin_free_energy_ev"] == free_energy - 0.0076


def test_a_recomputed_record_is_improved_only_by_a_lower_state_or_ion(tmp_path, capsys):
    from qc_app.cli import main

    store = Store(DUMMY_STORE, DEFAULT)
    c_o = store.load("C_O")
    free_energy, i_ev, a_ev = (c_o.labels[k] for k in ("mermin_free_energy_ev", "i_ev", "a_ev"))

    def changed(**labels):
        return replace(c_o, labels={**c_o.labels, **labels})

    assert improvement(changed(mermin_free_energy_ev=free_energy - 0.0076), c_o) == (
        "free energy -7.6 meV")
    assert improvement(changed(mermin_free_energy_ev=free_energy + 0.005), c_o) is None
    assert improvement(c_o, c_o) is None
    assert improvement(changed(i_ev=i_ev - 0.05), c_o) == "same state, cation 50.0 meV lower"
    assert improvement(changed(i_ev=i_ev - 0.003), c_o) is None  # within ION_GAIN_MEV
    assert improvement(c_o, changed(a_ev=float("nan"))) == "same state, anion converges"
    assert improvement(changed(a_ev=float("nan")), c_o) is None  # a label lost
    assert improvement(changed(i_ev=i_ev - 0.05, a_ev=a_ev - 0.01), c_o) is None  # anion higher
    assert improvement(c_o, replace(c_o, status="failed", reason="time limit")) == (
        "converges at the default k_B T")
    flagged = replace(c_o, status="flagged", reason="no frequency")
    assert improvement(c_o, flagged) == "same state, ok where it was flagged (no frequency)"
    assert improvement(flagged, c_o) is None
    assert improvement(None, c_o) is None and improvement(c_o, None) is None

    shutil.copytree(DUMMY_STORE, tmp_path / "store")
    copy, root = Store(tmp_path / "store", DEFAULT), tmp_path / "shipped"
    ship(copy, root, ["C_O", "O_O"])
    copy.put(changed(mermin_free_energy_ev=free_energy - 0.0076))
    before = {name: (root / "pairs" / f"{name}.npz").read_bytes() for name in ("C_O", "O_O")}
    arguments = ["ship", "--store", str(tmp_path / "store"), "--to", str(root), "--pairs",
                 "C_O,O_O", "--replace", "--improved"]
    assert main(arguments) == 0
    assert "improved: 1\n  C_O: free energy -7.6 meV\nshipped 1 replaced" in capsys.readouterr().out
    assert (root / "pairs" / "O_O.npz").read_bytes() == before["O_O"]  # the same: not rewritten
    assert (root / "pairs" / "C_O.npz").read_bytes() != before["C_O"]


def test_a_store_is_seeded_with_the_shipped_free_atoms_it_lacks(shipped, tmp_path):
    store = Store(tmp_path / "store", DEFAULT)
    assert seed_atoms(store, shipped, ["O", "C", "Xe"]) == ["atoms/C_0.003.npz",
                                                            "atoms/O_0.003.npz"]
    for element in ("C", "O"):
        stored, original = store.get_atom(element, 0.003), shipped.atom(element, 0.003)
        assert stored.e_ground == original.e_ground and stored.e_free == original.e_free
        np.testing.assert_array_equal(stored.dm, original.dm)
    assert store.get_atom("H", 0.003) is None  # only the elements asked for
    assert seed_atoms(store, shipped, ["C", "O"]) == []  # an atom stored is kept
    assert seed_atoms(Store(tmp_path / "fast", FAST), shipped, ["C"]) == []  # other settings


def test_a_changed_file_fails_the_manifest(shipped, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(shipped.root, root)
    path = root / "pairs" / "C_O.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ShippedRecordError, match="SHA-256"):
        ShippedRecords(root).get("C_O")
    assert ShippedRecords(root).get("Xx_Yy") is None


def test_records_of_other_settings_are_refused(shipped, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(shipped.root, root)
    with pytest.raises(ShippedRecordError, match="other settings"):
        ship(Store(tmp_path / "store", FAST), root)
    manifest = json.loads((root / "MANIFEST.json").read_text())
    assert manifest["settings_digest"] == Store(DUMMY_STORE, DEFAULT).digest


def test_ship_command(tmp_path):
    from qc_app.cli import main

    target = tmp_path / "shipped"
    assert main(["ship", "--store", str(DUMMY_STORE), "--to", str(target), "--pairs",
                 "H_H,C_O"]) == 0
    assert ShippedRecords(target).names() == ["C_O", "H_H"]
    fast_folder = tmp_path / "fast"
    ship(Store(tmp_path / "fast_store", FAST), fast_folder)  # an empty folder of FAST records
    assert main(["ship", "--store", str(DUMMY_STORE), "--to", str(fast_folder)]) == 2


def test_the_package_s_shipped_records_match_their_manifest():
    from quantum_canvas.records import SHIPPED_DIR

    from qc_jax.compact import file_digest

    if not (SHIPPED_DIR / "MANIFEST.json").exists():
        pytest.skip("no records shipped yet")
    shipped = ShippedRecords(SHIPPED_DIR)
    assert shipped.digest == Store(DUMMY_STORE, DEFAULT).digest  # the default level of theory
    on_disk = {str(p.relative_to(SHIPPED_DIR)) for p in SHIPPED_DIR.rglob("*.npz")}
    assert on_disk == set(shipped.files)
    for relative, digest in shipped.files.items():
        assert file_digest(SHIPPED_DIR / relative) == digest, relative
    for name in shipped.names():
        record = shipped.get(name)
        assert record.pair == name and record.settings_digest == shipped.digest
        if record.status != "failed":
            assert record.dm.shape[0] == 2 and np.isfinite(record.labels["distance_ang"])
