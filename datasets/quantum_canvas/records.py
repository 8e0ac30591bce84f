"""The pair records behind a config: where they are, computing what is missing, failures.

A record is taken (:func:`qc_jax.chem.lookup.get_record`) from the records shipped with the
package (:data:`SHIPPED_DIR`, compact form, :mod:`qc_jax.compact`; or the builder argument
``shipped_dir``) when they hold it at the config's level of theory, else from the store; with
``prefer_store`` a record of the store (recomputed locally) replaces a shipped one;
``$QC_CANVAS_SHIPPED`` names another shipped folder. The store is, in order: the builder argument
``store_dir``, the environment variable ``QC_CANVAS_STORE``, or ``data/store`` (relative to the
working directory). It may be a store root (holding one folder per level of theory) or one
level-of-theory folder of it. Pairs in neither are computed with PySCF into the store."""

from __future__ import annotations

import json
import os
from pathlib import Path

from qc_jax.chem.lookup import Lookup, get_record
from qc_jax.chem.runner import compute_missing
from qc_jax.chem.settings import Settings
from qc_jax.compact import ShippedRecords
from qc_jax.elements import pair_name
from qc_jax.record import PairRecord
from qc_jax.store import Store

DEFAULT_STORE = "data/store"
STORE_VARIABLE = "QC_CANVAS_STORE"
SHIPPED_DIR = Path(__file__).parent / "shipped"
"""The records shipped with the package (``qc-canvas ship`` writes them)."""
SHIPPED_VARIABLE = "QC_CANVAS_SHIPPED"
"""Environment variable naming another shipped folder (one that does not exist: none)."""


PAIR_CPU_S = 81.0
"""Mean CPU seconds per pair at the default level of theory (``benchmarks/pair_cost.py``, its
24-pair sample of paper75, 2026-11-29, before the AO cache), for the estimate of
:func:`decide_compute`."""
UNASKED_COMPUTE_CPU_H = 1.0
"""Up to this estimated PySCF time (CPU-hours) missing records are computed unless the builder
is told ``compute=False``; beyond it, only when told ``compute=True``."""


class SettingsMismatchError(ValueError):
    """The records directory holds records of another level of theory than the config's."""


class MissingRecordsError(RuntimeError):
    """Many pairs have no record, and computing them was not asked for (:func:`decide_compute`)."""


def store_root(store_dir: str | os.PathLike | None = None) -> Path:
    """The records directory: ``store_dir``, else ``$QC_CANVAS_STORE``, else ``data/store``."""
    return Path(store_dir or os.environ.get(STORE_VARIABLE) or DEFAULT_STORE)


def open_store(root: str | os.PathLike, settings: Settings) -> Store:
    """The store of ``settings`` under ``root``. If ``root`` is itself a level-of-theory folder
    (it has a ``settings.json``), its settings must be ``settings``.

    Raises:
      SettingsMismatchError: ``root`` is a level-of-theory folder of other settings.
    """
    root = Path(root)
    settings_file = root / "settings.json"
    if settings_file.exists():
        found = json.loads(settings_file.read_text())
        if found["digest"] != settings.digest():
            raise SettingsMismatchError(
                f"records directory {root} was computed with other settings (digest "
                f"{found['digest'][:16]}: {found['settings']}) than this config needs (digest "
                f"{settings.digest()[:16]}: {settings.to_dict()}). Point store_dir (or "
                f"${STORE_VARIABLE}) at the store root {root.parent} or at a folder of the "
                "config's settings.")
        root = root.parent
    return Store(root, settings)


def shipped_records(settings: Settings,
                    shipped_dir: str | os.PathLike | None = None) -> ShippedRecords | None:
    """The shipped records (``shipped_dir``, else ``$QC_CANVAS_SHIPPED``, else
    :data:`SHIPPED_DIR`) if they are of ``settings``, else None (none shipped, or of another
    level of theory)."""
    try:
        shipped = ShippedRecords(shipped_dir or os.environ.get(SHIPPED_VARIABLE) or SHIPPED_DIR)
    except FileNotFoundError:
        return None
    return shipped if shipped.digest == settings.digest() else None


