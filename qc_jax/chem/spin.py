"""Starting densities that decide which spin state an SCF reaches.

With one Fermi level for both spins (:mod:`qc_jax.chem.scf`) the spin moment relaxes freely, but
only to the nearest stable state: a start with alpha = beta stays spin-restricted exactly. So each
calculation is started from every start that can lead to a different ground state, and the lowest
free energy is kept:

- molecules (:func:`molecule_starts`): ``restricted`` (the spin-averaged promolecule),
  ``ferromagnetic`` (the spin-polarised free atoms with parallel moments) and, for homonuclear
  dimers of open-shell atoms, ``antiferromagnetic`` (the moment of atom B reversed: the
  broken-symmetry start; in heteronuclear pairs, measured on B_V, it reached the ferromagnetic
  state again); the last two also with the atoms turned (:data:`QUARTER_TURNS`) where that
  changes an atom's density; and, where the lowest of these has an odd electron count and no
  moment, the ``polarised`` start from its orbitals (:func:`polarised_start`);
- ions (:func:`ion_starts`): the neutral's orbitals with one electron removed from the top
  (cation), or added at the bottom (anion), of the alpha or of the beta levels: one start for a
  closed shell (the two are mirror images), two for an open shell (moment M - 1 and M + 1).

Starts climb the cheap rungs of the convergence ladder (:func:`converge_starts`: molecules DIIS
and damped DIIS, ions DIIS): a start they cannot converge is dropped, unless none converges (then
they climb the whole ladder in turn until one converges; the Newton rung costs about ten DIIS
runs: 177 cycles, 37 s, for an anion start of BV whose other start converged in 26 DIIS cycles;
2026-11-29; an ion that no start converges is annealed: :func:`annealed_starts`), or the free
energy it was left at lies below every converged start's: then it climbs the rest of the ladder,
as it is on its way to a lower state (NiCl's doublet, :func:`qc_jax.chem.scf.run_scf_below`).
Results are stored with N_alpha >= N_beta (:func:`alpha_majority`): a state and its spin-flipped
image are the same state.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from scipy.linalg import block_diag

from qc_jax.chem.scf import (
    CHEAP_RUNGS,
    ScfNotConverged,
    ScfResult,
    nearest_moment,
    run_scf,
    rungs_after,
)
from qc_jax.chem.settings import Settings
from qc_jax.record import AtomRecord

SAME_STATE_HA = 1e-5
"""Two SCF solutions within this free energy (Ha) and moment (1e3 x this) are the same state."""


QUARTER_TURNS = {"x": (0.0, math.pi / 2, 0.0), "y": (-math.pi / 2, math.pi / 2, math.pi / 2)}
"""Axis of the atom brought onto the bond axis (z) -> Euler angles (z-y-z, radians) of the turn:
a quarter turn about y, and one about x. A smeared free atom whose open shell broke its spherical
symmetry (Ti, Fe, Co, Ni, Ta, Th at PBE/def2-SVP and 0.003 Ha; every other shipped atom is
spherical to 1e-5) has its holes in particular d orbitals, set by rounding, and the SCF of the
molecule mostly keeps their orientation to the bond (sigma, pi or delta). Where a turn changes
an atom's density, the ferromagnetic and antiferromagnetic starts are tried with both atoms
turned too: for Fe, Co, Ni, Ta and Th (Ti's density has cubic symmetry: the turns change it by
1e-4). SCFs by hand at the R_e of the lower states that ``benchmarks/fresh_atom_recheck.py
Ni`` found, from the shipped Ni atom (its beta hole is its d_z2, along the bond): the turned
ferromagnetic starts reach the lower state that the unturned one missed in MgNi (0.39 eV lower
in F), NiPo (0.38), NiI (0.23), HgNi (0.10) and NiW (1.35), not in NiCl and CdNi (2026-12-02).
NiCl's doublet (0.22 eV lower) is reached from every ferromagnetic start, turned or not, on the
Newton rung only, which they climb since the cheap rungs leave them below the restricted state
(:func:`converge_starts`)."""

RESTRICTED = "restricted"
"""Name of the spin-restricted start: the atoms' densities summed, shared equally by the spins."""

TURNED = "turned"
"""Word in the names of the starts from turned atoms (``"ferromagnetic, turned x"``)."""

TURN_CHANGE = 1e-3
"""A turn that changes no element of an atom's density matrices by more than this leaves its
starts as they are (a spherical atom)."""


