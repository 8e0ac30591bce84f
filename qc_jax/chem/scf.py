"""Spin-restricted Kohn-Sham SCF with Fermi-Dirac smearing and a convergence ladder.

Rungs, tried in order until one converges (each from the given starting density):

1. ``diis``: PySCF's default DIIS.
2. ``damped``: density damping 0.5, level shift 0.25 Ha, DIIS from cycle 8, twice the cycles.
3. ``newton``: second-order SCF (PySCF ``.newton()``) at zero temperature, whose density then
   starts a smeared DIIS run (PySCF's second-order solver does not support smearing).

The last resort, a larger electronic temperature for the whole pair, is taken by
:func:`qc_jax.chem.pair.compute_pair`, since it changes the level of theory.

Inside :func:`time_limit`, every SCF cycle checks the wall clock and raises
:class:`TimeLimitExceeded` once the limit has passed.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from qc_jax.chem.settings import Settings

RUNGS = ("diis", "damped", "newton")

log = logging.getLogger(__name__)


class ScfNotConverged(RuntimeError):
    """No rung of the convergence ladder converged the SCF."""


class TimeLimitExceeded(RuntimeError):
    """An SCF cycle started after the deadline of :func:`time_limit`."""


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """SCF cycles inside the block raise :class:`TimeLimitExceeded` once ``seconds`` of wall
    time have passed (None: no limit; an enclosing earlier deadline still holds)."""
    deadline = _deadline.get()
    if seconds is not None:
        if seconds <= 0:
            raise ValueError(f"time limit must be positive, got {seconds} s")
        ends = time.monotonic() + seconds
        deadline = ends if deadline is None else min(deadline, ends)
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


@dataclass
class ScfResult:
    """A converged smeared RKS calculation and how it converged."""

    mf: object
    """The converged PySCF mean-field object (``mf.e_free``, ``mf.mo_occ``, ...)."""
    rung: str
    """Name of the ladder rung that converged it (one of ``RUNGS``)."""
    cycles: int
    """SCF iterations spent, all rungs tried included."""
    grad_norm: float
    """Norm of the final orbital gradient (a.u.)."""

    @property
    def e_free(self) -> float:
        """Mermin free energy E - sigma S (Ha), the variational quantity with smearing."""
        return float(self.mf.e_free)


def smeared_rks(mol, settings: Settings, sigma: float):
    """A spin-restricted KS object with Fermi-Dirac smearing of width ``sigma`` (Ha).

    ``pyscf.dft.rks.RKS`` is used directly (``dft.RKS`` would switch to ROKS for odd electron
    counts); fractional occupations make the restricted treatment valid for any parity."""
    from pyscf import scf
    from pyscf.dft import rks

    mf = rks.RKS(mol, xc=settings.xc)
    mf.grids.level = settings.grid_level
    mf.conv_tol = settings.conv_tol
    mf.max_cycle = settings.max_cycle
    mf.chkfile = None
    mf.verbose = 0
    return scf.addons.smearing_(mf, sigma=sigma, method="fermi")


def run_scf(mol, settings: Settings, sigma: float, dm0: np.ndarray | None = None) -> ScfResult:
    """Converge a smeared RKS calculation of ``mol`` with the ladder; ``dm0`` (AO density matrix)
    is the starting guess (PySCF's MINAO guess when None). Raises :class:`ScfNotConverged`.

    A warm start from a neighbouring geometry starts at the bottom rung too: in Lu2 and Fe2 the
    cold start needed the Newton rung, while warm-started DIIS converged the later points in 10-25
    cycles, cheaper than Newton (about 23 macro cycles per point)."""
    cycles = 0
    for rung in RUNGS:
        mf, spent = _attempt(rung, mol, settings, sigma, dm0)
        cycles += spent
        if mf.converged:
            grad = mf.get_grad(mf.mo_coeff, mf.mo_occ)
            return ScfResult(mf, rung, cycles, float(np.linalg.norm(grad)))
        log.debug("%s: rung %s not converged after %d cycles", _formula(mol), rung, spent)
    raise ScfNotConverged(
        f"SCF not converged by any rung of {RUNGS} ({cycles} cycles, sigma={sigma} Ha)"
    )


def _attempt(rung: str, mol, settings: Settings, sigma: float, dm0):
    """Run one rung; returns (mean-field object, cycles spent)."""
    counter = _CycleCounter()
    if rung == "newton":
        second_order = smeared_rks(mol, settings, sigma).undo_smearing().newton()
        second_order.callback = counter
        second_order.kernel(dm0)
        dm0 = second_order.make_rdm1()
    mf = smeared_rks(mol, settings, sigma)
    mf.callback = counter
    if rung == "damped":
        mf.damp, mf.level_shift, mf.diis_start_cycle = 0.5, 0.25, 8
        mf.max_cycle = 2 * settings.max_cycle
    mf.kernel(dm0)
    return mf, counter.cycles


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
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitExceeded(f"time limit passed in SCF cycle {self.cycles}")


def bond_slope(result: ScfResult) -> float:
    """d E_free / dR (Ha/Bohr) of a diatomic along z from PySCF's analytic nuclear gradient."""
    grad = result.mf.nuc_grad_method()
    grad.verbose = 0
    g = grad.kernel()
    return float(0.5 * (g[1, 2] - g[0, 2]))
