"""Free-atom references at the level of theory of the pairs (cached per element in a process).

They give the binding energy (E_free(AB) - E_free(A) - E_free(B)) and the promolecule density
matrix (free-atom density matrices placed in the molecular AO basis). The atoms are treated like the
molecules: spin-restricted with Fermi smearing, so open p/d shells are fractionally and spherically
occupied.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from qc_jax.chem.molecule import free_atom
from qc_jax.chem.scf import ScfResult, run_scf
from qc_jax.chem.settings import Settings
from qc_jax.elements import symbol


@dataclass(frozen=True)
class AtomReference:
    """A converged free atom."""

    element: str
    e_free: float
    """Mermin free energy (Ha)."""
    dm: np.ndarray
    """[nao_atom, nao_atom] AO density matrix."""
    scf: ScfResult


@cache
def atom_reference(element: str, settings: Settings, sigma: float) -> AtomReference:
    """Converged free atom of ``element`` at smearing width ``sigma`` (Ha), computed once per
    process. Raises :class:`qc_jax.chem.scf.ScfNotConverged`."""
    result = run_scf(free_atom(symbol(element), settings.basis_map), settings, sigma)
    return AtomReference(symbol(element), result.e_free, result.mf.make_rdm1(), result)


def promolecule_dm(mol, references: tuple[AtomReference, ...]) -> np.ndarray:
    """[nao, nao] block-diagonal density matrix of the free atoms in the AO basis of ``mol``
    (one reference per atom of ``mol``, same order)."""
    dm = np.zeros((mol.nao, mol.nao))
    for (_, _, start, stop), ref in zip(mol.aoslice_by_atom(), references, strict=True):
        dm[start:stop, start:stop] = ref.dm
    return dm