def molecule_starts(mol, atoms: tuple[AtomRecord, AtomRecord]) -> dict[str, np.ndarray]:
    """Start name -> [2, nao, nao] alpha and beta density matrices of the diatomic ``mol`` from
    its free atoms (same order as the atoms of ``mol``; spherical AOs, as the turns need)."""
    blocks = [(start, stop) for _, _, start, stop in mol.aoslice_by_atom()]

    def placed(atom_dms: list[np.ndarray], spins_b: tuple[int, int]) -> np.ndarray:
        dm = np.zeros((2, mol.nao, mol.nao))
        for (start, stop), atom_dm, spins in zip(blocks, atom_dms, ((0, 1), spins_b),
                                                 strict=True):
            dm[:, start:stop, start:stop] = atom_dm[list(spins)]
        return dm

    homonuclear = atoms[0].element == atoms[1].element
    ferromagnetic = placed([atom.dm for atom in atoms], (0, 1))
    starts = {RESTRICTED: np.stack([ferromagnetic.sum(0) / 2] * 2)}
    if not any(atom.spin_moment > 0.5 for atom in atoms):
        return starts
    for turn, angles in {"": None, **QUARTER_TURNS}.items():
        dms = [atom.dm if angles is None else turned(mol, i, atom.dm, angles)
               for i, atom in enumerate(atoms)]
        if angles is not None and all(np.abs(dm - atom.dm).max() < TURN_CHANGE
                                      for dm, atom in zip(dms, atoms, strict=True)):
            continue
        suffix = f", {TURNED} {turn}" if turn else ""
        starts["ferromagnetic" + suffix] = placed(dms, (0, 1))
        if homonuclear:
            starts["antiferromagnetic" + suffix] = placed(dms, (1, 0))
    return starts


def turned(mol, atom: int, dm: np.ndarray, angles: tuple[float, float, float]) -> np.ndarray:
    """[..., n, n] density matrices ``dm`` of atom ``atom`` of ``mol`` (its n spherical AOs, in
    PySCF order) turned by the rotation R of Euler ``angles`` (z-y-z, radians): the density of
    the result at r is that of ``dm`` at R^T r."""
    from pyscf.symm.Dmatrix import Dmatrix

    if mol.cart:
        raise ValueError("turning an atom's density needs spherical AOs (mol.cart is True)")
    shells = [shell for shell in range(mol.nbas) if mol.bas_atom(shell) == atom]
    rotation = block_diag(*[Dmatrix(mol.bas_angular(shell), *angles, reorder_p=True)
                            for shell in shells for _ in range(mol.bas_nctr(shell))])
    return rotation @ dm @ rotation.T


