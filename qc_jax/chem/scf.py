"""Spin-polarised Kohn-Sham SCF with Fermi-Dirac smearing and a convergence ladder.

Both spins share one Fermi level (PySCF ``smearing_(..., fix_spin=False)``): the spin moment
N_alpha - N_beta is not fixed but relaxes to the lowest free energy reachable from the starting
density, so the spin state is chosen by the starts (:mod:`qc_jax.chem.spin`) and the SCF, not
assumed. A fixed moment would need a guessed integer for every pair, ion and atom; a common Fermi
level is the finite-temperature (grand-canonical in the spin) treatment that also lets metallic
transition-metal dimers take fractional moments.

Rungs, tried in order until one converges (each from the given starting density):

1. ``diis``: PySCF's default DIIS.
2. ``damped``: density damping 0.5, level shift 0.25 Ha, DIIS from cycle 8, twice the cycles.
3. ``newton``: second-order SCF (PySCF ``.newton()``) at zero temperature, whose density then
   starts a smeared DIIS run (PySCF's second-order solver does not support smearing).
4. ``axial``: DIIS on densities averaged over rotations about the bond axis
   (:mod:`qc_jax.chem.axial`): the cylindrically symmetric state, where the others drift between
   unequal occupations of a pi or delta pair at the Fermi level. Last, so that an SCF the other
   rungs converge is never changed by it.

The last resort, a larger electronic temperature for the whole pair, is taken by
:func:`qc_jax.chem.pair.compute_pair`, since it changes the level of theory.

Inside :func:`time_limit`, every SCF cycle checks the CPU time of the process and raises
:class:`TimeLimitExceeded` once the limit has passed (CPU time, not wall time: on a loaded machine
a pair's wall time says more about the other jobs than about the pair).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from qc_jax.chem.axial import axial_average
from qc_jax.chem.fast_numint import fast_numint
from qc_jax.chem.settings import Settings

RUNGS = ("diis", "damped", "newton", "axial")

CHEAP_RUNGS = ("diis", "damped")
"""The rungs a spin start climbs (the Newton rung costs about ten DIIS runs), unless they leave
it below the states converged (:func:`qc_jax.chem.scf.run_scf_below`)."""

log = logging.getLogger(__name__)


class ScfNotConverged(RuntimeError):
    """No rung of the convergence ladder converged the SCF. ``e_free``: the lowest Mermin free
    energy (Ha) of the last cycles of the rungs tried (NaN if unknown): the free energy of a
    density that exists, so a state at most that high is there to be reached."""

    def __init__(self, message: str, e_free: float = float("nan")) -> None:
        super().__init__(message)
        self.e_free = e_free


class TimeLimitExceeded(RuntimeError):
    """An SCF cycle started after the CPU-time deadline of :func:`time_limit`."""


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """SCF cycles inside the block raise :class:`TimeLimitExceeded` once this process has spent
    ``seconds`` of CPU time in it (None: no limit; an enclosing earlier deadline still holds)."""
    deadline = _deadline.get()
    if seconds is not None:
        if seconds <= 0:
            raise ValueError(f"time limit must be positive, got {seconds} s")
        ends = time.process_time() + seconds
        deadline = ends if deadline is None else min(deadline, ends)
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


@dataclass
class ScfResult:
    """A converged smeared UKS calculation and how it converged."""

    mf: object
    """The converged PySCF mean-field object (``mf.e_free``, ``mf.mo_occ`` [2, nmo], ...)."""
    rung: str
    """Name of the ladder rung that converged it (one of ``RUNGS``)."""
    cycles: int
    """SCF iterations spent, all rungs tried included."""
    grad_norm: float
    """Norm of the final orbital gradient (a.u.)."""

    @property
    def e_free(self) -> float:
        """Mermin free energy F = E - sigma S (Ha), the variational quantity with smearing."""
        return float(self.mf.e_free)

    @property
    def e_zero(self) -> float:
        """Zero-temperature estimate E0 = (E + F) / 2 (Ha)."""
        return float(self.mf.e_zero)

    @property
    def dm(self) -> np.ndarray:
        """[2, nao, nao] alpha and beta density matrices."""
        return np.asarray(self.mf.make_rdm1())

    @property
    def spin_moment(self) -> float:
        """N_alpha - N_beta (electrons)."""
        occ = np.asarray(self.mf.mo_occ)
        return float(occ[0].sum() - occ[1].sum())

    @property
    def s_squared(self) -> float:
        """<S^2> of the (fractionally occupied) Kohn-Sham determinant, :func:`spin_square`."""
        return spin_square(self.dm, self.mf.get_ovlp())


def spin_square(dm: np.ndarray, overlap: np.ndarray) -> float:
    """<S^2> = S_z (S_z + 1) + N_beta - tr(P_alpha S P_beta S) of spin density matrices ``dm``
    [2, nao, nao] (AO ``overlap`` [nao, nao]): the UHF formula with occupations as weights, so a
    closed shell gives 0 and a pure triplet 2 plus its spin contamination."""
    n_alpha, n_beta = (float(np.sum(d * overlap)) for d in dm)
    s_z = 0.5 * (n_alpha - n_beta)
    return s_z * (s_z + 1) + n_beta - float(np.sum((dm[0] @ overlap) * (dm[1] @ overlap).T))


def uks(mol, settings: Settings, grid_level: int | None = None):
    """A spin-polarised KS object of ``settings`` (functional, dispersion, density fitting,
    tolerances) on grid level ``grid_level`` (default ``settings.grid_level``), with integer
    aufbau occupations at ``mol.spin``."""
    from pyscf.dft import uks as pyscf_uks

    mf = pyscf_uks.UKS(mol, xc=settings.xc)
    mf._numint = fast_numint()
    if settings.density_fit:
        mf = mf.density_fit()
        # The 3-centre tensor in memory (a few MB for a diatomic): PySCF's default for a pure
        # functional recomputes the 3-centre integrals in every cycle, twice as slow here
        # (IrTl: 5.0-7.2 s against 2.4-2.8 s per SCF on grid level 1, equal energies; timed by
        # hand on 2026-11-29).
        mf.with_df.build()
    if settings.dispersion:
        mf.disp = settings.dispersion
    mf.grids.level = settings.grid_level if grid_level is None else grid_level
    mf.conv_tol = settings.conv_tol
    mf.max_cycle = settings.max_cycle
    mf.chkfile = None
    mf.verbose = 0
    return mf


def smeared_uks(mol, settings: Settings, sigma: float, grid_level: int | None = None,
                fix_spin: bool = False):
    """:func:`uks` with Fermi-Dirac smearing of width ``sigma`` (Ha): one Fermi level for both
    spins, or with ``fix_spin`` one per spin holding ``mol.spin`` fixed."""
    from pyscf import scf

    mf = scf.addons.smearing_(uks(mol, settings, grid_level), sigma=sigma, method="fermi",
                              fix_spin=fix_spin)
    if settings.dispersion:
        _add_dispersion_to_smeared_energies(mf)
    return mf


def _add_dispersion_to_smeared_energies(mf) -> None:
    """PySCF 2.14's smearing ``energy_tot`` (E, F and E0) leaves out the dispersion energy that
    its nuclear gradients include; put it back, so energies and gradients agree."""
    smeared_energy_tot = mf.energy_tot

    def energy_tot(dm=None, h1e=None, vhf=None):
        if "dispersion" not in mf.scf_summary:
            mf.scf_summary["dispersion"] = mf.get_dispersion()
        e_disp = mf.scf_summary["dispersion"]
        mf.e_free = None  # set again by the smeared energy once occupations exist
        e_tot = smeared_energy_tot(dm, h1e, vhf) + e_disp
        if mf.e_free is not None:
            mf.e_free += e_disp
            mf.e_zero += e_disp
        return e_tot

    mf.energy_tot = energy_tot


def restricted_guess(mol) -> np.ndarray:
    """[2, nao, nao] PySCF's MINAO guess shared equally by the spins (a spin-restricted start)."""
    from pyscf import scf

    return np.stack([scf.hf.init_guess_by_minao(mol) / 2] * 2)


