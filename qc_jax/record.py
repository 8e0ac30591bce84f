"""``PairRecord``: everything computed for one element pair (light module: numpy only).

A record carries what the canvas renderer and the dataset need without re-running PySCF: the
geometry, the basis/ECP specification (:mod:`qc_jax.stored_basis` builds the AOs from it;
:func:`qc_jax.chem.molecule.record_mole` the PySCF ``Mole``), the spin-resolved density matrices
and MOs, the promolecule density matrix, Mulliken populations by atom, l and m, and the labels.

Schema 2 (spin-polarised Kohn-Sham) stores every density matrix and MO array per spin, leading axis
[2] = (alpha, beta), with occupations per spin-orbital (0..1). Schema-1 records (spin-restricted,
occupations 0..2) are still read: :meth:`PairRecord.from_parts` splits them into two equal spins.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qc_jax.elements import atomic_number
from qc_jax.units import HARTREE_EV

SCHEMA_VERSION = 2
"""Version of the record layout written now; :data:`READABLE_SCHEMAS` are read."""
READABLE_SCHEMAS = (1, 2)

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
    """[2, nao, nao] AO density matrices of the alpha and beta electrons of the neutral pair at
    R_e (PySCF AO order); the total density matrix is ``dm.sum(0)``, the spin density matrix
    ``dm[0] - dm[1]``."""
    mo_coeff: np.ndarray = field(default_factory=_empty)
    """[2, nao, nmo] MO coefficients per spin."""
    mo_energy: np.ndarray = field(default_factory=_empty)
    """[2, nmo] MO energies per spin (Ha)."""
    mo_occ: np.ndarray = field(default_factory=_empty)
    """[2, nmo] occupations per spin-orbital (0..1, fractional with smearing)."""
    dm_promolecule: np.ndarray = field(default_factory=_empty)
    """[nao, nao] sum of the free-atom density matrices in the molecular AO basis."""
    mulliken_charges: np.ndarray = field(default_factory=_empty)
    """[2] Mulliken charges (e)."""
    populations_l: np.ndarray = field(default_factory=_empty)
    """[2, L] Mulliken electron populations per atom and l."""
    populations_lm: np.ndarray = field(default_factory=_empty)
    """[2, L, 2L - 1] per atom, l and m (m = -l..l at index m + L - 1; m about the bond axis z)."""
    wall_time_s: float = 0.0
    """Wall time of :func:`qc_jax.chem.compute_pair` (s), free atoms computed for it included."""
    cpu_time_s: float = 0.0
    """CPU time of the pair itself (s): free atoms excluded (each has its own)."""
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
    def dm_total(self) -> np.ndarray:
        """[nao, nao] total (alpha + beta) density matrix."""
        return self.dm.sum(axis=0)

    @property
    def raised_smearing(self) -> bool:
        """Whether the pair converged only at a k_B T above its settings' (labels of another
        level of theory: flagged, and left out of the datasets)."""
        if self.status == "failed":
            return False
        default_sigma_ev = self.settings["smearing_sigma"] * HARTREE_EV
        return self.labels["smearing_sigma_ev"] > default_sigma_ev * (1 + 1e-9)

    @property
    def retryable(self) -> bool:
        """Failed, or converged only at a raised k_B T: what ``qc-canvas compute --retry-failed``
        computes again."""
        return self.status == "failed" or self.raised_smearing

    @property
    def bond_length(self) -> float:
        """Bond length (Angstrom); NaN for a failed record."""
        if self.positions.shape != (2, 3):
            return float("nan")
        return float(np.linalg.norm(self.positions[1] - self.positions[0]))

    def to_parts(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able metadata, arrays) for storage."""
        meta, arrays = _split_fields(self)
        meta["symbols"] = list(self.symbols)
        return meta, arrays

    @classmethod
    def from_parts(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> PairRecord:
        """Inverse of :meth:`to_parts`; a schema-1 (spin-restricted) record is split into two
        equal spins and comes back as schema 2."""
        values = dict(meta, symbols=tuple(meta["symbols"]))
        values.update({name: np.asarray(arrays[name]) for name in cls.ARRAY_FIELDS})
        if values.get("schema_version") == 1:
            values.update(_split_restricted(values), schema_version=SCHEMA_VERSION)
        return cls(**values)


def _split_restricted(values: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per-spin arrays of a spin-restricted (schema 1) record: each spin holds half the density
    and the occupations, and the same MOs."""
    if values["dm"].size == 0:  # a failed record has no arrays
        return {}
    return {
        "dm": np.stack([values["dm"] / 2] * 2),
        "mo_coeff": np.stack([values["mo_coeff"]] * 2),
        "mo_energy": np.stack([values["mo_energy"]] * 2),
        "mo_occ": np.stack([values["mo_occ"] / 2] * 2),
    }


@dataclass
class AtomRecord:
    """A free atom at the level of theory of the pairs (:mod:`qc_jax.chem.atoms`), kept in the
    store so every worker, run and Beam job computes it once. Energies in Hartree."""

    element: str
    sigma: float
    """Electronic temperature k_B T of the Fermi smearing (Ha)."""
    status: str
    """``ok`` or ``failed`` (no converged SCF at ``sigma``; ``reason`` says why)."""
    reason: str
    settings_digest: str
    e_tot: float = float("nan")
    """Kohn-Sham total energy E at the smeared occupations."""
    e_free: float = float("nan")
    """Mermin free energy F = E - sigma S."""
    e_zero: float = float("nan")
    """Zero-temperature estimate E0 = (E + F) / 2."""
    e_integer: float = float("nan")
    """Energy of the zero-temperature UKS with integer aufbau occupations at the same moment
    (non-spherical for open p and d shells); NaN if it did not converge."""
    e_ground: float = float("nan")
    """The atom's energy in binding energies: the lower of ``e_zero`` and ``e_integer``."""
    spin_moment: float = float("nan")
    """N_alpha - N_beta (electrons)."""
    s_squared: float = float("nan")
    """<S^2> of the Kohn-Sham determinant (fractional occupations included)."""
    path: str = ""
    """How it converged: the start moments tried and the sigma ladder, in words."""
    dm: np.ndarray = field(default_factory=_empty)
    """[2, nao_atom, nao_atom] alpha and beta AO density matrices."""
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0

    ARRAY_FIELDS = ("dm",)

    def to_parts(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able metadata, arrays) for storage."""
        return _split_fields(self)

    @classmethod
    def from_parts(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> AtomRecord:
        """Inverse of :meth:`to_parts`."""
        return cls(**meta, **{name: np.asarray(arrays[name]) for name in cls.ARRAY_FIELDS})


def promolecule_dm(atoms: tuple[AtomRecord, ...]) -> np.ndarray:
    """[nao, nao] spin-summed density matrix of the free ``atoms`` placed block-diagonally in
    the AO basis of the molecule made of them, in their order."""
    from scipy.linalg import block_diag

    return block_diag(*(atom.dm.sum(axis=0) for atom in atoms))


def _split_fields(record) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(metadata, arrays) of a record dataclass whose ``ARRAY_FIELDS`` are its arrays."""
    arrays = {name: np.asarray(getattr(record, name)) for name in record.ARRAY_FIELDS}
    meta = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)
            if f.name not in record.ARRAY_FIELDS}  # fmt: skip
    return meta, arrays
