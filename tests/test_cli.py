"""`qc-canvas compute`: a real parallel run, interruption and resume, and bad input."""

import dataclasses
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from qc_app.cli import HEAVY_CPU_S, heavy_pairs, main, warn_if_heavy
from qc_jax.chem import DEFAULT, FAST
from qc_jax.chem.lookup import _worse, get_record
from qc_jax.chem.runner import RunSummary
from qc_jax.compact import ShippedRecords, ship
from qc_jax.elements import parse_pair
from qc_jax.store import Store

ELEMENTS = "H,Li,C,O"  # 10 pairs
INTERRUPT = signal.SIGTERM if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else signal.SIGINT
"""Ctrl-C, or the SIGTERM of ``kill`` (handled the same way) where SIGINT is ignored: a command
started in the background of a non-interactive shell (``nohup make test &``) ignores SIGINT, and
so do its children, the command under test among them."""


def compute(store, *extra, wait=True):
    command = [sys.executable, "-m", "qc_app.cli", "compute", "--fast", "--no-progress",
               "--elements", ELEMENTS, "--store", str(store), *extra]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                               text=True)  # fmt: skip
    if wait:
        process.wait(timeout=300)
    return process


@pytest.fixture(scope="module")
def reference_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    process = compute(root, "--jobs", "2")
    output = process.stdout.read()
    assert process.returncode == 0, output
    assert "10 computed" in output and "ok 10" in output
    return Store(root, FAST)


def test_parallel_run_stores_every_pair_and_logs_it(reference_store):
    assert len(reference_store.names()) == 10
    log = reference_store.log_path.read_text().splitlines()
    assert len(log) == 10 and all(" ok " in line for line in log)


def test_rerun_computes_nothing(reference_store):
    process = compute(reference_store.root)
    assert process.returncode == 0
    assert "0 computed, 10 already stored" in process.stdout.read()


def test_interrupted_run_resumes_to_identical_records(tmp_path, reference_store):
    process = compute(tmp_path, "--jobs", "1", wait=False)
    pairs_folder = Store(tmp_path, FAST).pairs_folder
    # Interrupt once the command has reported its first pair: it is then in its loop over the
    # workers' results.
    output = process.stdout.readline()  # the store line
    first_pair = process.stdout.readline()
    assert " ok " in first_pair, output + first_pair
    process.send_signal(INTERRUPT)
    process.wait(timeout=60)
    output += first_pair + process.stdout.read()
    assert process.returncode == 130, output
    assert "interrupted" in output
    done_before = len(list(pairs_folder.glob("*.npz")))
    assert 1 <= done_before < 10

    resumed = compute(tmp_path, "--jobs", "2")
    output = resumed.stdout.read()
    assert resumed.returncode == 0, output
    assert f"{10 - done_before} computed, {done_before} already stored" in output
    store = Store(tmp_path, FAST)
    assert store.names() == reference_store.names()
    for record in store.records():
        reference = reference_store.load(record.pair)
        for name, value in record.labels.items():
            np.testing.assert_allclose(value, reference.labels[name], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(record.dm, reference.dm, atol=1e-10)


def test_corrupt_record_is_recomputed(tmp_path, reference_store):
    store = Store(tmp_path, FAST)
    store.make_writable()
    for name in ("H_H", "H_Li"):
        store.path(name).write_bytes(reference_store.path(name).read_bytes())
    store.path("H_H").write_bytes(b"garbage")
    assert main(["compute", "--fast", "--no-progress", "--pairs", "H_H,H_Li", "--store",
                 str(tmp_path)]) == 0  # fmt: skip
    assert store.load("H_H").labels == pytest.approx(reference_store.load("H_H").labels)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--elements", "H,Qq"], "unknown element symbol 'Qq'"),
        (["--elements", "heavy"], "unknown element set"),
        (["--elements", "H,Lu"], "no basis for Lu"),
        (["--pairs", "H_H_H"], "'H_H_H' is not a diatomic"),
        (["--pairs", "COO"], "'COO' is not a diatomic"),
        (["--jobs", "0"], "--jobs"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path, capsys, arguments, message):
    assert main(["compute", "--fast", "--store", str(tmp_path), *arguments]) == 2
    assert message in capsys.readouterr().err


def test_unwritable_store_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["compute", "--fast", "--elements", "H", "--store", str(blocker / "s")]) == 2
    assert "not writable" in capsys.readouterr().err


