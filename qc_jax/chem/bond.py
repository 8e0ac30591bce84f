"""1-D bond-length optimisation of the Mermin free energy and the harmonic frequency.

With Fermi smearing, PySCF's analytic nuclear gradient is the derivative of the free energy
``e_free`` = E - sigma S (not of ``e_tot``), so ``e_free`` is the curve that is minimised. The
search starts at the sum of covalent radii, takes safeguarded Newton steps (secant curvature from
the previous analytic gradient, trust radius, bisection once a minimum is bracketed) inside bounds,
and warm-starts every SCF from the previous density matrix. A curve that still descends at the upper
bound is flagged ``dissociative``; one that still descends at the lower bound ``collapse``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from qc_jax.chem.molecule import diatomic
from qc_jax.chem.scf import ScfResult, bond_slope, run_scf
from qc_jax.chem.settings import Settings
from qc_jax.chem.units import AMU_AU, BOHR_ANGSTROM, HARTREE_CM1
from qc_jax.elements import atomic_number

log = logging.getLogger(__name__)

TRUST_RADIUS = 0.3
"""Largest single step of the bond search at first (Bohr); doubled after each full-length step
in an unchanged direction, up to ``MAX_TRUST_RADIUS``."""
MAX_TRUST_RADIUS = 1.2
FIRST_CURVATURE = 0.5
"""Force-constant guess for the first step, before any secant is known (Ha/Bohr^2)."""
FIRST_STEP = 0.1
"""Shortest first step (Bohr), so that the first secant curvature is not dominated by noise."""


@dataclass
class BondPoint:
    """The free energy and its slope at one bond length."""

    r: float
    """Bond length (Bohr)."""
    e_free: float
    """Mermin free energy (Ha)."""
    slope: float
    """d e_free / dR (Ha/Bohr), analytic."""
    scf: ScfResult


@dataclass
class BondSearch:
    """Result of :func:`optimise_bond`: the last point and how the search ended."""

    point: BondPoint
    converged: bool
    flag: str = ""
    """``""``, ``"dissociative"``, ``"collapse"`` or ``"max_steps"``."""
    history: list[BondPoint] = field(default_factory=list)

    @property
    def scf_cycles(self) -> int:
        return sum(p.scf.cycles for p in self.history)


def evaluate(
    a: str,
    b: str,
    r: float,
    settings: Settings,
    sigma: float,
    warm: BondPoint | None = None,
) -> BondPoint:
    """SCF and analytic slope of the pair at bond length ``r`` (Bohr). ``warm``: a converged
    nearby point whose density starts the SCF."""
    mol = diatomic(a, b, r * BOHR_ANGSTROM, settings.basis_map)
    dm0 = None if warm is None else warm.scf.mf.make_rdm1()
    result = run_scf(mol, settings, sigma, dm0)
    point = BondPoint(r, result.e_free, bond_slope(result), result)
    log.debug("%s-%s R=%.4f Bohr e_free=%.8f slope=%+.2e rung=%s cycles=%d",
              a, b, r, point.e_free, point.slope, result.rung, result.cycles)  # fmt: skip
    return point


def search_bounds(a: str, b: str) -> tuple[float, float, float]:
    """(start, lower bound, upper bound) of the bond search in Bohr: the start is the sum of the
    covalent radii, the bounds 0.5 x that and max(2.5 x that, 1.2 x the sum of vdW radii)."""
    from pyscf.data.radii import COVALENT, VDW

    za, zb = atomic_number(a), atomic_number(b)
    start = float(COVALENT[za] + COVALENT[zb])
    vdw = float(VDW[za] + VDW[zb])
    upper = max(2.5 * start, 1.2 * vdw) if math.isfinite(vdw) else 2.5 * start
    return start, 0.5 * start, upper


def optimise_bond(
    a: str,
    b: str,
    settings: Settings,
    sigma: float,
    start: BondPoint | None = None,
) -> BondSearch:
    """Minimise the free energy of pair (a, b) over the bond length (see module docstring).
    ``start``: an already evaluated point to start from (it warm-starts the next SCF)."""
    r0, lower, upper = search_bounds(a, b)
    point = start or evaluate(a, b, r0, settings, sigma)
    history = [point]
    below, above = -math.inf, math.inf  # bracket: slope < 0 seen at `below`, > 0 at `above`
    previous: BondPoint | None = None
    trust, full_step = TRUST_RADIUS, False
    for _ in range(settings.max_bond_steps):
        if point.slope < 0:
            below = max(below, point.r)
        else:
            above = min(above, point.r)
        if previous is None:  # no curvature known yet: a guess, and a step long enough for a secant
            step = -math.copysign(max(abs(point.slope) / FIRST_CURVATURE, FIRST_STEP), point.slope)
        else:
            if full_step and point.slope * previous.slope > 0:  # a walk down a steady slope
                trust = min(2 * trust, MAX_TRUST_RADIUS)
            curvature = (point.slope - previous.slope) / (point.r - previous.r)
            if curvature > 0:
                step = -point.slope / curvature
                if abs(step) < settings.bond_tol:
                    return BondSearch(point, True, "", history)
            else:  # concave: go downhill as far as trusted
                step = -math.copysign(trust, point.slope)
        step = max(-trust, min(trust, step))
        r_next = point.r + step
        if not below < r_next < above:
            r_next = 0.5 * (below + above)
        if point.slope < 0 and point.r >= upper:
            return BondSearch(point, False, "dissociative", history)
        if point.slope > 0 and point.r <= lower:
            return BondSearch(point, False, "collapse", history)
        r_next = min(max(r_next, lower), upper)
        full_step = abs(step) == trust and r_next == point.r + step
        previous = point
        point = evaluate(a, b, r_next, settings, sigma, warm=previous)
        history.append(point)
    return BondSearch(point, False, "max_steps", history)


def force_constant(
    a: str, b: str, point: BondPoint, settings: Settings, sigma: float
) -> tuple[float, list[BondPoint]]:
    """d^2 e_free / dR^2 (Ha/Bohr^2) at ``point`` by central differences of the analytic slope
    (step ``settings.freq_step``); also returns the two displaced points."""
    h = settings.freq_step
    plus = evaluate(a, b, point.r + h, settings, sigma, warm=point)
    minus = evaluate(a, b, point.r - h, settings, sigma, warm=point)
    return (plus.slope - minus.slope) / (2 * h), [plus, minus]


def reduced_mass_amu(a: str, b: str) -> float:
    """Reduced mass (atomic mass units) with the mass of each element's most abundant isotope."""
    from pyscf.data.elements import COMMON_ISOTOPE_MASSES

    ma, mb = (COMMON_ISOTOPE_MASSES[atomic_number(s)] for s in (a, b))
    return ma * mb / (ma + mb)


def harmonic_wavenumber(k: float, a: str, b: str) -> float:
    """Harmonic wavenumber omega_e (cm^-1) of force constant ``k`` (Ha/Bohr^2); NaN if k <= 0."""
    if not k > 0:
        return math.nan
    return math.sqrt(k / (reduced_mass_amu(a, b) * AMU_AU)) * HARTREE_CM1
