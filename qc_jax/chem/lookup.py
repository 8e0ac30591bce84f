"""A pair's record wherever it is: shipped with the package, in the store, or computed now.

One function, :func:`get_record`, and one result, :class:`Lookup`, for every caller: the command
line (``qc-canvas show``), the runner's worker processes (:mod:`qc_jax.chem.runner`), the dataset
builder and its Beam work items (:mod:`quantum_canvas.records`). A pair without a usable record is
never an exception: the lookup says why (``status`` and ``message``), and each caller decides what
that means for it (the command line stops, a dataset leaves the pair out and lists it).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np

from qc_jax.compact import ShippedRecords, seed_atoms
from qc_jax.elements import pair_name
from qc_jax.record import PairRecord
from qc_jax.store import Store
from qc_jax.units import HARTREE_EV

SOURCES = ("shipped", "store", "computed")
"""Where a found record came from (``Lookup.source``)."""


@dataclass(frozen=True)
class Lookup:
    """The outcome of looking up (and perhaps computing) one pair's record."""

    pair: str
    status: str
    """The record's status (``ok``, ``flagged``, ``failed``); ``missing`` if there is no record
    and none was computed; ``error`` if computing it raised (nothing was stored)."""
    source: str = ""
    """One of :data:`SOURCES`; empty without a record."""
    message: str = ""
    """The record's reason (why it is flagged or failed), or why there is no record."""
    record: PairRecord | None = None
    elapsed_s: float = 0.0
    """Wall seconds this lookup spent computing (0 for a record that was found)."""

    @property
    def converged(self) -> bool:
        """Whether there is a record with labels (``ok`` or ``flagged``)."""
        return self.status in ("ok", "flagged")

    def line(self) -> str:
        """One log line: pair, status, bond length, binding energy, rung, times, message."""
        labels = self.record.labels if self.record is not None else {}
        wall = self.record.wall_time_s if self.record is not None else self.elapsed_s
        cpu = self.record.cpu_time_s if self.record is not None else math.nan
        rung = labels.get("scf_rung", math.nan)
        return (f"{self.pair:<6} {self.status:<7} R={labels.get('distance_ang', math.nan):.4f} A "
                f"E_bind={labels.get('binding_energy_ev', math.nan):.3f} eV"
                + ("" if math.isnan(rung) else f" rung={int(rung)}")
                + f" {wall:.1f} s (cpu {cpu:.1f} s without new atoms)"
                + (f"  {self.message}" if self.message else ""))

    def without_record(self) -> Lookup:
        """This lookup without its record (what a run summary keeps of thousands of pairs)."""
        return dataclasses.replace(self, record=None)


