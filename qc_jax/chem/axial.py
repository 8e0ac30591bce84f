"""Density matrices averaged over rotations about the bond axis: their cylindrically symmetric part.

A diatomic along z (or a free atom at the origin) has a Hamiltonian symmetric under any rotation
about z, but a Kohn-Sham density need not be: where the two components of a pi or delta pair
(m = +-1, +-2) straddle the Fermi level, a density that occupies them unequally splits them, and
the split feeds back. At k_B T = 0.003 Ha DIIS then drifts instead of converging (Ba-Rh at 4.720
Bohr: the beta delta pair 1.6 mHa apart holding 0.787 and 0.861 electrons, the energy still
moving by 1e-6 Ha a cycle after 200 cycles; docs/spin_states_log.md). The average over rotations
keeps only what is symmetric: in real spherical harmonics, the blocks between AOs of equal |m|.

The average over N equally spaced angles is exact for a function whose Fourier components in the
angle have frequencies below N; a density matrix between AOs of |m| <= l_max has frequencies up
to 2 l_max, so N = 2 l_max + 1 rotations suffice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def axial_average(mol) -> Callable[[np.ndarray], np.ndarray]:
    """The map from density matrices [..., nao, nao] of ``mol`` (a PySCF Mole with spherical
    AOs, every atom on the z axis) to their average over rotations about z.

    Raises ValueError for an atom off the z axis or Cartesian AOs."""
    if np.abs(mol.atom_coords()[:, :2]).max() > 1e-10:
        raise ValueError("axial averaging needs every atom on the z axis")
    if mol.cart:
        raise ValueError("axial averaging needs spherical AOs (mol.cart = False)")
    l_max = max(mol.bas_angular(shell) for shell in range(mol.nbas))
    count = 2 * l_max + 1
    rotations = np.stack([_rotation(mol, 2 * np.pi * k / count) for k in range(count)])

    def average(dm: np.ndarray) -> np.ndarray:
        return np.einsum("kij,...jl,kml->...im", rotations, np.asarray(dm), rotations) / count

    return average


def _rotation(mol, angle: float) -> np.ndarray:
    """[nao, nao] rotation by ``angle`` (radians) about z of the real spherical AOs of ``mol``
    (PySCF's order: x, y, z for p shells, m = -l..l otherwise)."""
    from pyscf.symm.Dmatrix import Dmatrix

    rotation = np.zeros((mol.nao, mol.nao))
    offsets = mol.ao_loc_nr()
    for shell in range(mol.nbas):
        block = Dmatrix(mol.bas_angular(shell), angle, 0.0, 0.0, reorder_p=True)
        size = len(block)
        for contraction in range(mol.bas_nctr(shell)):
            start = offsets[shell] + contraction * size
            rotation[start:start + size, start:start + size] = block
    return rotation
