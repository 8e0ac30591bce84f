"""Experimental reference data of well-known diatomics: geometry, frequency, spin, bond and
ionisation energies, to validate a level of theory (tests/test_chem_validation.py,
docs/chemistry.md).

Units: R_e in Angstrom, omega_e and omega_e x_e in cm^-1, energies in eV (1 eV = 8065.544 cm^-1).
Ground electronic state of the most abundant isotopologue; the pair is written with the lower
atomic number first (:func:`qc_jax.elements.canonical_order`). A value not tabulated here is NaN.

Sources:

- R_e, omega_e, omega_e x_e, ground-state term (hence ``multiplicity`` = 2S + 1): K. P. Huber and
  G. Herzberg, *Molecular Spectra and Molecular Structure IV. Constants of Diatomic Molecules*
  (Van Nostrand Reinhold, 1979), as tabulated in the NIST Chemistry WebBook, NIST Standard
  Reference Database 69 ("Constants of diatomic molecules").
- D_0 (dissociation energy from v = 0 to ground-state atoms): Huber-Herzberg (1979) where it agrees
  with modern thermochemistry to about 0.01 eV; otherwise the modern value, from 0 K enthalpies of
  formation (Active Thermochemical Tables; B. Ruscic et al., J. Phys. Chem. A 106, 2727 (2002)
  for OH; CO and O2 likewise) and, for LiH, W. C. Stwalley and W. T. Zemke, J. Phys. Chem. Ref.
  Data 22, 87 (1993). Per-molecule provenance is in the comments of :data:`EXPERIMENT`.
- First ionisation energies: NIST Chemistry WebBook, "Gas phase ion energetics data" (S. G. Lias,
  evaluated value). These are *adiabatic* (0-0) values, not vertical ones: where the cation's
  bond length differs clearly from the neutral's (H2, O2, F2, HF, Cl2) the vertical IE lies
  higher, by up to about half an eV (H2), so compare with an IE of the relaxed cation rather
  than with a fixed-geometry (Koopmans or Delta-SCF) one.

Values at the 0.01 eV level differ between compilations (e.g. CO: 11.09 eV in Huber-Herzberg,
11.11 eV from modern thermochemistry); that is far below density-functional errors.
"""

import math
from typing import NamedTuple

CM1_PER_EV = 8065.544
"""Wavenumbers per electronvolt (cm^-1 / eV)."""

NAN = math.nan


class Diatomic(NamedTuple):
    a: str
    """Element symbol of the lighter (lower atomic number) atom."""
    b: str
    """Element symbol of the other atom."""
    r_e_ang: float
    """Equilibrium bond length R_e (Angstrom)."""
    omega_e_cm1: float
    """Harmonic wavenumber omega_e (cm^-1)."""
    multiplicity: int
    """Spin multiplicity 2S + 1 of the ground electronic state (1 singlet, 2 doublet, 3 triplet)."""
    omega_e_x_e_cm1: float = NAN
    """First anharmonicity constant omega_e x_e (cm^-1); NaN where not needed (no D_0)."""
    d0_ev: float = NAN
    """Dissociation energy D_0 from the v = 0 level to ground-state atoms (eV); NaN if unknown."""
    ie_ev: float = NAN
    """First ionisation energy, adiabatic, NIST evaluated (eV); NaN if not tabulated here."""

    @property
    def zpe_cm1(self) -> float:
        """Vibrational zero-point energy G(0) = omega_e / 2 - omega_e x_e / 4 (cm^-1)."""
        return self.omega_e_cm1 / 2 - self.omega_e_x_e_cm1 / 4

    @property
    def d_e_ev(self) -> float:
        """Well depth D_e = D_0 + G(0) (eV), with G(0) from :attr:`zpe_cm1` / 8065.544 cm^-1/eV.
        Electronic-structure dissociation energies (no zero-point motion) compare with this."""
        return self.d0_ev + self.zpe_cm1 / CM1_PER_EV


