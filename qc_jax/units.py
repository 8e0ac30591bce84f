"""Unit conversions, the one source for every module (internal units are PySCF's atomic units:
Bohr, Hartree, electron masses, e Bohr)."""

BOHR_ANGSTROM = 0.52917721092
"""Angstrom per Bohr (PySCF's value, so geometries round-trip exactly through ``Mole``)."""
HARTREE_EV = 27.211386245988
"""eV per Hartree (CODATA 2018)."""
HARTREE_CM1 = 219474.6313702
"""Wavenumbers (cm^-1) per Hartree."""
AMU_AU = 1822.888486209
"""Electron masses per atomic mass unit."""
DEBYE_AU = 2.541746473
"""Debye per atomic unit of dipole moment (e Bohr)."""
