"""Spin-polarised free atoms at the level of theory of the pairs, computed once and stored.

They give the binding energy (E0(AB) - E(A) - E(B), :func:`atoms_energy`), the promolecule
density matrix (:func:`qc_jax.record.promolecule_dm`) and the starting
densities of the molecules (:mod:`qc_jax.chem.spin`).

Each atom has a convergence path of its own, so an atom never changes the electronic temperature
of a pair: for each start moment (the experimental ground-state moment 2S and 2S -+ 2), the SCF
is converged at the largest k_B T of ``settings.atom_sigma_path`` with that moment fixed (one
Fermi level per spin), then released to one common Fermi level and cooled down the path to the
requested k_B T, each step warm-started from the one before; and the same again from two
perturbed guesses (:data:`PERTURBED_STARTS`). The lowest free energy at the requested k_B T is
kept; its moment is the atom's (a moment the start did not fix).

Where an atom has close states, the one reached depends on rounding, and so on the threads of
the process (Ni at 0.003 Ha: two smeared states 6.2 mHa apart in F; a process started with
``OMP_NUM_THREADS=1``, as every worker of :func:`qc_jax.chem.runner.compute_missing` is,
reaches the lower one, one started with two threads the upper one, even with OpenMP and BLAS
limited to one thread inside it). Hence the shipped atoms are the reference
(:func:`qc_jax.compact.seed_atoms`).

Smearing leaves a degenerate open shell spherically and fractionally occupied (O: one beta
electron spread over three p orbitals). The energy used for binding energies, ``e_ground``, is the
lower of that state's E0 and the zero-temperature integer-occupation UKS at the same moment,
started from it (aufbau breaks the symmetry): 0.27 eV lower for O, 0.16 F, 0.05 C, equal for N
and H at PBE/def2-SVP.

``atom_reference`` keeps atoms in the process and, given a store, in
``<store>/<digest>/atoms/`` (one file per element and k_B T, written under a lock), so every
worker, run and Beam job sharing the store computes each atom once.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Iterator

import numpy as np

from qc_jax.chem.molecule import free_atom
from qc_jax.chem.scf import (
    ScfNotConverged,
    ScfResult,
    nearest_moment,
    restricted_guess,
    run_scf,
    uks,
)
from qc_jax.chem.settings import Settings
from qc_jax.chem.spin import SAME_STATE_HA, alpha_majority
from qc_jax.elements import symbol
from qc_jax.record import AtomRecord

GROUND_STATE_MULTIPLICITY: dict[str, int] = {
    "H": 2, "He": 1, "Li": 2, "Be": 1, "B": 2, "C": 3, "N": 4, "O": 3, "F": 2, "Ne": 1,
    "Na": 2, "Mg": 1, "Al": 2, "Si": 3, "P": 4, "S": 3, "Cl": 2, "Ar": 1,
    "K": 2, "Ca": 1, "Sc": 2, "Ti": 3, "V": 4, "Cr": 7, "Mn": 6, "Fe": 5, "Co": 4, "Ni": 3,
    "Cu": 2, "Zn": 1, "Ga": 2, "Ge": 3, "As": 4, "Se": 3, "Br": 2, "Kr": 1,
    "Rb": 2, "Sr": 1, "Y": 2, "Zr": 3, "Nb": 6, "Mo": 7, "Tc": 6, "Ru": 5, "Rh": 4, "Pd": 1,
    "Ag": 2, "Cd": 1, "In": 2, "Sn": 3, "Sb": 4, "Te": 3, "I": 2, "Xe": 1,
    "Cs": 2, "Ba": 1, "La": 2, "Lu": 2, "Hf": 3, "Ta": 4, "W": 5, "Re": 6, "Os": 5, "Ir": 4,
    "Pt": 3, "Au": 2, "Hg": 1, "Tl": 2, "Pb": 3, "Bi": 4, "Po": 3, "At": 2, "Rn": 1,
    "Ra": 1, "Th": 3,
}  # fmt: skip
"""2S + 1 of the ground term of each neutral atom (NIST Atomic Spectra Database): the start
moments of the free atoms, not imposed on the result."""

PERTURBED_STARTS = (1, 2)
"""Seeds of the perturbed starts tried at each start moment after the plain one: the MINAO guess
plus a Gaussian perturbation of each density matrix element (standard deviation
:data:`PERTURBATION`, then symmetrised), which breaks an open shell's spherical symmetry in
other directions. Close states are then found, not reached by rounding: at 0.003 Ha Fe has one
7.2 mHa (0.19 eV) and Th one 32 mHa lower in F than the plain starts reach (2026-12-01). A
start replaces the best so far only if lower by more than ``SAME_STATE_HA``."""

PERTURBATION = 0.02
"""Standard deviation of the perturbed starts' noise (density matrix elements, per spin)."""

INTEGER_RUNGS = ("diis", "damped", "newton")
"""Ladder of the integer-occupation atom (:func:`_integer_occupation_energy`)."""

_CACHE: dict[tuple[str, Settings, float], AtomRecord] = {}
_COMPUTED: contextvars.ContextVar[list | None] = contextvars.ContextVar("computed", default=None)


@contextlib.contextmanager
def new_atoms(computed: list) -> Iterator[None]:
    """Atoms computed (not read) inside the block are appended to ``computed`` (so a pair's
    time can leave out theirs)."""
    token = _COMPUTED.set(computed)
    try:
        yield
    finally:
        _COMPUTED.reset(token)


