"""The level of theory and the numerical settings of a pair calculation, and their hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from qc_jax.chem.basis_sets import DEFAULT_BASIS_MAP

SETTINGS_VERSION = 1
"""Bumped when the meaning of a setting or the computed quantities change, so old records
hash differently and are never mixed with new ones."""


@dataclass(frozen=True)
class Settings:
    """Level of theory and numerical tolerances. Energies in Hartree, lengths in Bohr.

    The defaults are the documented level of theory (docs/chemistry.md): spin-restricted PBE,
    def2-SVP (+ def2 ECPs; see :mod:`qc_jax.chem.basis_sets`), Fermi-Dirac smearing at
    ``smearing_sigma`` = 0.003 Ha (k_B T, about 950 K: small enough that the bonds of closed-shell
    dimers with small gaps, Li2, Na2, Cl2, I2, are not stretched by thermal occupation, which
    0.01 Ha does by up to 0.18 Angstrom).
    """

    xc: str = "pbe"
    basis_map: str = DEFAULT_BASIS_MAP
    smearing_sigma: float = 0.003
    """Electronic temperature k_B T of the Fermi-Dirac smearing (Ha)."""
    raised_smearing_sigmas: tuple[float, ...] = (0.01, 0.05)
    """Last rungs of the convergence ladder: the whole pair is recomputed at these k_B T (Ha)."""
    grid_level: int = 3
    conv_tol: float = 1e-9
    """SCF convergence threshold on the energy (Ha)."""
    max_cycle: int = 60
    bond_tol: float = 1e-3
    """Bond optimisation stops when the Newton step to the minimum is below this (Bohr)."""
    max_bond_steps: int = 25
    freq_step: float = 0.01
    """Finite-difference step of the analytic gradient for the force constant (Bohr)."""

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values (tuples become lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Settings:
        """Inverse of :meth:`to_dict`."""
        values = dict(values)
        values["raised_smearing_sigmas"] = tuple(values["raised_smearing_sigmas"])
        return cls(**values)

    def digest(self) -> str:
        """Hex SHA-256 of the settings (and ``SETTINGS_VERSION``): records are keyed by it."""
        text = json.dumps({"version": SETTINGS_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


DEFAULT = Settings()
"""The documented default level of theory."""

FAST = Settings(basis_map="sto-3g", grid_level=1, conv_tol=1e-8, bond_tol=3e-3, freq_step=0.02)
"""Minimal basis and a coarse grid for tests and demos (chemistry is qualitative only)."""
