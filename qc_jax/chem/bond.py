"""1-D bond-length optimisation of the Mermin free energy and the harmonic frequency.

With Fermi smearing, PySCF's analytic nuclear gradient is the derivative of the free energy
``e_free`` = E - sigma S (not of ``e_tot``), so ``e_free`` is the curve that is minimised. The
search starts at the GFN2-xTB minimum (:func:`start_geometry`), takes safeguarded Newton steps
(the xTB curvature first, then the secant curvature from the previous analytic gradient, trust
radius, bisection once a minimum is bracketed) inside bounds, and warm-starts every SCF from the
previous density matrix. A curve that still descends at the upper
bound is flagged ``dissociative``; one that still descends at the lower bound ``collapse``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from qc_jax.chem.molecule import diatomic
from qc_jax.chem.scf import ScfNotConverged, ScfResult, bond_slope, run_scf
from qc_jax.chem.settings import Settings
from qc_jax.elements import atomic_number
from qc_jax.units import AMU_AU, BOHR_ANGSTROM, HARTREE_CM1

log = logging.getLogger(__name__)

TRUST_RADIUS = 0.3
"""Largest single step of the bond search at first (Bohr); doubled after each full-length step
in an unchanged direction, up to ``MAX_TRUST_RADIUS``."""
MAX_TRUST_RADIUS = 1.2
FIRST_CURVATURE = 0.5
"""Force-constant guess for the first step when GFN2-xTB gives none (Ha/Bohr^2)."""
STENCIL_MISMATCH_HA = 1e-4
"""Largest difference (Ha) between the free energies of the force constant's two points and
the trapezoid rule of their slopes for points of one state (the rule's own error is about
(2/3) h^3 |d3F/dR3|, 4e-6 Ha for CO at h = 0.01 Bohr). Hg-Th at 0.003 Ha (2026-11-30): 9e-3 Ha, the
two points in states of moments 1.98 and 2.00, 0.25 eV apart (:func:`force_constant`)."""
MOMENT_JUMP = 0.5
"""Consecutive points of the bond search whose spin moments differ in size by more than this
(electrons) belong to different states (:class:`BondSteps`). Lu-Th, annealed from 0.01 Ha: the
first point (moment 0, slope > 0) bounded the bracket from above; every later point (moment
1.1, 0.7 eV lower) had a negative slope, and the search bisected towards the first point's bond
length, never reaching the new state's minimum (2026-11-30)."""
STATE_RESTARTS = 2
"""Most restarts of the bond search on a lower state's curve (:class:`BondSteps`)."""
STEP_HALVINGS = 2
"""A step of the bond search to a bond length where no SCF rung converges is halved, at most this
many times, before the search fails (:func:`optimise_bond`). Cr-Mo (2026-12-06): from its
low-spin state at 1.76 Angstrom (0.6 of the covalent sum), the search's first step, 3.322 to
3.341 Bohr, reached a bond where no rung converged from the warm start, so the search failed,
and the high-spin minimum at 2.85 Angstrom, 1.9 eV higher, was kept; at 3.331 Bohr DIIS
converges in 8 cycles."""


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
    start: BondPoint | np.ndarray | None = None,
    grid_level: int | None = None,
) -> BondPoint:
    """SCF and analytic slope of the pair at bond length ``r`` (Bohr) on ``grid_level``
    (default ``settings.grid_level``). ``start``: a converged nearby point whose density starts
    the SCF, a [2, nao, nao] starting density, or None for a spin-restricted start
    (:func:`qc_jax.chem.scf.restricted_guess`)."""
    mol = diatomic(a, b, r * BOHR_ANGSTROM, settings.basis_map)
    dm0 = start.scf.dm if isinstance(start, BondPoint) else start
    result = run_scf(mol, settings, sigma, dm0, grid_level)
    point = BondPoint(r, result.e_free, bond_slope(result, settings), result)
    log.debug("%s-%s R=%.4f Bohr grid %s e_free=%.8f slope=%+.2e moment=%.3f rung=%s cycles=%d",
              a, b, r, grid_level, point.e_free, point.slope, result.spin_moment, result.rung,
              result.cycles)  # fmt: skip
    return point


def van_der_waals_length(a: str, b: str) -> float:
    """Sum of the van der Waals radii of a and b (Bohr; PySCF's table, NaN where it has none)."""
    from pyscf.data.radii import VDW

    return float(VDW[atomic_number(a)] + VDW[atomic_number(b)])