# fmt: off
EXPERIMENT: tuple[Diatomic, ...] = (
    # Closed-shell set used since the first validation (Huber-Herzberg).
    Diatomic("H", "H", 0.74144, 4401.21, 1, 121.336, 4.4781, 15.42593),
    Diatomic("H", "Li", 1.5949, 1405.65, 1, 23.20, 2.4288),  # D_0: Stwalley-Zemke 1993
    Diatomic("Li", "Li", 2.6729, 351.43, 1, ie_ev=5.1127),
    Diatomic("N", "N", 1.09768, 2358.57, 1, 14.324, 9.759, 15.581),
    Diatomic("C", "O", 1.12832, 2169.81, 1, 13.2883, 11.11, 14.014),  # D_0: ATcT (HH: 11.09)
    Diatomic("H", "F", 0.91681, 4138.32, 1, 89.88, 5.869, 16.03),
    Diatomic("F", "F", 1.41193, 916.64, 1, 11.236, 1.602, 15.697),
    Diatomic("Na", "Na", 3.0789, 159.12, 1),
    Diatomic("H", "Cl", 1.27455, 2990.95, 1, 52.8186, 4.4336, 12.744),
    Diatomic("Cl", "Cl", 1.9879, 559.72, 1, 2.675, 2.479, 11.48),
    Diatomic("Cu", "Cu", 2.2197, 266.46, 1),
    Diatomic("I", "I", 2.6663, 214.50, 1, 0.6147, 1.5424, 9.3074),
    # Open-shell ground states.
    Diatomic("O", "O", 1.20752, 1580.193, 3, 11.981, 5.117, 12.0697),  # X 3Sigma_g-; D_0: ATcT
    Diatomic("N", "O", 1.15077, 1904.20, 2, 14.075, 6.4968, 9.2642),  # X 2Pi
    Diatomic("H", "O", 0.96966, 3737.76, 2, 84.881, 4.413, 13.017),  # X 2Pi; D_0: Ruscic 2002
    Diatomic("C", "N", 1.1718, 2068.59, 2),  # X 2Sigma+
    Diatomic("H", "C", 1.1199, 2858.5, 2),  # X 2Pi
    Diatomic("H", "N", 1.0362, 3282.2, 3),  # X 3Sigma-
    Diatomic("S", "S", 1.8892, 725.65, 3),  # X 3Sigma_g-
    Diatomic("O", "Sc", 1.668, 964.95, 2),  # X 2Sigma+
    # Further closed-shell ground states: main group, ionic, coinage-metal hydrides.
    Diatomic("O", "Si", 1.50974, 1241.55, 1, ie_ev=11.49),
    Diatomic("C", "S", 1.53482, 1285.08, 1),
    Diatomic("B", "F", 1.2626, 1402.1, 1),
    Diatomic("P", "P", 1.8934, 780.77, 1),
    Diatomic("Br", "Br", 2.2811, 325.321, 1, 1.0774, 1.9707, 10.516),
    Diatomic("Li", "F", 1.56386, 910.34, 1),
    Diatomic("Na", "Cl", 2.36080, 366.0, 1),
    Diatomic("Cl", "K", 2.6667, 281.0, 1),
    Diatomic("H", "Cu", 1.46263, 1941.26, 1),
    Diatomic("H", "Ag", 1.6179, 1759.9, 1),
    Diatomic("H", "Au", 1.5236, 2305.01, 1),
)
# fmt: on
"""All reference diatomics. Open-shell ones (``multiplicity`` > 1) need a spin-polarised
protocol; the closed-shell subset is ``[m for m in EXPERIMENT if m.multiplicity == 1]``."""

DISSOCIATION: tuple[Diatomic, ...] = tuple(m for m in EXPERIMENT if not math.isnan(m.d0_ev))
"""The diatomics with an experimental D_0 (and omega_e x_e, so :attr:`Diatomic.d_e_ev`)."""

IONISATION: tuple[Diatomic, ...] = tuple(m for m in EXPERIMENT if not math.isnan(m.ie_ev))
"""The diatomics with an experimental (adiabatic) first ionisation energy."""
