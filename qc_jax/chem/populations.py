"""Mulliken populations resolved by atom, angular momentum l and magnetic number m.

m is the real-spherical-harmonic index about the z axis (the bond axis in the canonical
orientation): m = 0 are sigma functions, |m| = 1 pi, |m| = 2 delta, ... PySCF orders spherical AOs
of a shell m = -l..l, except p shells (px, py, pz = m +1, -1, 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_P_SHELL_M = (1, -1, 0)


@dataclass
class Populations:
    """Mulliken analysis of one density matrix. ``L`` = 1 + the highest l in the basis."""

    charges: np.ndarray
    """[n_atoms] Mulliken charges (e): effective nuclear charge (ECP cores removed) - population."""
    by_l: np.ndarray
    """[n_atoms, L] electron population of each atom per l (e)."""
    by_lm: np.ndarray
    """[n_atoms, L, 2L - 1] population per l and m; m = -l..l at index m + L - 1, zero elsewhere."""


def ao_quantum_numbers(mol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(atom index, l, m) of every AO of a spherical-basis ``mol``, each [nao] int, PySCF order."""
    if mol.cart:
        raise ValueError("m-resolved populations need a spherical basis (mol.cart = False)")
    atoms, ls, ms = [], [], []
    for shell in range(mol.nbas):
        l = mol.bas_angular(shell)
        shell_m = _P_SHELL_M if l == 1 else tuple(range(-l, l + 1))
        for _ in range(mol.bas_nctr(shell)):
            atoms += [mol.bas_atom(shell)] * len(shell_m)
            ls += [l] * len(shell_m)
            ms += list(shell_m)
    return np.array(atoms), np.array(ls), np.array(ms)


def mulliken(mol, dm: np.ndarray) -> Populations:
    """Mulliken populations of the AO density matrix ``dm`` [nao, nao] of ``mol``."""
    gross = np.einsum("ij,ji->i", dm, mol.intor_symmetric("int1e_ovlp"))
    atoms, ls, ms = ao_quantum_numbers(mol)
    n_l = int(ls.max()) + 1
    by_lm = np.zeros((mol.natm, n_l, 2 * n_l - 1))
    np.add.at(by_lm, (atoms, ls, ms + n_l - 1), gross)
    by_l = by_lm.sum(axis=2)
    nuclear = np.array([mol.atom_charge(i) for i in range(mol.natm)], dtype=float)
    return Populations(nuclear - by_l.sum(axis=1), by_l, by_lm)