def search_bounds(a: str, b: str, settings: Settings) -> tuple[float, float, float]:
    """(start, lower bound, upper bound) of the bond search in Bohr: the start is the sum of the
    covalent radii, the bounds 0.5 x that and max(2.5 x that, 1.2 x the sum of vdW radii), but
    at most ``settings.max_bond_angstrom`` (the atoms stay inside the canvas)."""
    from pyscf.data.radii import COVALENT

    start = float(COVALENT[atomic_number(a)] + COVALENT[atomic_number(b)])
    vdw = van_der_waals_length(a, b)
    upper = max(2.5 * start, 1.2 * vdw) if math.isfinite(vdw) else 2.5 * start
    upper = min(upper, settings.max_bond_angstrom / BOHR_ANGSTROM)
    return min(start, upper), 0.5 * start, upper


def start_geometry(a: str, b: str, settings: Settings) -> tuple[float, float, str]:
    """(bond length in Bohr, curvature in Ha/Bohr^2, source) to start the search from: the
    GFN2-xTB minimum and its curvature (tblite; tens of milliseconds), inside the search bounds;
    the sum of covalent radii and :data:`FIRST_CURVATURE` where xTB has no parameters (Z > 86)
    or its SCF fails."""
    covalent, lower, upper = search_bounds(a, b, settings)
    try:
        r, k = _xtb_minimum(a, b, covalent)
    except (ImportError, RuntimeError, ValueError) as error:
        log.debug("%s-%s: no GFN2-xTB start (%s)", a, b, error)
        return covalent, FIRST_CURVATURE, "covalent radii"
    if not (lower < r < upper and k > 0):
        return covalent, FIRST_CURVATURE, "covalent radii"
    return r, k, "GFN2-xTB"


def _xtb_minimum(a: str, b: str, r0: float) -> tuple[float, float]:
    """GFN2-xTB bond length (Bohr) and curvature (Ha/Bohr^2) of the pair, from ``r0``, on one
    OpenMP thread: whether tblite's SCF converges depends on the thread count for a few pairs
    (with two threads 305-314 shipped records counted as without a GFN2-xTB start and long, in
    three runs, against 321 with one, as the records were computed; Bi-Mo, In-Os; 2026-12-06)."""
    from scipy.optimize import minimize_scalar
    from tblite.interface import Calculator
    from threadpoolctl import threadpool_limits

    numbers = np.array([atomic_number(a), atomic_number(b)])
    if numbers.max() > 86:
        raise ValueError("GFN2-xTB has no parameters beyond Rn")

    def energy(r: float) -> float:
        calculator = Calculator("GFN2-xTB", numbers, np.array([[0.0, 0, 0], [0, 0, r]]))
        calculator.set("verbosity", 0)
        return float(calculator.singlepoint().get("energy"))

    with threadpool_limits(limits=1, user_api="openmp"):
        found = minimize_scalar(energy, bracket=(0.9 * r0, 1.1 * r0), tol=1e-6)
        r, h = float(found.x), 0.02
        return r, (energy(r + h) - 2 * found.fun + energy(r - h)) / h**2


@dataclass
class BondSteps:
    """The step rule of :func:`optimise_bond`: safeguarded Newton steps on the bond length
    (Bohr) between ``lower`` and ``upper``, from the points evaluated so far.

    ``curvature`` (Ha/Bohr^2) sets the first step; then the secant of the last two slopes does.
    The bracket (``below``: a negative slope seen there, ``above``: a positive one) turns a
    step that leaves it into a bisection. A point of another spin state (moment N_alpha - N_beta
    differing in size from the last point's by more than :data:`MOMENT_JUMP`) and of lower free
    energy lies on a lower curve: then the bracket and the secant are dropped, and the search
    starts afresh on it, at most :data:`STATE_RESTARTS` times. A jump to a higher state keeps
    them: the bracket then closes on the crossing of the two states instead of oscillating
    between them (Bi-Th, whose fractional moment changed by 0.7-0.9 at every step between 5.13
    and 5.73 Bohr, ran out of steps so; 2026-11-30)."""

    lower: float
    upper: float
    curvature: float
    tolerance: float
    """A Newton step shorter than this (Bohr) ends the search, converged."""
    below: float = -math.inf
    above: float = math.inf
    trust: float = TRUST_RADIUS
    full_step: bool = False
    previous: tuple[float, float, float, float] | None = None
    """(bond length, slope, spin moment, free energy) of the last point."""
    restarts: int = 0

    def next_length(self, r: float, slope: float, moment: float, e_free: float) -> float | str:
        """The bond length (Bohr) to evaluate after the point at ``r`` (slope in Ha/Bohr, spin
        moment in electrons, free energy in Ha), or the search's end: ``""`` (converged),
        ``"dissociative"`` or ``"collapse"``."""
        if (self.previous is not None and self.restarts < STATE_RESTARTS
                and abs(abs(moment) - abs(self.previous[2])) > MOMENT_JUMP
                and e_free < self.previous[3]):
            self.below, self.above, self.previous = -math.inf, math.inf, None
            self.restarts += 1
        if slope < 0:
            self.below = max(self.below, r)
        else:
            self.above = min(self.above, r)
        if self.previous is not None:  # the secant curvature of the last two slopes
            r_before, slope_before, *_ = self.previous
            if self.full_step and slope * slope_before > 0:  # a walk down a steady slope
                self.trust = min(2 * self.trust, MAX_TRUST_RADIUS)
            self.curvature = (slope - slope_before) / (r - r_before)
        if self.curvature > 0:
            step = -slope / self.curvature
            if abs(step) < self.tolerance:
                return ""
        else:  # concave: go downhill as far as trusted
            step = -math.copysign(self.trust, slope)
        step = max(-self.trust, min(self.trust, step))
        r_next = r + step
        if not self.below < r_next < self.above:
            r_next = 0.5 * (self.below + self.above)
        if slope < 0 and r >= self.upper:
            return "dissociative"
        if slope > 0 and r <= self.lower:
            return "collapse"
        r_next = min(max(r_next, self.lower), self.upper)
        self.full_step = abs(step) == self.trust and r_next == r + step
        self.previous = (r, slope, moment, e_free)
        return r_next


