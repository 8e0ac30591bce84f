"""Frontier levels of spin-resolved Kohn-Sham occupations (numpy only).

One definition serves the labels (``e_homo_ev``, ``e_lumo_ev``, ``e_g_ev``, ``metal_like``) and the
frontier canvas channel. Occupations are per spin-orbital (0..1), arrays [2, nmo] (alpha, beta):

- HOMO: the highest level, over both spins, with occupation above ``FRACTIONAL_FILLING``;
- LUMO: the lowest level, over both spins, with occupation below ``1 - FRACTIONAL_FILLING``;
- gap: LUMO - HOMO, and 0 when a level is fractionally occupied (it is then both the HOMO and
  the LUMO, or the LUMO lies below the HOMO).

A half-filled degenerate set (the pi* of O2 in a restricted calculation) is therefore one frontier
set with gap 0, not two sets split by numerical noise at the Fermi level; a spin-polarised O2
triplet has its HOMO in the alpha pi* and its LUMO in the beta pi*.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

FRACTIONAL_FILLING = 0.01
"""A spin-orbital is fractionally occupied when FRACTIONAL_FILLING < n < 1 - FRACTIONAL_FILLING."""

DEGENERACY_HA = 1e-4
"""Spin-orbitals within this energy (Hartree) of a frontier level belong to its degenerate set."""


class Frontier(NamedTuple):
    """Frontier levels (Hartree; NaN where none) and their degenerate sets, masks [2, nmo]."""

    homo: float
    lumo: float
    homo_set: np.ndarray
    lumo_set: np.ndarray

    @property
    def gap(self) -> float:
        """max(LUMO - HOMO, 0) (Hartree); NaN without a LUMO (no level left in the basis)."""
        return max(self.lumo - self.homo, 0.0) if math.isfinite(self.lumo) else math.nan


def frontier(mo_energy: np.ndarray, mo_occ: np.ndarray) -> Frontier:
    """The frontier levels of energies ``mo_energy`` [2, nmo] (Ha) and occupations ``mo_occ``
    [2, nmo] per spin-orbital (see the module docstring)."""
    energy, occ = np.asarray(mo_energy, float), np.asarray(mo_occ, float)
    if energy.shape != occ.shape or energy.ndim != 2 or energy.shape[0] != 2:
        raise ValueError(f"expected [2, nmo] energies and occupations, got {energy.shape}, "
                         f"{occ.shape}")
    filled, empty = occ > FRACTIONAL_FILLING, occ < 1 - FRACTIONAL_FILLING
    homo = float(energy[filled].max()) if filled.any() else math.nan
    lumo = float(energy[empty].min()) if empty.any() else math.nan
    return Frontier(
        homo,
        lumo,
        filled & (np.abs(energy - homo) < DEGENERACY_HA),
        empty & (np.abs(energy - lumo) < DEGENERACY_HA),
    )


def is_fractional(mo_occ: np.ndarray) -> bool:
    """True if any spin-orbital is fractionally occupied (the ``metal_like`` label)."""
    occ = np.asarray(mo_occ)
    return bool(np.any((occ > FRACTIONAL_FILLING) & (occ < 1 - FRACTIONAL_FILLING)))