def test_failed_records_are_kept_unless_retried(tmp_path):
    from qc_jax.record import PairRecord

    store = Store(tmp_path, FAST)
    failed = PairRecord(
        pair="H_H",
        symbols=("H", "H"),
        status="failed",
        reason="SCF not converged (test)",
        settings=FAST.to_dict(),
        settings_digest=FAST.digest(),
        positions=np.zeros((0,)),
    )
    store.put(failed)
    arguments = ["compute", "--fast", "--no-progress", "--pairs", "H_H", "--store", str(tmp_path)]
    assert main(arguments) == 0 and store.load("H_H").status == "failed"
    assert main([*arguments, "--retry-failed"]) == 0 and store.load("H_H").status == "ok"


def test_recompute_replaces_a_converged_record_only_with_a_converged_one(tmp_path, capsys):
    store = Store(tmp_path, FAST)
    arguments = ["compute", "--fast", "--no-progress", "--pairs", "H_H", "--store", str(tmp_path)]
    assert main(arguments) == 0
    computed = store.load("H_H")
    store.put(dataclasses.replace(computed, labels={**computed.labels, "e_g_ev": -1.0}))
    assert main(arguments) == 0 and store.load("H_H").labels["e_g_ev"] == -1.0  # kept

    assert main([*arguments, "--recompute", "--time-limit", "1e-6"]) == 0  # fails: kept
    assert "kept: computed again it was failed" in capsys.readouterr().out
    assert store.load("H_H").labels["e_g_ev"] == -1.0

    assert main([*arguments, "--recompute"]) == 0
    assert store.load("H_H").labels == pytest.approx(computed.labels)

    # A stored state 1 eV lower in free energy is not replaced by a higher one.
    free_energy = computed.labels["mermin_free_energy_ev"]
    lower = {**computed.labels, "mermin_free_energy_ev": free_energy - 1}
    store.put(dataclasses.replace(computed, labels=lower))
    assert main([*arguments, "--recompute"]) == 0
    assert "free energy +1.000 eV" in capsys.readouterr().out
    assert store.load("H_H").labels == pytest.approx(lower)

    # Of the same free energy, a flagged record does not replace an ok one; the reverse does.
    flagged = dataclasses.replace(computed, status="flagged", reason="SCF of the anion failed")
    assert _worse(flagged, computed) and not _worse(computed, flagged)


def test_an_interrupted_recompute_run_resumes_with_resume(tmp_path, capsys):
    arguments = ["compute", "--fast", "--no-progress", "--store", str(tmp_path), "--recompute"]
    assert main([*arguments, "--pairs", "H_H"]) == 0  # as if interrupted after H_H
    capsys.readouterr()
    assert main([*arguments, "--pairs", "H_H,H_Li", "--resume"]) == 0
    assert "1 computed, 1 already stored, 2 requested" in capsys.readouterr().out
    assert Store(tmp_path, FAST).names() == ["H_H", "H_Li"]
    assert "interrupted (rerun with --resume to resume)" in RunSummary(
        2, 0, interrupted=True, recompute=True).text()
    assert main(["compute", "--fast", "--pairs", "H_H", "--store", str(tmp_path), "--resume"]) == 2
    assert "--resume goes with --recompute" in capsys.readouterr().err