def optimise_bond(
    a: str,
    b: str,
    settings: Settings,
    sigma: float,
    start: BondPoint,
    grid_level: int | None = None,
    curvature: float = FIRST_CURVATURE,
) -> BondSearch:
    """Minimise the free energy of pair (a, b) over the bond length on ``grid_level`` (see
    module docstring and :class:`BondSteps`), from the evaluated point ``start`` (it warm-starts
    the next SCF); ``curvature`` (Ha/Bohr^2) is the estimate that sets the first Newton step."""
    _, lower, upper = search_bounds(a, b, settings)
    steps = BondSteps(lower, upper, curvature, settings.bond_tol)
    point, history = start, [start]
    for _ in range(settings.max_bond_steps):
        r_next = steps.next_length(point.r, point.slope, point.scf.spin_moment, point.e_free)
        if isinstance(r_next, str):
            return BondSearch(point, r_next == "", r_next, history)
        point = _stepped(a, b, settings, sigma, point, r_next, grid_level, steps)
        history.append(point)
    return BondSearch(point, False, "max_steps", history)


def _stepped(a: str, b: str, settings: Settings, sigma: float, point: BondPoint, r_next: float,
             grid_level: int | None, steps: BondSteps) -> BondPoint:
    """The point evaluated at ``r_next`` (Bohr), warm-started from ``point``; where no SCF rung
    converges, at the step from ``point`` halved, up to :data:`STEP_HALVINGS` times (the trust
    radius of ``steps`` shrinks with it). Raises :class:`ScfNotConverged` from the last try."""
    for _ in range(STEP_HALVINGS):
        try:
            return evaluate(a, b, r_next, settings, sigma, point, grid_level)
        except ScfNotConverged:
            log.info("%s-%s: SCF at %.3f Bohr not converged; halving the step from %.3f Bohr",
                     a, b, r_next, point.r)
            r_next = 0.5 * (point.r + r_next)
            steps.trust, steps.full_step = abs(r_next - point.r), False
    return evaluate(a, b, r_next, settings, sigma, point, grid_level)


def force_constant(
    a: str, b: str, point: BondPoint, settings: Settings, sigma: float
) -> tuple[float, list[BondPoint]]:
    """d^2 e_free / dR^2 (Ha/Bohr^2) around ``point`` by central differences of the analytic
    slope (step ``settings.freq_step``, grid ``settings.grid_level``); also returns the two
    displaced points.

    Both are warm-started from ``point`` and can still land in different states; then their
    free energies differ by more than the trapezoid rule of their slopes allows
    (:data:`STENCIL_MISMATCH_HA`), and the higher one is converged again from the lower one."""
    h = settings.freq_step
    plus = evaluate(a, b, point.r + h, settings, sigma, point)
    minus = evaluate(a, b, point.r - h, settings, sigma, point)
    if abs(plus.e_free - minus.e_free - h * (plus.slope + minus.slope)) > STENCIL_MISMATCH_HA:
        log.debug("%s-%s: the force constant's points are in different states", a, b)
        if plus.e_free > minus.e_free:
            plus = evaluate(a, b, plus.r, settings, sigma, minus)
        else:
            minus = evaluate(a, b, minus.r, settings, sigma, plus)
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
