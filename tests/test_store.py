"""The record store: round trip, atomic writes, checksums, settings separation, bad folders."""

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from qc_jax.chem import FAST, Settings, compute_pair
from qc_jax.chem.molecule import record_mole
from qc_jax.store import CorruptRecordError, Store, StoreError


@pytest.fixture(scope="module")
def record():
    return compute_pair("H", "Li", FAST)


def assert_same_record(a, b):
    assert a.pair == b.pair and a.symbols == b.symbols and a.status == b.status
    assert a.settings == b.settings and a.basis == b.basis
    assert a.labels.keys() == b.labels.keys()
    for name, value in a.labels.items():
        assert value == b.labels[name] or (math.isnan(value) and math.isnan(b.labels[name]))
    for name in a.ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_round_trip(tmp_path, record):
    store = Store(tmp_path, FAST)
    path = store.put(record)
    assert path.name == "H_Li.npz" and "H_Li" in store and store.names() == ["H_Li"]
    loaded = store.load("Li", "H")
    assert_same_record(loaded, record)
    assert record_mole(loaded).nao == record.dm.shape[-1]
    assert [r.pair for r in store.records()] == ["H_Li"]
    assert not list(store.folder.rglob("*.tmp"))


def test_settings_round_trip_through_json():
    settings = replace(FAST, raised_smearing_sigmas=(0.02,))
    again = Settings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings and again.digest() == settings.digest() != FAST.digest()


def test_missing_lists_what_is_not_stored(tmp_path, record):
    store = Store(tmp_path, FAST)
    store.put(record)
    assert store.missing([("H", "Li"), ("H", "H")]) == [("H", "H")]
    assert store.get("H", "H") is None


def test_truncated_record_is_detected(tmp_path, record):
    store = Store(tmp_path, FAST)
    path = store.put(record)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptRecordError):
        store.load("H_Li")
    assert store.get("H_Li") is None and store.missing([("H", "Li")]) == [("H", "Li")]