def run_scf(mol, settings: Settings, sigma: float, dm0: np.ndarray | None = None,
            grid_level: int | None = None, fix_spin: bool = False,
            rungs: tuple[str, ...] = RUNGS) -> ScfResult:
    """Converge a smeared UKS calculation of ``mol`` from ``dm0`` ([2, nao, nao] alpha and beta
    density matrices: the start decides which spin state is reached; default
    :func:`restricted_guess`) with the ladder (or only its ``rungs``). Raises
    :class:`ScfNotConverged`.

    A warm start from a neighbouring geometry starts at the bottom rung too: in Lu2 and Fe2 the
    cold start needed the Newton rung, while warm-started DIIS converged the later points in 10-25
    cycles, cheaper than Newton (about 23 macro cycles per point)."""
    cycles, lowest = 0, float("nan")
    dm0 = restricted_guess(mol) if dm0 is None else dm0
    for rung in rungs:
        mf, spent = _attempt(rung, mol, settings, sigma, dm0, grid_level, fix_spin)
        cycles += spent
        if mf.converged:
            grad = mf.get_grad(mf.mo_coeff, mf.mo_occ)
            return ScfResult(mf, rung, cycles, float(np.linalg.norm(grad)))
        lowest = float(np.fmin(lowest, mf.e_free))
        log.debug("%s: rung %s not converged after %d cycles", _formula(mol), rung, spent)
    raise ScfNotConverged(
        f"SCF not converged by any rung of {rungs} ({cycles} cycles, sigma={sigma} Ha)", lowest
    )


