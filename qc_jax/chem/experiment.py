"""Experimental equilibrium bond lengths and harmonic wavenumbers of well-known diatomics.

Source: K. P. Huber and G. Herzberg, *Molecular Spectra and Molecular Structure IV. Constants of
Diatomic Molecules* (Van Nostrand Reinhold, 1979), as tabulated in the NIST Chemistry WebBook,
SRD 69 ("Constants of diatomic molecules"); ground states, most abundant isotopologue.
Used to validate the default level of theory (tests/test_chem_validation.py, docs/chemistry.md).
"""

from typing import NamedTuple


class Diatomic(NamedTuple):
    a: str
    b: str
    r_e_ang: float
    """Equilibrium bond length R_e (Angstrom)."""
    omega_e_cm1: float
    """Harmonic wavenumber omega_e (cm^-1)."""


EXPERIMENT: tuple[Diatomic, ...] = (
    Diatomic("H", "H", 0.74144, 4401.21),
    Diatomic("H", "Li", 1.5949, 1405.65),
    Diatomic("Li", "Li", 2.6729, 351.43),
    Diatomic("N", "N", 1.09768, 2358.57),
    Diatomic("C", "O", 1.12832, 2169.81),
    Diatomic("H", "F", 0.91681, 4138.32),
    Diatomic("F", "F", 1.41193, 916.64),
    Diatomic("Na", "Na", 3.0789, 159.12),
    Diatomic("H", "Cl", 1.27455, 2990.95),
    Diatomic("Cl", "Cl", 1.9879, 559.72),
    Diatomic("Cu", "Cu", 2.2197, 266.46),
    Diatomic("I", "I", 2.6663, 214.50),
)
"""Closed-shell ground states only: the restricted protocol cannot describe O2's triplet."""