def decide_compute(compute: bool | None, pairs: list[tuple[str, str]], store: Store,
                   shipped: ShippedRecords | None) -> bool:
    """Whether the pairs that have no record (neither shipped nor in ``store``) are computed:
    ``compute`` when given; when None, yes if that takes at most :data:`UNASKED_COMPUTE_CPU_H`
    (estimated at :data:`PAIR_CPU_S` per pair).

    Raises:
      MissingRecordsError: ``compute`` is None and the estimate is larger; the message says how
        many pairs are missing, the estimate, and the two ways on.
    """
    if compute is not None:
        return compute
    shipped_names = set(shipped.names()) if shipped is not None else set()
    missing = [pair_name(a, b) for a, b in pairs
               if pair_name(a, b) not in shipped_names and pair_name(a, b) not in store]
    hours = len(missing) * PAIR_CPU_S / 3600
    if hours <= UNASKED_COMPUTE_CPU_H:
        return True
    raise MissingRecordsError(
        f"{len(missing)} of {len(pairs)} pairs have no record (neither shipped nor in the store "
        f"{store.folder}; for example {', '.join(missing[:3])}): computing them with PySCF takes "
        f"about {hours:.0f} CPU-hours. Build from the {len(pairs) - len(missing)} records there "
        "are with builder_kwargs={'compute': False}, or compute the rest with "
        "builder_kwargs={'compute': True} (resumable; or `qc-canvas compute`).")


def left_out_reason(record: PairRecord) -> str | None:
    """Why a stored record is left out of the datasets, or None if it is kept: a failed pair
    has no labels, and one that converged only at a raised k_B T has labels of another level
    of theory (it stays in the store, flagged)."""
    if record.status == "failed":
        return f"failed: {record.reason}"
    if record.raised_smearing:
        return f"raised smearing: {record.reason}"
    return None


def left_out(lookup: Lookup) -> str | None:
    """Why the pair of a :class:`~qc_jax.chem.lookup.Lookup` is left out of the datasets (no
    record, or :func:`left_out_reason`), or None if it is kept."""
    return lookup.message if lookup.record is None else left_out_reason(lookup.record)


def load_records(
    store: Store, pairs: list[tuple[str, str]], jobs: int | None = None, compute: bool = True,
    progress: bool = True, time_limit_s: float | None = None,
    shipped: ShippedRecords | None = None, prefer_store: bool = False,
) -> tuple[list[PairRecord], dict[str, str]]:
    """The kept records of ``pairs`` (in order; each from ``shipped`` or ``store``, see
    :func:`qc_jax.chem.lookup.get_record`), computing the ones in neither first (with
    ``compute``) in ``jobs`` worker processes (default: all cores; each pair stored as failed
    after ``time_limit_s`` CPU seconds), and the left-out pairs: name -> reason
    (:func:`left_out`)."""
    lookups = {pair_name(a, b): get_record(a, b, store, shipped, prefer_store, compute=False)
               for a, b in pairs}  # fmt: skip
    missing = [(a, b) for a, b in pairs if lookups[pair_name(a, b)].status == "missing"]
    if missing and compute:
        print(f"Computing {len(missing)} of {len(pairs)} pair records with PySCF into "
              f"{store.folder} ...", flush=True)
        summary = compute_missing(store, missing, jobs=jobs or os.cpu_count() or 1,
                                  progress=progress, time_limit_s=time_limit_s, shipped=shipped)
        print(summary.text(), flush=True)
        errors = {lookup.pair: lookup for lookup in summary.outcomes if lookup.record is None}
        lookups.update({pair_name(a, b): errors.get(pair_name(a, b))
                        or get_record(a, b, store, compute=False) for a, b in missing})
    kept = [lookup.record for lookup in lookups.values() if left_out(lookup) is None]
    return kept, {name: left_out(lookup) for name, lookup in lookups.items() if left_out(lookup)}