def atom_reference(element: str, settings: Settings, sigma: float, store=None) -> AtomRecord:
    """The free atom of ``element`` at k_B T ``sigma`` (Ha): from ``store`` (a
    :class:`qc_jax.store.Store` of ``settings``), else from this process's cache, else computed;
    a store that lacks it gets it (under its lock), so every store holds the atoms of its pairs.
    A failed atom is returned too (``status == "failed"``)."""
    element = symbol(element)
    key = (element, settings, sigma)
    if store is None:
        if key not in _CACHE:
            _CACHE[key] = compute_atom(element, settings, sigma)
        return _CACHE[key]
    with store.lock(f"atom_{element}_{sigma:g}"):
        atom = store.get_atom(element, sigma)
        if atom is None:
            atom = _CACHE.get(key) or compute_atom(element, settings, sigma)
            store.put_atom(atom)
    _CACHE[key] = atom
    return atom


def start_moments(mol) -> list[int]:
    """Spin moments 2S tried as starts for the free-atom ``mol``: the ground-state one and 2
    below and above it (those its electrons and basis allow)."""
    ground = GROUND_STATE_MULTIPLICITY[mol.atom_symbol(0)] - 1
    return [m for m in (ground - 2, ground, ground + 2)
            if 0 <= m <= mol.nelectron and (mol.nelectron + m) // 2 <= mol.nao]


def compute_atom(element: str, settings: Settings, sigma: float) -> AtomRecord:
    """Converge the free atom along its path (module docstring) for every start moment and keep
    the lowest free energy at ``sigma`` (Ha)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    path = [s for s in settings.atom_sigma_path if s > sigma] + [sigma]
    best, notes = None, []
    mol = free_atom(element, settings.basis_map)
    for moment in start_moments(mol):
        for seed in (None, *PERTURBED_STARTS):
            start = f"start 2S={moment}" + (f" perturbed ({seed})" if seed else "")
            try:
                result = _anneal(mol, settings, moment, path, seed)
            except ScfNotConverged as error:
                notes.append(f"{start}: {error}")
                continue
            notes.append(f"{start}: F={result.e_free:.6f} Ha, moment {result.spin_moment:.3f}")
            if best is None or result.e_free < best.e_free - SAME_STATE_HA:
                best = result
    description = f"k_B T path {path} Ha; " + "; ".join(notes)
    if best is None:
        atom = AtomRecord(symbol(element), sigma, "failed", description, settings.digest())
    else:
        (dm,) = alpha_majority(np.asarray(best.mf.mo_occ), best.dm)[1:]
        e_integer = _integer_occupation_energy(mol, settings, dm)
        atom = AtomRecord(symbol(element), sigma, "ok", "", settings.digest(),
                          e_tot=float(best.mf.e_tot), e_free=best.e_free, e_zero=best.e_zero,
                          e_integer=e_integer, e_ground=float(np.fmin(best.e_zero, e_integer)),
                          spin_moment=abs(best.spin_moment), s_squared=best.s_squared,
                          path=description, dm=dm)  # fmt: skip
    atom.wall_time_s = time.perf_counter() - started
    atom.cpu_time_s = time.process_time() - cpu_started
    computed = _COMPUTED.get()
    if computed is not None:
        computed.append(atom)
    return atom


def _anneal(atom_mol, settings: Settings, moment: int, path: list[float],
            seed: int | None = None) -> ScfResult:
    """Fixed moment down ``path`` (each k_B T warm-started from the one before), then released
    to one Fermi level at the last; with ``seed``, from the perturbed guess
    (:data:`PERTURBED_STARTS`)."""
    mol = atom_mol.copy()
    mol.spin = moment
    guess = _polarised_guess(mol)
    if seed is not None:
        noise = np.random.default_rng(seed).normal(0.0, PERTURBATION, guess.shape)
        guess = guess + (noise + noise.transpose(0, 2, 1)) / 2
    result = None
    for sigma in path:
        result = run_scf(mol, settings, sigma, guess if result is None else result.dm,
                         fix_spin=True)
    return run_scf(mol, settings, path[-1], result.dm)


def _integer_occupation_energy(atom_mol, settings: Settings, dm: np.ndarray) -> float:
    """Energy (Ha) of the zero-temperature UKS atom with integer occupations at the moment of
    ``dm`` [2, nao, nao], started from it (aufbau breaks the spherical symmetry of an open p or
    d shell); plain DIIS first, then with damping and a level shift (which stop the occupations
    flipping between near-degenerate d levels: Ir, Rh, Po, At), then the second-order solver.
    NaN if none converges."""
    mol = atom_mol.copy()
    mol.spin = nearest_moment(mol, dm)
    for rung in INTEGER_RUNGS:
        mf = uks(mol, settings)
        if rung == "newton":
            mf = mf.newton()
        elif rung == "damped":
            mf.damp, mf.level_shift, mf.max_cycle = 0.5, 0.3, 2 * settings.max_cycle
        mf.kernel(dm)
        if mf.converged:
            return float(mf.e_tot)
    return math.nan


def _polarised_guess(mol) -> np.ndarray:
    """[2, nao, nao] PySCF's MINAO density split between the spins in the ratio of ``mol.nelec``
    (the fixed-moment SCF then polarises the orbitals)."""
    dm = restricted_guess(mol).sum(axis=0)
    n_alpha, n_beta = mol.nelec
    total = n_alpha + n_beta
    return np.stack([dm * n_alpha / total, dm * n_beta / total])


def atoms_energy(atoms: tuple[AtomRecord, ...]) -> float:
    """Summed ground-state energies ``e_ground`` of the atoms (Ha); NaN if one failed."""
    if any(atom.status != "ok" for atom in atoms):
        return math.nan
    return math.fsum(atom.e_ground for atom in atoms)