def test_tampered_record_fails_its_checksum(tmp_path, record):
    store = Store(tmp_path, FAST)
    path = store.put(record)
    with np.load(path) as data:
        contents = {key: data[key] for key in data.files}
    meta = json.loads(bytes(contents["meta"]))
    meta["labels"]["distance_ang"] = 9.0  # an edit that keeps the file well-formed
    contents["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **contents)
    with pytest.raises(CorruptRecordError, match="checksum"):
        store.load("H_Li")


def test_settings_never_mix(tmp_path, record):
    fast = Store(tmp_path, FAST)
    other = Store(tmp_path, replace(FAST, smearing_sigma=0.02))
    assert fast.folder != other.folder
    with pytest.raises(ValueError, match="settings"):
        other.put(record)
    fast.put(record)
    other.make_writable()
    other.path("H_Li").write_bytes(fast.path("H_Li").read_bytes())
    with pytest.raises(CorruptRecordError, match="other settings"):
        other.load("H_Li")


def test_schema_1_records_stay_readable_as_two_equal_spins(tmp_path):
    # A spin-restricted record written by the first level of theory (settings version 1).
    from pathlib import Path

    from qc_jax.store import read_record

    path = Path(__file__).parent / "fixtures" / "v1_H_Li.npz"
    with np.load(path) as raw:
        dm, occ = raw["dm"], raw["mo_occ"]
    record = read_record(path)
    assert record.schema_version == 2 and record.status == "ok"
    assert record.dm.shape == (2, *dm.shape) and record.mo_occ.shape == (2, *occ.shape)
    np.testing.assert_array_equal(record.dm_total, dm)
    np.testing.assert_array_equal(record.mo_occ.sum(axis=0), occ)
    np.testing.assert_array_equal(record.dm[0], record.dm[1])
    assert record_mole(record).nao == dm.shape[0]
    # It never mixes with records of today's settings.
    store = Store(tmp_path, FAST)
    store.make_writable()
    store.path("H_Li").write_bytes(path.read_bytes())
    with pytest.raises(CorruptRecordError, match="other settings"):
        store.load("H_Li")


def test_free_atoms_are_kept_in_the_store_and_recomputed_when_corrupt(tmp_path):
    from qc_jax.chem.atoms import _CACHE, atom_reference

    store = Store(tmp_path, FAST)
    atom = atom_reference("N", FAST, FAST.smearing_sigma, store)
    assert atom.status == "ok" and atom.spin_moment == pytest.approx(3, abs=1e-3)  # quartet
    stored = store.get_atom("N", FAST.smearing_sigma)
    assert stored.e_ground == atom.e_ground and np.array_equal(stored.dm, atom.dm)
    path = store.atom_path("N", FAST.smearing_sigma)
    path.write_bytes(path.read_bytes()[:100])
    assert store.get_atom("N", FAST.smearing_sigma) is None
    _CACHE.clear()  # a new process: the atom comes from the store, or is computed again
    again = atom_reference("N", FAST, FAST.smearing_sigma, store)
    assert again.e_ground == pytest.approx(atom.e_ground, abs=1e-8)
    assert store.get_atom("N", FAST.smearing_sigma) is not None


def test_stale_temporary_files_are_removed(tmp_path):
    store = Store(tmp_path, FAST)
    store.make_writable()
    stale = store.pairs_folder / ".H_H.npz.999999999.tmp"
    stale.write_bytes(b"partial")
    store.remove_stale_temporaries()
    assert not stale.exists()


def test_a_store_touches_no_file_until_it_writes(tmp_path, record):
    store = Store(tmp_path / "store", FAST)
    assert store.get("H_Li") is None and store.names() == [] and "H_Li" not in store
    assert not (tmp_path / "store").exists()
    store.put(record)
    assert json.loads((store.folder / "settings.json").read_text())["digest"] == FAST.digest()


def test_unwritable_store_folder(tmp_path, record):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    store = Store(blocker / "store", FAST)  # reading is fine: nothing there
    assert store.get("H_Li") is None
    with pytest.raises(StoreError, match="not writable"):
        store.put(record)


def test_store_and_cli_import_without_pyscf():
    import subprocess
    import sys

    code = (
        "import sys, qc_jax.store, qc_jax.record, qc_jax.elements, qc_app.cli, qc_jax.chem; "
        "assert not any(m.startswith(('pyscf', 'jax')) for m in sys.modules), 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _compute_in_a_process(root: str):
    from qc_jax.chem.lookup import get_record

    return get_record("H", "H", Store(root, FAST)).without_record()


def test_concurrent_processes_compute_a_pair_once(tmp_path):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        first, second = pool.map(_compute_in_a_process, [str(tmp_path)] * 2)
    # The process that waited for the lock loaded the other's record instead of recomputing.
    assert first.status == second.status == "ok"
    assert sorted([first.source, second.source]) == ["computed", "store"]
    assert Store(tmp_path, FAST).names() == ["H_H"]


def test_lock_excludes_other_holders(tmp_path):
    import threading

    store, order = Store(tmp_path, FAST), []

    def take_lock():
        with store.lock("H", "Li"):
            order.append("other")

    with store.lock("H", "Li"):
        other = threading.Thread(target=take_lock)
        other.start()
        other.join(timeout=0.5)
        order.append("holder")
    other.join()
    assert order == ["holder", "other"]


def test_a_stored_failure_is_kept_unless_retried(tmp_path):
    from qc_jax.chem.lookup import get_record

    store = Store(tmp_path, FAST)
    ok = compute_pair("H", "H", FAST)
    store.put(replace(ok, status="failed", reason="stored by another worker", labels={}))
    kept = get_record("H", "H", store)  # e.g. a Beam split that waited for the lock
    assert kept.status == "failed" and kept.message == "stored by another worker"
    assert kept.source == "store" and not kept.converged
    retried = get_record("H", "H", store, retry_failed=True)
    assert retried.status == "ok" and retried.source == "computed" and retried.converged
    assert store.load("H_H").status == "ok"


def test_lookup_order_and_what_a_missing_pair_says(tmp_path):
    from qc_jax.chem.lookup import get_record
    from qc_jax.compact import ShippedRecords, ship

    store = Store(tmp_path / "store", FAST)
    assert get_record("H", "H", store, compute=False).status == "missing"
    assert get_record("H", "H", store, compute=False).message == "no record (not computed)"
    assert store.names() == []
    computed = get_record("H", "H", store)
    assert computed.source == "computed" and "H_H" in store.log_path.read_text()
    shipped_root = tmp_path / "shipped"
    ship(store, shipped_root)
    store.put(replace(computed.record, labels={**computed.record.labels, "e_g_ev": 99.0}))
    shipped = ShippedRecords(shipped_root)
    assert get_record("H", "H", store, shipped).source == "shipped"
    preferred = get_record("H", "H", store, shipped, prefer_store=True)
    assert preferred.source == "store" and preferred.record.labels["e_g_ev"] == 99.0
