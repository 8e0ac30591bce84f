"""PySCF electronic structure of diatomics: SCF with smearing, bond-length optimisation, labels.

``compute_pair`` and the settings are imported on first use, so ``import qc_jax.chem`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qc_jax.chem.pair import compute_pair
    from qc_jax.chem.settings import DEFAULT, FAST, Settings
    from qc_jax.record import PairRecord

__all__ = ["DEFAULT", "FAST", "PairRecord", "Settings", "compute_pair"]

_HOMES = {
    "compute_pair": "qc_jax.chem.pair",
    "DEFAULT": "qc_jax.chem.settings",
    "FAST": "qc_jax.chem.settings",
    "Settings": "qc_jax.chem.settings",
    "PairRecord": "qc_jax.record",
}


def __getattr__(name: str):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'qc_jax.chem' has no attribute {name!r}")