def test_recompute_keeps_a_shipped_record_only_if_it_is_lower(tmp_path, monkeypatch, capsys):
    """A pair computed again next to shipped records (a fresh clone's store lacks them) is
    compared with the shipped record, by `qc-canvas compute --recompute` (its workers) too:
    `qc-canvas ship --replace` must not ship a higher state."""
    first = Store(tmp_path / "first", FAST)
    computed = get_record("H", "H", first).record
    free_energy = computed.labels["mermin_free_energy_ev"]
    for shift, kept in ((-1.0, True), (+1.0, False)):
        labels = {**computed.labels, "mermin_free_energy_ev": free_energy + shift}
        first.put(dataclasses.replace(computed, labels=labels))
        ship(first, tmp_path / f"shipped{shift}")
        store = Store(tmp_path / f"store{shift}", FAST)
        lookup = get_record("H", "H", store, ShippedRecords(tmp_path / f"shipped{shift}"),
                            recompute=True)
        assert ("kept" in lookup.message) == kept
        assert store.load("H_H").labels["mermin_free_energy_ev"] == pytest.approx(
            free_energy + shift if kept else free_energy)

        monkeypatch.setenv("QC_CANVAS_SHIPPED", str(tmp_path / f"shipped{shift}"))
        cli_store = Store(tmp_path / f"cli{shift}", FAST)
        assert main(["compute", "--fast", "--no-progress", "--pairs", "H_H", "--recompute",
                     "--store", str(cli_store.root)]) == 0
        assert ("kept: computed again" in capsys.readouterr().out) == kept
        assert cli_store.load("H_H").labels["mermin_free_energy_ev"] == pytest.approx(
            free_energy + shift if kept else free_energy)


def test_a_killed_worker_ends_the_run_with_errors_not_a_hang(tmp_path):
    import multiprocessing
    import threading

    from qc_jax.chem.runner import compute_missing

    def kill_the_worker():
        deadline = time.monotonic() + 60
        while not multiprocessing.active_children() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the worker is starting up or computing C_O
        for worker in multiprocessing.active_children():
            os.kill(worker.pid, signal.SIGKILL)  # as the kernel's OOM killer would
        if not finished.wait(timeout=120):
            os.kill(os.getpid(), signal.SIGINT)  # a hung run ends as "interrupted"

    finished = threading.Event()

    store, todo = Store(tmp_path, FAST), [("C", "O"), ("H", "H")]
    killer = threading.Thread(target=kill_the_worker)
    killer.start()
    summary = compute_missing(store, todo, jobs=1, progress=False)
    finished.set()
    killer.join()
    assert summary.counts["error"] == 2 and not summary.interrupted
    assert all("worker process died" in o.message for o in summary.outcomes)
    assert store.names() == []  # nothing half-written; a rerun computes both
    assert compute_missing(store, todo, progress=False).counts["ok"] == 2


def test_time_limit_option(tmp_path, capsys):
    assert main(["compute", "--pairs", "H_H", "--fast", "--store", str(tmp_path),
                 "--time-limit", "-1"]) == 2
    assert "--time-limit must be positive" in capsys.readouterr().err
    assert main(["compute", "--pairs", "H_H", "--fast", "--store", str(tmp_path), "--no-progress",
                 "--time-limit", "1"]) == 0
    assert Store(tmp_path, FAST).load("H_H").status == "ok"


def test_every_subcommand_reads_pair_names_alike(tmp_path):
    forms = {"CO": ("C", "O"), "C_O": ("C", "O"), "O_C": ("C", "O"), "Fe2": ("Fe", "Fe"),
             "NaCl": ("Na", "Cl"), "ClNa": ("Na", "Cl"), "H2": ("H", "H")}  # fmt: skip
    assert {text: parse_pair(text) for text in forms} == forms
    # compute --pairs takes what show and cube take
    assert main(["compute", "--fast", "--no-progress", "--pairs", "H2", "--store",
                 str(tmp_path)]) == 0  # fmt: skip
    assert Store(tmp_path, FAST).names() == ["H_H"]


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("qc-canvas 0.1")


