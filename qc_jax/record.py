"""``PairRecord``: everything computed for one element pair (light module: numpy only).

A record carries what the canvas renderer and the dataset need without re-running PySCF: the
geometry, the basis/ECP specification (to rebuild the PySCF ``Mole``), the density matrix, the MOs,
the promolecule density matrix, Mulliken populations by atom, l and m, and the labels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qc_jax.elements import atomic_number

SCHEMA_VERSION = 1
"""Version of the record layout; records of another version are recomputed."""

STATUSES = ("ok", "flagged", "failed")
"""``ok``: converged SCF at an optimised bond length. ``flagged``: converged SCF, labels computed,
but the bond search found no regular minimum (``reason`` says why). ``failed``: no converged SCF;
no labels, no arrays, ``reason`` says why."""


def _empty() -> np.ndarray:
    return np.zeros((0,))


@dataclass
class PairRecord:
    """Result of :func:`qc_jax.chem.compute_pair` for one pair. Units: Angstrom, Hartree, e."""

    pair: str
    """Paper-style name ``A_B`` (alphabetical)."""
    symbols: tuple[str, str]
    """Element symbols in geometry order (lower Z first, at z = -R/2)."""
    status: str
    """One of ``STATUSES``."""
    reason: str
    """Why the record is flagged or failed (``""`` when ok)."""
    settings: dict[str, Any]
    """The requested :class:`qc_jax.chem.settings.Settings` as a dict."""
    settings_digest: str
    positions: np.ndarray
    """[2, 3] atom positions (Angstrom), canonical orientation; empty for a failed record."""
    labels: dict[str, float] = field(default_factory=dict)
    """Label name -> value in the unit of ``qc_jax.chem.labels.LABELS`` (NaN where undefined)."""
    basis: dict[str, list[str]] = field(default_factory=dict)
    """Element -> [basis, ecp]: PySCF names or NWChem text; ecp ``""`` when all-electron."""
    charge: int = 0
    cart: bool = False
    dm: np.ndarray = field(default_factory=_empty)
    """[nao, nao] AO density matrix of the neutral pair at R_e (PySCF AO order)."""
    mo_coeff: np.ndarray = field(default_factory=_empty)
    """[nao, nmo] MO coefficients."""
    mo_energy: np.ndarray = field(default_factory=_empty)
    """[nmo] MO energies (Ha)."""
    mo_occ: np.ndarray = field(default_factory=_empty)
    """[nmo] MO occupations (0..2, fractional with smearing)."""
    dm_promolecule: np.ndarray = field(default_factory=_empty)
    """[nao, nao] sum of the free-atom density matrices in the molecular AO basis."""
    mulliken_charges: np.ndarray = field(default_factory=_empty)
    """[2] Mulliken charges (e)."""
    populations_l: np.ndarray = field(default_factory=_empty)
    """[2, L] Mulliken electron populations per atom and l."""
    populations_lm: np.ndarray = field(default_factory=_empty)
    """[2, L, 2L - 1] per atom, l and m (m = -l..l at index m + L - 1; m about the bond axis z)."""
    wall_time_s: float = 0.0
    schema_version: int = SCHEMA_VERSION

    ARRAY_FIELDS = (
        "positions", "dm", "mo_coeff", "mo_energy", "mo_occ", "dm_promolecule",
        "mulliken_charges", "populations_l", "populations_lm",
    )  # fmt: skip

    @property
    def numbers(self) -> np.ndarray:
        """[2] atomic numbers in geometry order."""
        return np.array([atomic_number(s) for s in self.symbols])

    @property
    def bond_length(self) -> float:
        """Bond length (Angstrom); NaN for a failed record."""
        if self.positions.shape != (2, 3):
            return float("nan")
        return float(np.linalg.norm(self.positions[1] - self.positions[0]))

    def mole(self):
        """Rebuild the PySCF ``Mole`` of this record (atoms, geometry, basis, ECPs, AO order)."""
        from pyscf import gto

        from qc_jax.chem.basis_sets import BasisSpec, pyscf_basis

        if self.status == "failed":
            raise ValueError(f"{self.pair}: failed record has no geometry ({self.reason})")
        basis, ecp = {}, {}
        for element, (basis_text, ecp_text) in self.basis.items():
            basis[element], element_ecp = pyscf_basis(BasisSpec(basis_text, ecp_text), element)
            if element_ecp is not None:
                ecp[element] = element_ecp
        return gto.M(
            atom=[
                (s, tuple(p)) for s, p in zip(self.symbols, self.positions.tolist(), strict=True)
            ],
            unit="Angstrom",
            basis=basis,
            ecp=ecp,
            charge=self.charge,
            spin=None,
            cart=self.cart,
            verbose=0,
        )

    def to_parts(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able metadata, arrays) for storage."""
        arrays = {name: np.asarray(getattr(self, name)) for name in self.ARRAY_FIELDS}
        meta = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in self.ARRAY_FIELDS
        }
        meta["symbols"] = list(self.symbols)
        return meta, arrays

    @classmethod
    def from_parts(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> PairRecord:
        """Inverse of :meth:`to_parts`."""
        values = dict(meta, symbols=tuple(meta["symbols"]))
        values.update({name: np.asarray(arrays[name]) for name in cls.ARRAY_FIELDS})
        return cls(**values)