def run_scf_below(mol, settings: Settings, sigma: float, dm0: np.ndarray, ceiling: float,
                  grid_level: int | None = None, rungs: tuple[str, ...] = RUNGS) -> ScfResult:
    """:func:`run_scf` on ``rungs``, and on the rest of the ladder where those fail with a last
    free energy below ``ceiling`` (Ha): a start that the cheap rungs leave below the lowest state
    converged so far is heading for a lower state, and is not dropped (NiCl: its ferromagnetic
    starts end 0.15-0.22 eV below the restricted state on the DIIS and damped rungs, and the
    Newton rung converges them to the doublet 0.219 eV below it; 2026-12-02). Raises
    :class:`ScfNotConverged`."""
    try:
        return run_scf(mol, settings, sigma, dm0, grid_level, rungs=rungs)
    except ScfNotConverged as error:
        if not (rungs_after(rungs) and error.e_free < ceiling):
            raise
    return run_scf(mol, settings, sigma, dm0, grid_level, rungs=rungs_after(rungs))


def rungs_after(rungs: tuple[str, ...]) -> tuple[str, ...]:
    """The rungs of the ladder (``RUNGS``) above the last of ``rungs``: after the Newton rung
    alone, the axial rung only (the cheap rungs below it have had their own attempt:
    :func:`qc_jax.chem.pair._starts_at_minimum`)."""
    return RUNGS[RUNGS.index(rungs[-1]) + 1:]


def _attempt(rung: str, mol, settings: Settings, sigma: float, dm0, grid_level, fix_spin):
    """Run one rung; returns (mean-field object, cycles spent)."""
    counter = _CycleCounter()
    if rung == "newton":  # integer occupations at the start's moment (rounded to the parity)
        integer_spin = mol.copy()
        integer_spin.spin = nearest_moment(mol, dm0)
        second_order = uks(integer_spin, settings, grid_level).newton()
        second_order.callback = counter
        second_order.kernel(dm0)
        dm0 = second_order.make_rdm1()
    mf = smeared_uks(mol, settings, sigma, grid_level, fix_spin)
    mf.callback = counter
    if rung == "axial":
        dm0 = _average_about_the_axis(mf, dm0)
    if rung == "damped":
        mf.damp, mf.level_shift, mf.diis_start_cycle = 0.5, 0.25, 8
        mf.max_cycle = 2 * settings.max_cycle
    mf.kernel(dm0)
    return mf, counter.cycles


def _average_about_the_axis(mf, dm0: np.ndarray) -> np.ndarray:
    """Make every density of ``mf`` (its SCF cycles, and later its gradients and labels) the
    average over rotations about the bond axis; returns ``dm0`` averaged so."""
    average = axial_average(mf.mol)
    make_rdm1 = mf.make_rdm1

    def make_averaged_rdm1(*args, **kwargs):
        return average(make_rdm1(*args, **kwargs))

    mf.make_rdm1 = make_averaged_rdm1
    return average(dm0)


def nearest_moment(mol, dm: np.ndarray) -> int:
    """The integer N_alpha - N_beta of ``mol``'s parity nearest to that of ``dm`` [2, nao, nao]."""
    overlap = mol.intor_symmetric("int1e_ovlp")
    moment = float(np.sum((dm[0] - dm[1]) * overlap))
    parity = mol.nelectron % 2
    return int(2 * round((moment - parity) / 2) + parity)


def _formula(mol) -> str:
    return "".join(mol.atom_symbol(i) for i in range(mol.natm)) + f" (charge {mol.charge})"


class _CycleCounter:
    """SCF callback counting iterations (PySCF calls it once per cycle) and enforcing the
    deadline of :func:`time_limit`."""

    def __init__(self) -> None:
        self.cycles = 0

    def __call__(self, _env: dict) -> None:
        self.cycles += 1
        deadline = _deadline.get()
        if deadline is not None and time.process_time() > deadline:
            raise TimeLimitExceeded(f"CPU-time limit passed in SCF cycle {self.cycles}")


def bond_slope(result: ScfResult, settings: Settings) -> float:
    """d E_free / dR (Ha/Bohr) of a diatomic along z from PySCF's analytic nuclear gradient
    (dispersion included; grid response with ``settings.grid_response``)."""
    grad = result.mf.nuc_grad_method()
    grad.verbose = 0
    grad.grid_response = settings.grid_response
    g = grad.kernel()
    return float(0.5 * (g[1, 2] - g[0, 2]))