def get_record(
    a: str,
    b: str,
    store: Store,
    shipped: ShippedRecords | None = None,
    prefer_store: bool = False,
    compute: bool = True,
    retry_failed: bool = False,
    time_limit_s: float | None = None,
    announce: bool = False,
    recompute: bool = False,
    start: tuple[float, np.ndarray] | None = None,
) -> Lookup:
    """The record of pair (a, b): the ``shipped`` one, else the ``store``'s (with
    ``prefer_store`` the other way round), else (with ``compute``) computed at the store's
    settings and stored, with a line in the store's log. A failed record, or one converged only
    at a raised k_B T, counts as missing with ``retry_failed``. The pair's lock is held while
    computing, and a record that another process stored meanwhile is taken, not recomputed. An
    exception while computing gives status ``error`` and is not stored (a rerun retries the
    pair); one past ``time_limit_s`` CPU seconds is a failed record
    (:func:`qc_jax.chem.pair.compute_pair`). With ``announce``, a line is printed before a
    computation starts. With ``recompute`` the pair is computed even if a record exists (after a
    fix of the procedure); a converged stored record (else the shipped one) is replaced only by
    a converged one, and not by one of higher free energy at the same k_B T (:func:`_worse`); a
    kept record is stored, referred to the store's free atoms
    (:func:`qc_jax.chem.pair.refer_to_atoms`), so `qc-canvas ship --replace` ships the lower. A pair
    computed here takes the free atoms of ``shipped`` where the store lacks them
    (:func:`qc_jax.compact.seed_atoms`). ``start``: a state to start its search from (bond length
    in Bohr, [2, nao, nao] density; :func:`qc_jax.chem.pair.compute_pair`)."""
    name = pair_name(a, b)
    sources = [("store", store.get)] + ([("shipped", shipped.get)] if shipped else [])
    for source, get in sources if prefer_store else sources[::-1]:
        record = get(name)
        if record is not None and not (retry_failed and record.retryable) and not recompute:
            return _found(record, source)
    if not compute:
        return Lookup(name, "missing", message="no record (not computed)")
    from qc_jax.chem.pair import compute_pair, refer_to_atoms

    wall_start = time.perf_counter()
    with store.lock(a, b):
        stored = store.get(a, b)
        if stored is not None and not (retry_failed and stored.retryable) and not recompute:
            return _found(stored, "store")
        if shipped is not None:
            seed_atoms(store, shipped, (a, b))
            stored = stored if stored is not None or not recompute else shipped.get(name)
        if announce:
            print(f"Computing {name} with PySCF (optimised bond, labels) ...", flush=True)
        try:
            record = compute_pair(a, b, store.settings, time_limit_s, store, start)
            kept = stored is not None and _worse(record, stored)
            if kept:
                stored = refer_to_atoms(stored, store)
            store.put(stored if kept else record)
        except Exception as error:  # reported, not stored: the pair is retried by the next run
            lookup = Lookup(name, "error", message=f"no record (the computation raised "
                            f"{type(error).__name__}: {error})",
                            elapsed_s=time.perf_counter() - wall_start)
        else:
            elapsed_s = time.perf_counter() - wall_start
            lookup = dataclasses.replace(_found(record, "computed"), elapsed_s=elapsed_s)
            if kept:
                higher = _free_energy_ev(record) - _free_energy_ev(stored)
                detail = f", free energy {higher:+.3f} eV" if math.isfinite(higher) else ""
                lookup = dataclasses.replace(_found(stored, "store"), elapsed_s=elapsed_s, message=(
                    f"kept: computed again it was {record.status} ({record.reason}){detail}"))
    store.append_log(lookup.line())
    return lookup


def _worse(record: PairRecord, stored: PairRecord) -> bool:
    """Whether ``record``, computed again, is worse than the ``stored`` one: failed or at a
    raised k_B T where the stored one is neither; or, at the same k_B T, of higher Mermin free
    energy (by more than ``SAME_STATE_HA``), or of the same free energy but flagged where the
    stored one is ok. A recomputation that reached a higher state (Hg_Th, 2026-11-30: +1.04 eV,
    after the default k_B T had failed and the pair was annealed from 0.01 Ha) keeps the lower
    one, and one whose ion SCF failed this time (Th_Xe, 2026-11-30) keeps the ionisation energy."""
    from qc_jax.chem.spin import SAME_STATE_HA

    if record.retryable or stored.retryable:
        return record.retryable and not stored.retryable
    if record.labels["smearing_sigma_ev"] != stored.labels["smearing_sigma_ev"]:
        return False
    higher_ha = (_free_energy_ev(record) - _free_energy_ev(stored)) / HARTREE_EV
    flagged_anew = record.status == "flagged" and stored.status == "ok"
    return higher_ha > SAME_STATE_HA or (flagged_anew and higher_ha >= -SAME_STATE_HA)


def _free_energy_ev(record: PairRecord) -> float:
    return record.labels.get("mermin_free_energy_ev", math.nan)


def _found(record: PairRecord, source: str) -> Lookup:
    return Lookup(record.pair, record.status, source, record.reason, record)
