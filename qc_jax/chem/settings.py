"""The level of theory and the numerical settings of a pair calculation, and their hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from qc_jax.chem.basis_sets import DEFAULT_BASIS_MAP

SETTINGS_VERSION = 2
"""Bumped when the meaning of a setting or the computed quantities change, so old records
hash differently and are never mixed with new ones (1: spin-restricted PBE, no dispersion;
2: spin-polarised, D3(BJ), spin-polarised free atoms)."""


@dataclass(frozen=True)
class Settings:
    """Level of theory and numerical tolerances. Energies in Hartree, lengths in Bohr.

    The defaults are the documented level of theory (docs/chemistry.md): spin-polarised PBE-D3(BJ),
    def2-SVP (+ def2 ECPs; see :mod:`qc_jax.chem.basis_sets`), Fermi-Dirac smearing at
    ``smearing_sigma`` = 0.003 Ha with one Fermi level common to both spins (k_B T, about 950 K:
    small enough that the bonds of closed-shell dimers with small gaps, Li2, Na2, Cl2, I2, are
    not stretched by thermal occupation, which 0.01 Ha does by up to 0.18 Angstrom).
    """

    xc: str = "pbe"
    dispersion: str = "d3bj"
    """PySCF ``mf.disp`` name of the dispersion correction (pyscf-dispersion); "" for none."""
    basis_map: str = DEFAULT_BASIS_MAP
    density_fit: bool = True
    """Coulomb term by density fitting (RI-J, PySCF's default auxiliary basis)."""
    smearing_sigma: float = 0.003
    """Electronic temperature k_B T of the Fermi-Dirac smearing (Ha)."""
    raised_smearing_sigmas: tuple[float, ...] = (0.01, 0.05)
    """Last rungs of the convergence ladder: the whole pair is recomputed at these k_B T (Ha)."""
    atom_sigma_path: tuple[float, ...] = (0.05, 0.02, 0.01)
    """Free atoms are converged at these k_B T first (Ha), each warm-starting the next, down to
    the pair's k_B T (the atoms' own convergence path; it never changes a pair's k_B T)."""
    grid_level: int = 2
    """PySCF DFT grid level of the final bond lengths, the force constant and every label
    (level 2 vs 3, measured on 2026-11-29: Cs2 R_e equal to 1e-4 Angstrom, omega_e to 0.3 %;
    docs/chemistry.md)."""
    search_grid_level: int = 1
    """PySCF grid level of the bond search; the last bond lengths, the force constant and every
    label are computed on ``grid_level``."""
    grid_response: bool = True
    """Nuclear gradients include the response of the atom-centred grid (exact derivatives of
    the grid energy: smooth force constants of soft modes)."""
    conv_tol: float = 1e-9
    """SCF convergence threshold on the energy (Ha)."""
    max_cycle: int = 60
    bond_tol: float = 5e-3
    """The bond search on the search grid stops when its Newton step is below this (Bohr); the
    final grid's minimum is then one Newton step from the force constant's two points (within
    ``freq_step``), exact to second order."""
    max_bond_steps: int = 25
    max_bond_angstrom: float = 7.0
    """Longest bond the search may reach (Angstrom): both atoms stay at least 0.5 Angstrom
    inside the default canvas box (8 Angstrom wide); a pair still descending there is
    flagged ``dissociative``."""
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
        for name in ("raised_smearing_sigmas", "atom_sigma_path"):
            values[name] = tuple(values[name])
        return cls(**values)

    def digest(self) -> str:
        """Hex SHA-256 of the settings (and ``SETTINGS_VERSION``): records are keyed by it."""
        text = json.dumps({"version": SETTINGS_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


DEFAULT = Settings()
"""The documented default level of theory."""

FAST = Settings(basis_map="sto-3g", grid_level=1, search_grid_level=1, conv_tol=1e-8,
                bond_tol=1e-2, freq_step=0.02)
"""Minimal basis and a coarse grid for tests and demos (chemistry is qualitative only)."""
