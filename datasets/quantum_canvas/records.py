"""The pair records behind a config: where the store is, computing what is missing, failures.

The records directory is, in order: the builder argument ``store_dir``, the environment
variable ``QC_CANVAS_STORE``, or ``data/store`` (relative to the working directory). It may be a
store root (holding one folder per level of theory) or one level-of-theory folder of it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from qc_jax.chem.runner import compute_missing
from qc_jax.chem.settings import Settings
from qc_jax.chem.units import HARTREE_EV
from qc_jax.elements import pair_name
from qc_jax.record import PairRecord
from qc_jax.store import Store

DEFAULT_STORE = "data/store"
STORE_VARIABLE = "QC_CANVAS_STORE"


class SettingsMismatchError(ValueError):
    """The records directory holds records of another level of theory than the config's."""


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


def left_out_reason(record: PairRecord) -> str | None:
    """Why a stored record is left out of the datasets, or None if it is kept: a failed pair
    has no labels, and one that converged only at a raised k_B T has labels of another level
    of theory (it stays in the store, flagged)."""
    if record.status == "failed":
        return f"failed: {record.reason}"
    default_sigma_ev = record.settings["smearing_sigma"] * HARTREE_EV
    if record.labels["smearing_sigma_ev"] > default_sigma_ev * (1 + 1e-9):
        return f"raised smearing: {record.reason}"
    return None


def load_records(
    store: Store, pairs: list[tuple[str, str]], jobs: int | None = None, compute: bool = True,
    progress: bool = True, time_limit_s: float | None = None,
) -> tuple[list[PairRecord], dict[str, str]]:
    """The converged records of ``pairs`` (in order), computing missing ones first (with
    ``compute``) in ``jobs`` worker processes (default: all cores; each pair stored as failed
    after ``time_limit_s``), and the left-out pairs: name -> reason (failed SCF, converged only
    at a raised k_B T, no record)."""
    missing = store.missing(pairs)
    if missing and compute:
        print(f"Computing {len(missing)} of {len(pairs)} pair records with PySCF into "
              f"{store.folder} ...", flush=True)
        summary = compute_missing(store, missing, jobs=jobs or os.cpu_count() or 1,
                                  progress=progress, time_limit_s=time_limit_s)
        print(summary.text(), flush=True)
    records, left_out = [], {}
    for a, b in pairs:
        record = store.get(a, b)
        if record is None:
            why = "the computation raised; see compute.log" if compute else "not computed"
            left_out[pair_name(a, b)] = f"no record ({why})"
        elif left_out_reason(record):
            left_out[record.pair] = left_out_reason(record)
        else:
            records.append(record)
    return records, left_out