def polarised_start(mf) -> np.ndarray | None:
    """[2, nao, nao] start of spin moment 1 from the orbitals of the converged UKS object ``mf``
    if its electron count is odd and its moment below half an electron; None otherwise.

    Such a state half fills its top level in both spins: a start with alpha = beta never leaves
    it, and the ferromagnetic start can relax into it too when charge transfer quenches the
    moment it started with (CaF, SrCl, BaF from the F or Cl atom's moment: moment 0, <S^2> 0.25,
    where experiment has doublets; 2026-11-30). The start fills the levels of each spin in the
    order of their energies, (N + 1) / 2 alpha and (N - 1) / 2 beta electrons."""
    occ = np.asarray(mf.mo_occ)
    n = round(float(occ.sum()))
    if n % 2 == 0 or abs(occ[0].sum() - occ[1].sum()) > 0.5:
        return None
    starts = []
    for coeff, energy, count in zip(np.asarray(mf.mo_coeff), np.asarray(mf.mo_energy),
                                    ((n + 1) // 2, (n - 1) // 2), strict=True):
        filled = np.zeros(len(energy))
        filled[np.argsort(energy)[:count]] = 1.0
        starts.append((coeff * filled) @ coeff.T)
    return np.stack(starts)


def converge_starts(mol, settings: Settings, sigma: float, starts: dict[str, np.ndarray],
                    grid_level: int | None, rungs: tuple[str, ...]) -> dict[str, ScfResult]:
    """Start name -> its converged SCF on the ladder's first ``rungs``; the starts that those
    rungs do not converge are left out, unless none converges: then the starts climb the whole
    ladder in turn, and the first that converges is kept (:func:`_first_on_the_ladder`). A start
    that they leave below the lowest free energy converged climbs the rest of the ladder
    (:func:`qc_jax.chem.scf.run_scf_below`)."""
    results, failed = {}, {}
    for name, dm0 in starts.items():
        try:
            results[name] = run_scf(mol, settings, sigma, dm0, grid_level, rungs=rungs)
        except ScfNotConverged as error:
            failed[name] = error.e_free
    if not results:
        return _first_on_the_ladder(mol, settings, sigma, starts, grid_level)
    ceiling = min(result.e_free for result in results.values()) - SAME_STATE_HA
    for name in (name for name, e_free in failed.items() if e_free < ceiling):
        with contextlib.suppress(ScfNotConverged):
            results[name] = run_scf(mol, settings, sigma, starts[name], grid_level,
                                    rungs=rungs_after(rungs))
    return results


def _first_on_the_ladder(mol, settings: Settings, sigma: float, starts: dict[str, np.ndarray],
                         grid_level: int | None) -> dict[str, ScfResult]:
    """{name: converged SCF} of the first of ``starts`` that the whole ladder converges, in their
    order: the anions of K_Ti and Ni_Sb at their shipped R_e converge on the Newton rung from
    the second start, the beta one, and on no rung from the first (2026-12-04). Raises the last
    start's :class:`ScfNotConverged` if none converges."""
    for name, dm0 in starts.items():
        try:
            return {name: run_scf(mol, settings, sigma, dm0, grid_level)}
        except ScfNotConverged as error:
            failure = error
    raise failure


def annealed_starts(mol, settings: Settings, sigma: float, starts: dict[str, np.ndarray],
                    grid_level: int | None) -> dict[str, ScfResult]:
    """Start name -> its SCF at k_B T ``sigma`` (Ha) on the whole ladder, started from the
    start converged first at the larger k_B T of ``settings.raised_smearing_sigmas`` (cheap
    rungs), as the free atoms are annealed: at the smallest of them above ``sigma``, else down
    from the next (0.05 then 0.01 Ha), each warm-starting the next; else at the smallest with the
    start's moment held fixed (one Fermi level per spin), then released at ``sigma`` (the anions
    of Mo_V and Co_La at their shipped R_e, which the other paths do not converge; 2026-12-04).
    Only the path to the SCF changes: the state kept is converged at ``sigma`` with one Fermi
    level. For the ions that no start converges at ``sigma`` on any rung
    (:func:`_first_on_the_ladder`). Raises :class:`ScfNotConverged` if no start converges."""
    raised = sorted(s for s in settings.raised_smearing_sigmas if s > sigma)
    paths = [(raised[top::-1], False) for top in range(len(raised))]
    paths += [([raised[0]], True)] if raised else []
    failure = ScfNotConverged(f"no k_B T above sigma = {sigma} Ha to anneal from")
    results = {}
    for name, dm0 in starts.items():
        for steps, fixed in paths:
            try:
                results[name] = _annealed(mol, settings, sigma, dm0, steps, fixed, grid_level)
                break
            except ScfNotConverged as error:
                failure = error
    if not results:
        raise failure
    return results


def _annealed(mol, settings: Settings, sigma: float, dm: np.ndarray, steps: list[float],
              fixed: bool, grid_level: int | None) -> ScfResult:
    """The SCF of ``mol`` at ``sigma`` (Ha) on the whole ladder, from ``dm`` [2, nao, nao]
    converged first at each k_B T of ``steps`` in turn on the cheap rungs, with its moment
    (:func:`qc_jax.chem.scf.nearest_moment`) held fixed there if ``fixed``."""
    held = mol.copy()
    held.spin = nearest_moment(mol, dm)
    for step in steps:
        dm = run_scf(held if fixed else mol, settings, step, dm, grid_level, fix_spin=fixed,
                     rungs=CHEAP_RUNGS).dm
    return run_scf(mol, settings, sigma, dm, grid_level)


def ion_starts(mf, charge: int) -> dict[str, np.ndarray]:
    """Spin of the moved electron -> [2, nao, nao] start of the ion of ``charge`` (+1 or -1)
    from the converged neutral UKS object ``mf``: its orbitals with one electron taken from the
    highest occupied level (cation) or put into the lowest empty level (anion) of one spin; both
    spins for an open shell (moment M - 1 and M + 1), one for a closed shell (the two are mirror
    images)."""
    if charge not in (1, -1):
        raise ValueError(f"ion charge must be +1 or -1, got {charge}")
    coeff, energy, occ = (np.asarray(x) for x in (mf.mo_coeff, mf.mo_energy, mf.mo_occ))
    mirror = np.allclose(occ[0], occ[1], atol=1e-6) and np.allclose(energy[0], energy[1],
                                                                       atol=1e-6)
    starts = {}
    for spin in (1,) if mirror else (0, 1):
        new_occ = occ.copy()
        new_occ[spin] = _moved_electron(energy[spin], occ[spin], charge)
        starts["alpha" if spin == 0 else "beta"] = np.stack(
            [(c * n) @ c.T for c, n in zip(coeff, new_occ, strict=True)])
    return starts


def _moved_electron(energy: np.ndarray, occ: np.ndarray, charge: int) -> np.ndarray:
    """Occupations [nmo] of one spin with one electron removed from the top (``charge`` +1) or
    added at the bottom (-1) of the levels ``energy`` [nmo]."""
    occ, left = occ.copy(), 1.0
    order = np.argsort(energy)
    for i in order[::-1] if charge > 0 else order:
        moved = min(occ[i] if charge > 0 else 1 - occ[i], left)
        occ[i] -= charge * moved
        left -= moved
        if left <= 0:
            break
    return occ


def alpha_majority(*spin_arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The per-spin arrays (leading axis 2, the occupations ``mo_occ`` first) swapped to
    alpha-majority when the beta electrons outnumber the alpha ones."""
    occ = spin_arrays[0]
    if occ[1].sum() > occ[0].sum() + 1e-9:
        return tuple(np.asarray(a)[::-1].copy() for a in spin_arrays)
    return tuple(np.asarray(a) for a in spin_arrays)
