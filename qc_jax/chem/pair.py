"""``compute_pair``: optimised diatomic, labels, populations and densities of one element pair."""

from __future__ import annotations

import math
import time

import numpy as np

from qc_jax.chem.atoms import atom_reference, promolecule_dm
from qc_jax.chem.basis_sets import basis_spec
from qc_jax.chem.bond import (
    BondPoint,
    BondSearch,
    evaluate,
    force_constant,
    harmonic_wavenumber,
    optimise_bond,
)
from qc_jax.chem.labels import IonEnergies, electronic_labels
from qc_jax.chem.molecule import canonical_positions, diatomic
from qc_jax.chem.populations import mulliken
from qc_jax.chem.scf import RUNGS, ScfNotConverged, TimeLimitExceeded, run_scf, time_limit
from qc_jax.chem.settings import DEFAULT, Settings
from qc_jax.chem.units import BOHR_ANGSTROM, HARTREE_EV
from qc_jax.elements import canonical_order, pair_name
from qc_jax.record import PairRecord

STATE_TOLERANCE = 1e-5
"""A cold-start SCF at the optimised bond length that is lower in free energy than the warm-started
one by more than this (Ha) means the search followed a wrong state; it is restarted from there."""

FLAG_REASONS = {
    "dissociative": "free energy still decreasing at the upper bound of the bond search",
    "collapse": "free energy still decreasing at the lower bound of the bond search",
    "max_steps": "bond search did not converge within max_bond_steps",
}


def compute_pair(
    a: str, b: str, settings: Settings | None = None, time_limit_s: float | None = None
) -> PairRecord:
    """Compute the pair (a, b) at ``settings`` (default: the documented level of theory).

    Raises :class:`qc_jax.elements.UnknownElementError` for an unknown symbol and
    :class:`qc_jax.chem.basis_sets.MissingBasisError` for an element outside the basis map.
    SCF failures do not raise: they give a record with ``status == "failed"``; if the default
    electronic temperature fails, the pair is recomputed at each ``settings.raised_smearing_sigmas``
    in turn. With ``time_limit_s``, a pair still computing after that many seconds (checked at
    every SCF cycle) is a failed record too, its reason naming the limit.
    """
    settings = settings or DEFAULT
    a, b = canonical_order(a, b)
    specs = {el: basis_spec(el, settings.basis_map) for el in (a, b)}
    basis = {el: [spec.basis, spec.ecp] for el, spec in specs.items()}
    start = time.perf_counter()
    record, failures = None, []
    with time_limit(time_limit_s):
        for sigma in (settings.smearing_sigma, *settings.raised_smearing_sigmas):
            try:
                record = _compute(a, b, settings, sigma, basis)
                break
            except ScfNotConverged as error:
                failures.append(str(error))
            except TimeLimitExceeded as error:
                failures.append(f"time limit of {time_limit_s:g} s exceeded at sigma = {sigma} "
                                f"Ha ({error}); rerun with a longer limit and --retry-failed")
                break
    if record is None:
        record = PairRecord(
            pair=pair_name(a, b),
            symbols=(a, b),
            status="failed",
            reason="; ".join(failures),
            settings=settings.to_dict(),
            settings_digest=settings.digest(),
            positions=np.zeros((0,)),
            basis=basis,
        )
    record.wall_time_s = time.perf_counter() - start
    return record


def _compute(a: str, b: str, settings: Settings, sigma: float, basis: dict) -> PairRecord:
    search = _search_lowest_state(a, b, settings, sigma)
    point = search.point
    notes = [FLAG_REASONS[search.flag]] if search.flag else []
    k = math.nan
    if search.converged:
        try:
            k = force_constant(a, b, point, settings, sigma)[0]
        except ScfNotConverged:
            notes.append("SCF at a displaced bond length not converged: no frequency")
    mf = point.scf.mf
    dm = mf.make_rdm1()
    cation, anion = (_ion_free_energy(a, b, point, settings, sigma, q, notes) for q in (1, -1))
    ions = IonEnergies(point.e_free, cation, anion)
    references = (atom_reference(a, settings, sigma), atom_reference(b, settings, sigma))
    populations = mulliken(mf.mol, dm)
    labels = electronic_labels(
        mf, populations.charges, ions, sum(r.e_free for r in references), sigma
    )
    labels.update(_geometry_labels(search, harmonic_wavenumber(k, a, b)))
    if sigma != settings.smearing_sigma:
        notes.append(f"converged only with raised smearing sigma = {sigma} Ha")
    return PairRecord(
        pair=pair_name(a, b),
        symbols=(a, b),
        status="flagged" if notes else "ok",
        reason="; ".join(notes),
        settings=settings.to_dict(),
        settings_digest=settings.digest(),
        positions=canonical_positions(point.r * BOHR_ANGSTROM),
        labels=labels,
        basis=basis,
        dm=dm,
        mo_coeff=np.asarray(mf.mo_coeff),
        mo_energy=np.asarray(mf.mo_energy),
        mo_occ=np.asarray(mf.mo_occ),
        dm_promolecule=promolecule_dm(mf.mol, references),
        mulliken_charges=populations.charges,
        populations_l=populations.by_l,
        populations_lm=populations.by_lm,
    )


def _search_lowest_state(a: str, b: str, settings: Settings, sigma: float) -> BondSearch:
    """Bond search, checked by a cold-start SCF at its end (see ``STATE_TOLERANCE``)."""
    search = optimise_bond(a, b, settings, sigma)
    try:
        cold = evaluate(a, b, search.point.r, settings, sigma)
    except ScfNotConverged:  # the warm-started state is the only one found
        return search
    if cold.e_free < search.point.e_free - STATE_TOLERANCE:
        return optimise_bond(a, b, settings, sigma, start=cold)
    return search


def _ion_free_energy(
    a: str, b: str, point: BondPoint, settings: Settings, sigma: float, charge: int, notes: list
) -> float:
    """Free energy (Ha) of the ion of ``charge`` at the geometry of ``point``, warm-started from
    the neutral density; NaN (and a note) if it does not fit in the basis or does not converge."""
    name = "cation" if charge > 0 else "anion"
    mol = diatomic(a, b, point.r * BOHR_ANGSTROM, settings.basis_map, charge)
    if not 0 < mol.nelectron <= 2 * mol.nao:
        notes.append(f"the {name} has no electrons or does not fit in the basis")
        return math.nan
    try:
        return run_scf(mol, settings, sigma, point.scf.mf.make_rdm1()).e_free
    except ScfNotConverged:
        notes.append(f"SCF of the {name} not converged")
        return math.nan


def _geometry_labels(search: BondSearch, omega_cm1: float) -> dict[str, float]:
    scf = search.point.scf
    return {
        "omega_e_cm1": omega_cm1,
        "distance_ang": search.point.r * BOHR_ANGSTROM,
        "scf_rung": float(RUNGS.index(scf.rung)),
        "scf_cycles": float(scf.cycles),
        "scf_grad_norm": scf.grad_norm,
        "geom_converged": float(search.converged),
        "geom_opt_steps": float(len(search.history)),
        "geom_slope_ev_ang": search.point.slope * HARTREE_EV / BOHR_ANGSTROM,
    }
