"""Mulliken populations resolved by atom, angular momentum l and magnetic number m.

m is the real-spherical-harmonic index about the z axis (the bond axis in the canonical
orientation): m = 0 are sigma functions, |m| = 1 pi, |m| = 2 delta, ... The (atom, l, m) of each
AO are those of :func:`qc_jax.basis.from_pyscf` (``ao_atom``, ``ao_l``, ``ao_m``), the tables the
canvas channels use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Populations:
    """Mulliken analysis of one density matrix. ``L`` = 1 + the highest l in the basis."""

    charges: np.ndarray
    """[n_atoms] Mulliken charges (e): effective nuclear charge (ECP cores removed) - population."""
    by_l: np.ndarray
    """[n_atoms, L] electron population of each atom per l (e)."""
    by_lm: np.ndarray
    """[n_atoms, L, 2L - 1] population per l and m; m = -l..l at index m + L - 1, zero elsewhere."""


def mulliken(mol, dm: np.ndarray) -> Populations:
    """Mulliken populations of the AO density matrix ``dm`` [nao, nao] of a spherical-basis
    ``mol`` (m needs real spherical harmonics: ValueError for ``mol.cart``)."""
    from qc_jax.basis import from_pyscf  # imports JAX (the Basis pytree): on first use only

    if mol.cart:
        raise ValueError("m-resolved populations need a spherical basis (mol.cart = False)")
    gross = np.einsum("ij,ji->i", dm, mol.intor_symmetric("int1e_ovlp"))
    aos = from_pyscf(mol)
    n_l = int(aos.ao_l.max()) + 1
    by_lm = np.zeros((mol.natm, n_l, 2 * n_l - 1))
    np.add.at(by_lm, (aos.ao_atom, aos.ao_l, aos.ao_m + n_l - 1), gross)
    by_l = by_lm.sum(axis=2)
    nuclear = np.array([mol.atom_charge(i) for i in range(mol.natm)], dtype=float)
    return Populations(nuclear - by_l.sum(axis=1), by_l, by_lm)