def test_heavy_pairs_are_announced_with_their_measured_cost(capsys):
    from quantum_canvas.records import SHIPPED_DIR

    shipped = ShippedRecords(SHIPPED_DIR)
    heavy_names = ["Fe_Th", "Lu_Mn", "Th_Th"]
    cost = {name: shipped.get(name).cpu_time_s for name in heavy_names}  # the shipped measurements
    dearest = max(cost, key=cost.get)
    assert min(cost.values()) > HEAVY_CPU_S > shipped.get("C_O").cpu_time_s
    pairs = [("C", "O"), ("Fe", "Th"), ("Lu", "Mn"), ("Th", "Th")]
    heavy = heavy_pairs(pairs, shipped, stored=lambda name: False)
    assert dict(heavy) == cost and [s for _, s in heavy] == sorted(cost.values(), reverse=True)
    warn_if_heavy(pairs, shipped, stored=lambda name: False, shown=1)
    warning = capsys.readouterr().err
    first = f"{dearest} {cost[dearest] / 60:.0f} min"
    assert warning.startswith(f"warning: 3 heavy pairs ({first} and 2 more): ")
    warn_if_heavy(pairs, shipped, stored=lambda name: name != "C_O")  # stored: no cost
    warn_if_heavy(pairs, None, stored=lambda name: False)  # no shipped records: no measurement
    assert capsys.readouterr().err == ""


def test_pairs_shipped_with_the_package_are_not_computed_again(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    import quantum_canvas
    from quantum_canvas.records import SHIPPED_VARIABLE

    from qc_jax.compact import ship

    dummy = Store(Path(quantum_canvas.__file__).parent / "dummy_data" / "store", DEFAULT)
    ship(dummy, tmp_path / "shipped", ["H_H", "H_Li"])
    monkeypatch.setenv(SHIPPED_VARIABLE, str(tmp_path / "shipped"))
    store = tmp_path / "store"
    assert main(["compute", "--pairs", "H2,LiH", "--store", str(store), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "| 0 pairs |" in out and "2 shipped with the package skipped" in out
    assert Store(store, DEFAULT).names() == []


def test_a_new_store_takes_the_free_atoms_of_the_shipped_records(tmp_path, capsys, monkeypatch):
    # The pair is computed against the shipped H atom, not against one computed again (in a new
    # store an atom can reach another state: the Ni atom did, 0.24 eV lower in E0).
    from pathlib import Path

    import quantum_canvas
    from quantum_canvas.records import SHIPPED_VARIABLE

    from qc_jax.compact import ShippedRecords, ship
    from qc_jax.units import HARTREE_EV

    dummy = Store(Path(quantum_canvas.__file__).parent / "dummy_data" / "store", DEFAULT)
    ship(dummy, tmp_path / "shipped", ["H_H"])
    monkeypatch.setenv(SHIPPED_VARIABLE, str(tmp_path / "shipped"))
    store = Store(tmp_path / "store", DEFAULT)
    assert main(["compute", "--pairs", "H2", "--include-shipped", "--store", str(store.root),
                 "--jobs", "1", "--no-progress"]) == 0
    assert "1 free atoms taken from the shipped records" in capsys.readouterr().out
    shipped_atom = ShippedRecords(tmp_path / "shipped").atom("H", DEFAULT.smearing_sigma)
    stored_atom = store.get_atom("H", DEFAULT.smearing_sigma)
    assert stored_atom.cpu_time_s == shipped_atom.cpu_time_s  # copied, not computed
    assert stored_atom.e_ground == shipped_atom.e_ground
    labels = store.get("H", "H").labels  # E_bind = E0(H2) - 2 E(H), the shipped atom's E
    assert labels["binding_energy_ev"] == pytest.approx(
        labels["zero_temperature_energy_ev"] - 2 * shipped_atom.e_ground * HARTREE_EV, abs=1e-9)
