"""``compute_pair``: optimised diatomic, labels, populations and densities of one element pair."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from qc_jax.chem.atoms import atom_reference, atoms_energy, new_atoms
from qc_jax.chem.basis_sets import basis_spec
from qc_jax.chem.bond import (
    BondPoint,
    evaluate,
    force_constant,
    harmonic_wavenumber,
    optimise_bond,
    search_bounds,
    start_geometry,
    van_der_waals_length,
)
from qc_jax.chem.labels import IonEnergies, electronic_labels
from qc_jax.chem.molecule import canonical_positions, diatomic
from qc_jax.chem.populations import mulliken
from qc_jax.chem.scf import (
    CHEAP_RUNGS,
    RUNGS,
    ScfNotConverged,
    ScfResult,
    TimeLimitExceeded,
    bond_slope,
    run_scf,
    run_scf_below,
    time_limit,
)
from qc_jax.chem.settings import DEFAULT, Settings
from qc_jax.chem.spin import (
    RESTRICTED,
    SAME_STATE_HA,
    TURNED,
    alpha_majority,
    annealed_starts,
    converge_starts,
    ion_starts,
    molecule_starts,
    polarised_start,
)
from qc_jax.elements import canonical_order, pair_name
from qc_jax.record import AtomRecord, PairRecord, promolecule_dm
from qc_jax.units import BOHR_ANGSTROM, HARTREE_EV

log = logging.getLogger(__name__)

STATE_WINDOW_HA = 0.01
"""A spin state found at the start geometry (near the minimum: GFN2-xTB's) within this free
energy (Ha, 0.27 eV) of the lowest one is tried again at the optimised bond length; one lower
there by more than ``SAME_STATE_HA`` means the states cross, and the search is repeated from
it."""

SHORTER_STARTS = (0.7, 0.85)
"""If no spin start converges at the start bond length, even on the whole ladder, the starts
are tried again at these fractions of it, in this order (not below the search's lower bound),
before the pair's k_B T is raised. A bond stretched far beyond R_e leaves near-degenerate open
shells that no rung converges: Ta-Th at the sum of its covalent radii (no GFN2-xTB start),
1.53 x its R_e. The bonds of such pairs are short (thorium-transition-metal R_e are 0.63-0.70 of
the covalent sum), so the shortest fraction comes first: the spin starts compete near R_e.
Pairs whose starts converge at the start bond length are unaffected."""

SHORT_START_FRACTION = 0.7
"""Where GFN2-xTB gives no start geometry, the search starts at the sum of the covalent radii,
where the high-spin states of open d shells win, and follows them to minima near it: Mo-W
(2026-12-06) ended at 2.91 Angstrom with 2S = 10 and E_bind -1.0 eV, while the low-spin,
multiply bonded state, higher there, has its minimum at 1.98 Angstrom, 2S = 0, E_bind -4.3
eV. So such a pair whose minimum lies beyond :data:`SHORT_SEARCH_ABOVE` of that sum is searched
again from this fraction of it, every spin start competing there (:func:`_from_covalent_radii`)."""

SHORT_SEARCH_ABOVE = 0.8
"""See :data:`SHORT_START_FRACTION`."""

SHORT_PROBE_FRACTION = 0.6
"""A pair without a GFN2-xTB start whose minimum still lies beyond :data:`SHORT_SEARCH_ABOVE`
of the covalent sum after the search from :data:`SHORT_START_FRACTION` of it has its spin
starts converged at this fraction of the sum; if one lies below the minimum in free energy, the
search runs again from it (:func:`_probed_shorter`). V-W (2026-12-06): from 0.7 of the sum,
2.20 Angstrom, the high-spin start still wins and the search ends at 2.77 Angstrom, 2S = 9,
E_bind -1.84 eV; at 0.6 of it, 1.89 Angstrom, a low-spin state lies 2.3 eV below that minimum,
and the search from it ends at 1.92 Angstrom, E_bind -4.28 eV (V2 1.70, W2 2.10 Angstrom)."""

METASTABLE_FRACTION = 0.85
"""A minimum above the free atoms (in free energy) at a bond shorter than this fraction of the
sum of the van der Waals radii is searched again from that sum (:func:`_ground_minimum`). Kr-O
(2026-11-30): GFN2-xTB's start leads to a singlet minimum at 1.86 Angstrom, 1.1 eV above the
triplet bound by dispersion at 2.85 Angstrom (0.80 of the sum); none of the first 401 paper75
records lies above its free atoms."""

VAN_DER_WAALS_STARTS = (1.0, 0.85)
"""Fractions of the sum of the van der Waals radii that the search of :func:`_ground_minimum`
starts from, in turn, while its minimum stays above the free atoms in free energy (then the
atoms' own state is lower and was not reached). S-Xe (2026-12-03): at the sum, 3.96 Angstrom,
the ferromagnetic start (the S atom's triplet) converges on no rung, and the search from the
restricted start ends in the singlet at 2.44 Angstrom, 0.48 eV above the free atoms; the start
converges at 5.0 Angstrom, and from there, warm-started, at 4.2, 3.7 and 3.5 Angstrom (not at
3.96), to a triplet 0.02-0.09 eV below them."""

HIGH_SPIN_MOMENT = 4.5
"""At a minimum of at least this spin moment (|N_alpha - N_beta|, electrons) the spin-restricted
start is tried again on the Newton rung alone too (:func:`_starts_at_minimum`), which reaches
low-spin states below such minima that its cheap rungs miss: they converge to a higher state or
diverge, so :func:`qc_jax.chem.scf.run_scf_below` does not climb (which of the two depends on
the bond length in the fourth decimal: Mn-W at 2.044 and 2.04386 Angstrom). Cr-Fe at 2.695
Angstrom, 2S = 9: a triplet 0.25 eV lower, whose search ends at 2.37 Angstrom; Mn-W at 2.044
Angstrom, 2S = 5: a doublet 0.92 eV lower, at 2.01 Angstrom. Of the 100 shipped minima of two
open-d atoms of moment 3.5 or more (2.46.0), these two were the only ones lower (2026-12-06)."""

VAN_DER_WAALS_CURVATURE = 0.01
"""Force-constant guess for the first step of a search from the van der Waals distance
(Ha/Bohr^2; the default search's 0.5 would take the small slopes there for a minimum)."""

FLAG_REASONS = {
    "dissociative": "free energy still decreasing at the upper bound of the bond search",
    "collapse": "free energy still decreasing at the lower bound of the bond search",
    "max_steps": "bond search did not converge within max_bond_steps",
    "final_grid": "the final grid's minimum not reached by its own search",
    "flat": "no positive curvature at the minimum on the final grid: no frequency",
}


class AtomNotConverged(RuntimeError):
    """A free atom of the pair did not converge (the pair fails; its k_B T is not raised)."""


def compute_pair(
    a: str,
    b: str,
    settings: Settings | None = None,
    time_limit_s: float | None = None,
    store=None,
    start: tuple[float, np.ndarray] | None = None,
) -> PairRecord:
    """Compute the pair (a, b) at ``settings`` (default: the documented level of theory).

    Raises :class:`qc_jax.elements.UnknownElementError` for an unknown symbol and
    :class:`qc_jax.chem.basis_sets.MissingBasisError` for an element outside the basis map.
    SCF failures do not raise: they give a record with ``status == "failed"``; if the molecule
    fails at the default electronic temperature, the pair is recomputed at each
    ``settings.raised_smearing_sigmas`` in turn, and the first that converges is annealed back
    to the default from its minimum (:func:`_annealed`); if that fails too, the raised one is
    the record (flagged). A raised record already in ``store`` (a retry) is annealed first,
    before the ladder is climbed again, and comes back unchanged if both fail. With
    ``time_limit_s``, a pair
    still computing after that many CPU seconds (checked at every SCF cycle) is a failed record too,
    its reason naming the limit. The free atoms come from (and go to) ``store``, a
    :class:`qc_jax.store.Store` of ``settings``, when given. ``start`` (bond length in Bohr,
    [2, nao, nao] density) is a state to start the search from, tried first at that bond length
    (:func:`_from_start`): a lower state that a record's spin starts converge to at its geometry
    only on the Newton rung, or from a start near the record's own moment, which the search
    does not reach (Be-Y, Ne-Rh, Li-Lu: ``benchmarks/spin_recheck.py --compute-again``); if it
    does not converge, the search goes on as without it.
    """
    settings = settings or DEFAULT
    a, b = canonical_order(a, b)
    specs = {el: basis_spec(el, settings.basis_map) for el in (a, b)}
    basis = {el: [spec.basis, spec.ecp] for el, spec in specs.items()}
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    record, failures = None, []
    computed_atoms = []
    with time_limit(time_limit_s), new_atoms(computed_atoms):
        stored = store.get(a, b) if store is not None else None
        retried = stored if stored is not None and stored.raised_smearing else None
        if start is not None:
            record = _from_start(a, b, settings, basis, store, start)
        elif retried is not None:  # a retry: anneal the stored one first
            record = _annealed(a, b, settings, basis, store, retried)
        ladder = (settings.smearing_sigma, *settings.raised_smearing_sigmas)
        for sigma in () if record else ladder:
            try:
                record = _compute(a, b, settings, sigma, basis, store)
            except ScfNotConverged as error:
                failures.append(str(error))
                continue
            except AtomNotConverged as error:
                failures.append(str(error))
            except TimeLimitExceeded as error:
                failures.append(f"CPU-time limit of {time_limit_s:g} s exceeded at sigma = {sigma} "
                                f"Ha ({error}); rerun with a longer limit and --retry-failed")
            else:
                if sigma != settings.smearing_sigma:
                    record = _annealed(a, b, settings, basis, store, record) or record
            break
    if record is None and retried is not None:  # the retry failed: nothing is lost
        return retried
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
    record.wall_time_s = time.perf_counter() - wall_start
    record.cpu_time_s = time.process_time() - cpu_start - sum(
        atom.cpu_time_s for atom in computed_atoms)
    return record


def refer_to_atoms(record: PairRecord, store) -> PairRecord:
    """``record`` with what it takes from its free atoms (binding energy, ``van_der_waals``,
    promolecule) taken from the atoms of ``store`` (a :class:`qc_jax.store.Store`) at its k_B
    T: a stored record kept over a recomputation must refer to the atoms its neighbours were
    computed against, which may since have been computed again (Ni, 2026-12-01)."""
    if record.status == "failed":
        return record
    sigma = float(f"{record.labels['smearing_sigma_ev'] / HARTREE_EV:g}")
    atoms = tuple(atom_reference(element, store.settings, sigma, store)
                  for element in record.symbols)  # fmt: skip
    labels = dict(record.labels)
    binding = labels["zero_temperature_energy_ev"] - atoms_energy(atoms) * HARTREE_EV
    labels.update(binding_energy_ev=binding,
                  van_der_waals=float(binding - labels["dispersion_energy_ev"] >= 0))
    return dataclasses.replace(record, labels=labels, dm_promolecule=promolecule_dm(atoms))


def _annealed(
    a: str, b: str, settings: Settings, basis: dict, store, raised: PairRecord
) -> PairRecord | None:
    """:func:`_from_start` at the bond length and density of ``raised``, a record of the pair
    converged only at a raised k_B T. Annealing: a state converged at a higher electronic
    temperature is often the nearest start to the default one's (Bi-Th: no start converges at
    0.003 Ha, but the 0.01 Ha density at its minimum converges there in 46 DIIS cycles;
    2026-11-30)."""
    log.info("%s: converged only at k_B T = %s Ha; annealing to %s Ha from its minimum",
             raised.pair, raised.labels["smearing_sigma_ev"] / HARTREE_EV, settings.smearing_sigma)
    start = (raised.bond_length / BOHR_ANGSTROM, raised.dm)
    return _from_start(a, b, settings, basis, store, start)


def _from_start(
    a: str, b: str, settings: Settings, basis: dict, store, start: tuple[float, np.ndarray]
) -> PairRecord | None:
    """The pair at the default k_B T, its search started from ``start`` (bond length in Bohr,
    [2, nao, nao] density); None if that does not converge. Runs under the pair's time limit;
    past it, None too."""
    try:
        return _compute(a, b, settings, settings.smearing_sigma, basis, store, start)
    except (ScfNotConverged, TimeLimitExceeded) as error:
        log.info("%s-%s: the search from the given start not converged (%s)", a, b, error)
        return None


def _compute(
    a: str, b: str, settings: Settings, sigma: float, basis: dict, store,
    start: tuple[float, np.ndarray] | None = None,
) -> PairRecord:
    """The record at ``sigma``; ``start``: (bond length in Bohr, [2, nao, nao] density) to
    start the search from instead of the start geometry and spin starts alone
    (:func:`_from_start`)."""
    atoms = tuple(atom_reference(element, settings, sigma, store) for element in (a, b))
    for atom in atoms:
        if atom.status != "ok":
            raise AtomNotConverged(f"free atom {atom.element} not converged at sigma = "
                                   f"{sigma} Ha: {atom.reason}")
    minimum = _ground_minimum(a, b, settings, sigma, atoms, start)
    point, notes = minimum.point, list(minimum.notes)
    mf = point.scf.mf
    ions = IonEnergies(
        point.scf.e_zero, *(_ion_energy(a, b, point, settings, sigma, q, notes) for q in (1, -1))
    )
    occ, dm, coeff, energy = alpha_majority(
        np.asarray(mf.mo_occ), point.scf.dm, np.asarray(mf.mo_coeff), np.asarray(mf.mo_energy)
    )
    populations = mulliken(mf.mol, dm.sum(axis=0))
    labels = electronic_labels(point.scf, populations.charges, ions, atoms_energy(atoms), sigma)
    labels.update(minimum.geometry_labels(harmonic_wavenumber(minimum.k, a, b)))
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
        mo_coeff=coeff,
        mo_energy=energy,
        mo_occ=occ,
        dm_promolecule=promolecule_dm(atoms),
        mulliken_charges=populations.charges,
        populations_l=populations.by_l,
        populations_lm=populations.by_lm,
    )


@dataclass
class Minimum:
    """The optimised bond of one spin state: the final point (on ``settings.grid_level``), its
    force constant, the work spent and why it is flagged."""

    point: BondPoint
    k: float
    """d^2 E_free / dR^2 at the minimum (Ha/Bohr^2); NaN without a regular minimum."""
    evaluations: int
    """SCF calculations of the neutral pair spent (starts, searches, refinement, checks)."""
    notes: list[str] = field(default_factory=list)

    def geometry_labels(self, omega_cm1: float) -> dict[str, float]:
        scf = self.point.scf
        return {
            "omega_e_cm1": omega_cm1,
            "distance_ang": self.point.r * BOHR_ANGSTROM,
            "scf_rung": float(RUNGS.index(scf.rung)),
            "scf_cycles": float(scf.cycles),
            "scf_grad_norm": scf.grad_norm,
            "geom_converged": float(not self.notes),
            "geom_opt_steps": float(self.evaluations),
            "geom_slope_ev_ang": self.point.slope * HARTREE_EV / BOHR_ANGSTROM,
        }


def _ground_minimum(
    a: str, b: str, settings: Settings, sigma: float, atoms: tuple[AtomRecord, AtomRecord],
    start: tuple[float, np.ndarray] | None = None,
) -> Minimum:
    """The minimum of :func:`_lowest_minimum` from the start geometry (or from ``start``: bond
    length in Bohr, [2, nao, nao] density, :func:`_from_start`; without a GFN2-xTB start, from
    :func:`_from_covalent_radii`), unless it lies above the free atoms at a bond
    shorter than :data:`METASTABLE_FRACTION` of the sum of the van der Waals radii, in free
    energy (F(AB) > F(A) + F(B), at the same k_B T) or in the binding energy's terms
    (E0(AB) > E(A) + E(B), ``binding_energy_ev`` > 0): such a minimum may be metastable, so
    the search is repeated from that sum (every spin start), and from the other
    :data:`VAN_DER_WAALS_STARTS` while the lowest minimum is still above the atoms in free
    energy. The minimum of lowest free energy is kept. The second test catches a smeared
    open-shell atom whose -TS (Ir: 0.34 eV at 0.003 Ha) leaves F(AB) below the atoms' although
    E0 is above (Ir-Xe at 2.53 Angstrom: F -0.03 eV, E_bind +0.16 eV; 2026-11-30)."""
    r_start, curvature, source = start_geometry(a, b, settings)
    if start is not None:
        minimum = _lowest_minimum(a, b, settings, sigma, atoms, (start[0], curvature), start[1])
    elif source == "covalent radii":
        minimum = _from_covalent_radii(a, b, settings, sigma, atoms, r_start, curvature)
    else:
        minimum = _lowest_minimum(a, b, settings, sigma, atoms, (r_start, curvature))
    vdw = van_der_waals_length(a, b)
    free_atoms = math.fsum(atom.e_free for atom in atoms)
    above_atoms = (minimum.point.e_free > free_atoms
                   or minimum.point.scf.e_zero > math.fsum(atom.e_ground for atom in atoms))
    if not (above_atoms and minimum.point.r < METASTABLE_FRACTION * vdw):
        return minimum
    for fraction in VAN_DER_WAALS_STARTS:
        minimum = _searched_again(a, b, settings, sigma, atoms, minimum,
                                  (fraction * vdw, VAN_DER_WAALS_CURVATURE),
                                  "lies above the free atoms")
        if minimum.point.e_free < free_atoms:
            break
    return minimum


def _from_covalent_radii(
    a: str, b: str, settings: Settings, sigma: float, atoms: tuple[AtomRecord, AtomRecord],
    r_covalent: float, curvature: float,
) -> Minimum:
    """The minimum of :func:`_lowest_minimum` from ``r_covalent`` (Bohr, the sum of the
    covalent radii), searched again from :data:`SHORT_START_FRACTION` of it if it lies beyond
    :data:`SHORT_SEARCH_ABOVE` of it, or searched from there alone if the first search does not
    converge (Mo-Zr: the high-spin state followed from the covalent radii runs into bond lengths
    where no rung converges, 2.8 to 3.0 Angstrom; 2026-12-06). A minimum still beyond
    :data:`SHORT_SEARCH_ABOVE` of the sum is probed at :data:`SHORT_PROBE_FRACTION` of it
    (:func:`_probed_shorter`)."""
    short = (SHORT_START_FRACTION * r_covalent, curvature)
    try:
        minimum = _lowest_minimum(a, b, settings, sigma, atoms, (r_covalent, curvature))
    except ScfNotConverged as error:
        log.info("%s-%s: the search from the covalent radii not converged (%s); searching from "
                 "%.3f Bohr", a, b, error, short[0])
        minimum = _lowest_minimum(a, b, settings, sigma, atoms, short)
    else:
        if minimum.point.r > SHORT_SEARCH_ABOVE * r_covalent:
            minimum = _searched_again(a, b, settings, sigma, atoms, minimum, short,
                                      "was searched from the covalent radii")
    if minimum.point.r <= SHORT_SEARCH_ABOVE * r_covalent:
        return minimum
    return _probed_shorter(a, b, settings, sigma, atoms, minimum,
                           (SHORT_PROBE_FRACTION * r_covalent, curvature))


def _probed_shorter(
    a: str, b: str, settings: Settings, sigma: float, atoms: tuple[AtomRecord, AtomRecord],
    minimum: Minimum, at: tuple[float, float],
) -> Minimum:
    """``minimum``, or the lower minimum of the search from ``at`` (bond length in Bohr,
    curvature estimate in Ha/Bohr^2) when the lowest spin start converged there
    (:func:`lowest_start`) lies below ``minimum`` in free energy (by more than
    ``SAME_STATE_HA``): a minimum no higher than that state then lies nearer (see
    :data:`SHORT_PROBE_FRACTION`)."""
    state = lowest_start(a, b, at[0], settings, sigma, atoms)
    if state is None or state.e_free >= minimum.point.e_free - SAME_STATE_HA:
        return minimum
    return _searched_again(a, b, settings, sigma, atoms, minimum, at,
                           f"lies above a state at {at[0]:.3f} Bohr", given=state.dm)


def lowest_start(
    a: str, b: str, r: float, settings: Settings, sigma: float,
    atoms: tuple[AtomRecord, AtomRecord],
) -> ScfResult | None:
    """The lowest in free energy of the spin starts (:func:`qc_jax.chem.spin.molecule_starts`)
    of the pair at bond length ``r`` (Bohr; not below the search's lower bound) that the cheap
    rungs converge on the search grid, or None if none does: a probe, which climbs no ladder."""
    mol = diatomic(a, b, max(r, search_bounds(a, b, settings)[1]) * BOHR_ANGSTROM,
                   settings.basis_map)
    states = []
    for dm0 in molecule_starts(mol, atoms).values():
        with contextlib.suppress(ScfNotConverged):
            states.append(run_scf(mol, settings, sigma, dm0, settings.search_grid_level,
                                  rungs=CHEAP_RUNGS))
    return min(states, key=lambda state: state.e_free, default=None)


def _searched_again(
    a: str, b: str, settings: Settings, sigma: float, atoms: tuple[AtomRecord, AtomRecord],
    minimum: Minimum, at: tuple[float, float], why: str, given: np.ndarray | None = None,
) -> Minimum:
    """The lower in free energy of ``minimum`` and that of :func:`_lowest_minimum` from ``at``
    (bond length in Bohr, curvature estimate in Ha/Bohr^2; ``given``: its start density, as
    there), counting the evaluations of both; ``minimum`` if the second search does not
    converge (a state found is never lost to a search for another). ``why``: the reason, for
    the log."""
    log.info("%s-%s: the minimum at %.3f Bohr %s; searching again from %.3f Bohr",
             a, b, minimum.point.r, why, at[0])
    try:
        other = _lowest_minimum(a, b, settings, sigma, atoms, at, given)
    except ScfNotConverged as error:
        log.info("%s-%s: the search from %.3f Bohr not converged (%s)", a, b, at[0], error)
        return minimum
    lower = other if other.point.e_free < minimum.point.e_free else minimum
    lower.evaluations = minimum.evaluations + other.evaluations
    return lower


def _lowest_minimum(
    a: str, b: str, settings: Settings, sigma: float, atoms: tuple[AtomRecord, AtomRecord],
    at: tuple[float, float], given: np.ndarray | None = None,
) -> Minimum:
    """The bond minimum of the lowest spin state (see :mod:`qc_jax.chem.spin`): every start is
    converged at the start geometry on the search grid (or, if none converges there, at a
    shorter bond: :func:`_converged_starts`; then the polarised start from the lowest,
    :func:`qc_jax.chem.spin.polarised_start`), the lowest is optimised, and the
    competitive others are tried again at its minimum (``STATE_WINDOW_HA``), as are the starts
    of :func:`_starts_at_minimum` and the polarised start from the minimum's state. A lower
    state there restarts the search from it (:func:`_followed`). ``at``: (bond length in Bohr,
    curvature estimate in Ha/Bohr^2 for the first step) to start the search from; ``given``
    ([2, nao, nao] density): a start tried before the spin starts there (:func:`_from_start`)."""
    r_start, curvature = at
    r0, states, tried = _converged_starts(a, b, settings, sigma, atoms, r_start, given)
    ranked = sorted(states.values(), key=lambda result: result.e_free)
    polarised = polarised_start(ranked[0].mf)
    if polarised is not None:
        tried += 1
        with contextlib.suppress(ScfNotConverged):
            ranked = sorted([*ranked, run_scf_below(
                ranked[0].mf.mol, settings, sigma, polarised, ranked[0].e_free - SAME_STATE_HA,
                settings.search_grid_level, rungs=CHEAP_RUNGS)], key=lambda result: result.e_free)
    rivals = _distinct_states(ranked, ranked[0].e_free + STATE_WINDOW_HA)[1:]
    first = BondPoint(r0, ranked[0].e_free, bond_slope(ranked[0], settings), ranked[0])
    minimum = _minimum(a, b, settings, sigma, first, curvature)
    minimum.evaluations += tried
    mol = minimum.point.scf.mf.mol
    retried = [(state.dm, RUNGS) for state in rivals]
    retried += _starts_at_minimum(mol, atoms, minimum.point.scf.spin_moment)
    polarised = polarised_start(minimum.point.scf.mf)
    if polarised is not None:
        retried.append((polarised, CHEAP_RUNGS))
    for dm0, rungs in retried:
        try:
            rival = run_scf_below(mol, settings, sigma, dm0,
                                  minimum.point.e_free - SAME_STATE_HA, rungs=rungs)
        except ScfNotConverged:
            continue
        minimum.evaluations += 1
        if rival.e_free < minimum.point.e_free - SAME_STATE_HA:  # the states cross
            again = _followed(a, b, settings, sigma, minimum.point.r, rival, curvature)
            again.evaluations += minimum.evaluations
            return again
    return minimum


def _followed(a: str, b: str, settings: Settings, sigma: float, r: float, state: ScfResult,
              curvature: float) -> Minimum:
    """The minimum of ``state`` (converged on the final grid at bond length ``r``, Bohr),
    searched from there on the search grid, or on the final grid where the search grid loses
    it: its minimum there ends above ``state`` itself (Cd-V: a 2S = 5 state 26 meV below the
    first minimum, which no rung converges on the search grid; the axial rung took its search
    back to the first state; 2026-12-06). ``curvature``: the estimate for the first step
    (Ha/Bohr^2)."""
    start = BondPoint(r, state.e_free, bond_slope(state, settings), state)
    minimum = _minimum(a, b, settings, sigma, start, curvature)
    if minimum.point.e_free <= state.e_free + SAME_STATE_HA:
        return minimum
    log.info("%s-%s: the state at %.3f Bohr is lost on the search grid (its minimum %.1f meV "
             "above it); searching on the final grid", a, b, r,
             (minimum.point.e_free - state.e_free) * HARTREE_EV * 1e3)
    on_final_grid = _minimum(a, b, settings, sigma, start, curvature, settings.grid_level)
    on_final_grid.evaluations += minimum.evaluations
    return on_final_grid


def _converged_starts(
    a: str, b: str, settings: Settings, sigma: float, atoms: tuple[AtomRecord, AtomRecord],
    r0: float, given: np.ndarray | None = None
) -> tuple[float, dict[str, ScfResult], int]:
    """(bond length in Bohr, start name -> converged SCF on the search grid, starts tried) at
    ``r0``, or failing that at the :data:`SHORTER_STARTS` fractions of it. With ``given``
    ([2, nao, nao] density, :func:`_from_start`), that start comes
    first, and is the first to climb the whole ladder if no start converges, at ``r0`` only (its
    minimum).
    Raises :class:`ScfNotConverged` if no start converges."""
    lower, tried = search_bounds(a, b, settings)[1], 0
    first_starts = {} if given is None else {"given": given}
    for fraction in (1.0,) if given is not None else (1.0, *SHORTER_STARTS):
        r = max(fraction * r0, lower)
        mol = diatomic(a, b, r * BOHR_ANGSTROM, settings.basis_map)
        starts = {**first_starts, **molecule_starts(mol, atoms)}
        tried += len(starts)
        try:
            return r, converge_starts(mol, settings, sigma, starts, settings.search_grid_level,
                                      CHEAP_RUNGS), tried
        except ScfNotConverged as error:
            failure = error
    raise failure


def _starts_at_minimum(mol, atoms: tuple[AtomRecord, AtomRecord], moment: float
                       ) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    """The [2, nao, nao] starts of :func:`molecule_starts` for ``mol`` tried again at its minimum
    of spin moment ``moment``, each with the rungs it climbs (the cheap ones; at a minimum of
    :data:`HIGH_SPIN_MOMENT` or more, the spin-restricted start on the Newton rung too): those from
    turned atoms (:data:`qc_jax.chem.spin.QUARTER_TURNS`) and those whose spin moment N_alpha -
    N_beta differs from ``moment`` in size by more than half an electron. The states found at
    the start geometry say little about the minimum:

    - far from it, Rn-Te: at GFN2-xTB's 2.78 Angstrom the ferromagnetic start falls into the
      closed shell, which the search follows to 3.83 Angstrom; there that start gives the
      triplet of the Te atom, 0.45 eV lower (2026-11-30);
    - near it, B-N: at GFN2-xTB's 1.21 Angstrom the ferromagnetic start falls into a
      broken-symmetry state of moment 0, which the search follows to 1.33 Angstrom (9 % away);
      there that start gives the triplet (experiment: X 3Pi), 0.14 eV lower; Cd-Ti, Hg-Ti and
      Al-V likewise, 1-2 eV lower (2026-12-02; before, only minima 15 % or more from the start
      geometry had these starts tried again);
    - the turned starts, at the start geometry, can fall into another state than near R_e
      (Ni-Ti: at the shipped R_e, 13 % shorter than the start, a turned start reaches 2S = 2,
      0.50 eV below the 2S = 0 minimum that the search from the start geometry found;
      2026-12-02)."""
    overlap = mol.intor_symmetric("int1e_ovlp")
    starts = molecule_starts(mol, atoms)
    tried = [(dm, CHEAP_RUNGS) for name, dm in starts.items()
             if TURNED in name or abs(abs(np.sum((dm[0] - dm[1]) * overlap)) - abs(moment)) > 0.5]
    if abs(moment) >= HIGH_SPIN_MOMENT:
        tried.append((starts[RESTRICTED], ("newton",)))
    return tried


def _distinct_states(results: list[ScfResult], ceiling: float) -> list[ScfResult]:
    """The ``results`` (sorted by free energy) below ``ceiling`` (Ha), one per state (states
    closer than ``SAME_STATE_HA`` in free energy and spin moment count once)."""
    distinct: list[ScfResult] = []
    for result in results:
        if result.e_free < ceiling and not any(
            abs(result.e_free - kept.e_free) < SAME_STATE_HA
            and abs(abs(result.spin_moment) - abs(kept.spin_moment)) < 1e3 * SAME_STATE_HA
            for kept in distinct
        ):
            distinct.append(result)
    return distinct


def _minimum(
    a: str, b: str, settings: Settings, sigma: float, start: BondPoint, curvature: float,
    grid_level: int | None = None,
) -> Minimum:
    """Search on the search grid (or on ``grid_level``) from ``start`` (``curvature``: the
    estimate for the first step, Ha/Bohr^2), then refine on the final grid: the force constant's
    two points around the minimum give the Newton step to the final grid's minimum, where the
    final SCF is done.

    On soft curves a small difference between the grids' slopes moves the minimum by slope / k,
    beyond the two points (He-Ne in STO-3G on grid levels 0 and 3: 0.29 Bohr; Au-Xe at the
    default levels 1 and 2 ended 0.10 eV/Angstrom from flat when the refinement was capped at
    three steps of ``freq_step``; 2026-11-30). Then the search continues on the final grid, and
    is refined again. A minimum whose curvature on the final grid is not positive is flagged
    (``FLAG_REASONS["flat"]``; Cs-Hg at 4.27 Angstrom, 2026-11-30): omega_e is undefined there."""
    grid_level = settings.search_grid_level if grid_level is None else grid_level
    search = optimise_bond(a, b, settings, sigma, start, grid_level, curvature)
    notes = [FLAG_REASONS[search.flag]] if search.flag else []
    evaluations = len(search.history)
    point = search.point
    if not search.converged:
        final = evaluate(a, b, point.r, settings, sigma, point)
        return Minimum(final, math.nan, evaluations, notes)
    try:
        k, step, final = _refined(a, b, settings, sigma, point)
        evaluations += 3
        if abs(step) >= settings.freq_step:
            search = optimise_bond(a, b, settings, sigma, final, settings.grid_level, k)
            evaluations += len(search.history) - 1
            if not search.converged:
                notes.append(FLAG_REASONS[search.flag])
                return Minimum(search.point, math.nan, evaluations, notes)
            k, step, final = _refined(a, b, settings, sigma, search.point)
            evaluations += 3
            if abs(step) >= settings.freq_step:
                notes.append(FLAG_REASONS["final_grid"])
        if not k > 0:
            notes.append(FLAG_REASONS["flat"])
    except ScfNotConverged:
        notes.append("SCF at a displaced bond length not converged: no frequency")
        final = evaluate(a, b, point.r, settings, sigma, point)
        return Minimum(final, math.nan, evaluations + 1, notes)
    return Minimum(final, k, evaluations, notes)


def _refined(
    a: str, b: str, settings: Settings, sigma: float, point: BondPoint
) -> tuple[float, float, BondPoint]:
    """(force constant in Ha/Bohr^2, Newton step in Bohr, the point it reaches) on the final
    grid around ``point``: the step to the minimum of the force constant's two points, capped at
    ``settings.freq_step`` (0 where the curvature is not positive). That point's SCF starts
    from the lower of the two, converged on the final grid already."""
    k, stencil = force_constant(a, b, point, settings, sigma)
    step = -0.5 * (stencil[0].slope + stencil[1].slope) / k if k > 0 else 0.0
    step = max(-settings.freq_step, min(settings.freq_step, step))
    lower = min(stencil, key=lambda displaced: displaced.e_free)
    return k, step, evaluate(a, b, point.r + step, settings, sigma, lower)


def _ion_energy(
    a: str, b: str, point: BondPoint, settings: Settings, sigma: float, charge: int, notes: list
) -> float:
    """Zero-temperature energy E0 (Ha) of the ion of ``charge`` at the geometry of ``point``,
    the lowest of its spin starts (:func:`qc_jax.chem.spin.ion_starts`; annealed from a larger
    k_B T where none converges at ``sigma``: :func:`qc_jax.chem.spin.annealed_starts`), on the
    search grid (ionisation energies on grid levels 1 and 2 agree to 1 meV for CO, O2 and MoS,
    at 0.6 of the cost; 2026-11-29); NaN (and a note) if it does not fit in the basis or does
    not converge."""
    name = "cation" if charge > 0 else "anion"
    mol = diatomic(a, b, point.r * BOHR_ANGSTROM, settings.basis_map, charge)
    if not 0 < mol.nelectron <= 2 * mol.nao:
        notes.append(f"the {name} has no electrons or does not fit in the basis")
        return math.nan
    starts = ion_starts(point.scf.mf, charge)
    grid = settings.search_grid_level
    try:
        states = converge_starts(mol, settings, sigma, starts, grid, ("diis",))
    except ScfNotConverged:
        try:
            states = annealed_starts(mol, settings, sigma, starts, grid)
        except ScfNotConverged:
            notes.append(f"SCF of the {name} not converged")
            return math.nan
    return min(states.values(), key=lambda result: result.e_free).e_zero
