"""The label table (name, unit, definition) and the computation of the labels of a pair.

Names follow the QuantumCanvas paper where the quantity is the same. ``LABELS`` is the single
source: docs/chemistry.md renders it with :func:`label_table_markdown`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from qc_jax import orbitals
from qc_jax.chem.scf import ScfResult
from qc_jax.orbitals import FRACTIONAL_FILLING
from qc_jax.units import HARTREE_EV


class Label(NamedTuple):
    name: str
    unit: str
    definition: str


LABELS: tuple[Label, ...] = (
    Label("total_energy_ev", "eV", "Kohn-Sham total energy E at the smeared occupations "
          "(electronic + nuclear repulsion + D3(BJ) dispersion; PySCF `e_tot`)"),
    Label("mermin_free_energy_ev", "eV", "Mermin free energy F = E - sigma S (S: Fermi-Dirac "
          "entropy); the quantity minimised over the bond length"),
    Label("zero_temperature_energy_ev", "eV", "zero-temperature estimate E0 = (E + F) / 2 (PySCF "
          "`e_zero`); binding, ionisation and affinity energies are differences of E0"),
    Label("dispersion_energy_ev", "eV", "D3(BJ) dispersion energy at R_e (part of every energy)"),
    Label("band_energy_ev", "eV", "sum_i n_i eps_i over Kohn-Sham levels eps_i, occupations n_i"),
    Label("repulsive_energy_ev", "eV", "nuclear repulsion between the (effective, ECP-reduced) "
          "nuclear charges; stands in for the paper's DFTB repulsive energy"),
    Label("e_homo_ev", "eV", "highest level of either spin with occupation above "
          f"{FRACTIONAL_FILLING} (qc_jax.orbitals)"),
    Label("e_lumo_ev", "eV", "lowest level of either spin with occupation below "
          f"{1 - FRACTIONAL_FILLING} (NaN if none)"),
    Label("e_g_ev", "eV", "max(e_lumo_ev - e_homo_ev, 0): 0 when a level is fractionally "
          "occupied"),
    Label("fermi_level_ev", "eV", "chemical potential mu of the Fermi-Dirac occupations, common "
          "to both spins (sum of spin-orbital occupations = number of electrons)"),
    Label("i_ev", "eV", "vertical ionisation energy E0(cation) - E0(neutral) at R_e; each ion "
          "spin-polarised, the lowest of its spin starts (qc_jax.chem.spin), on the search grid"),
    Label("a_ev", "eV", "vertical electron affinity E0(neutral) - E0(anion) at R_e"),
    Label("i_koopmans_ev", "eV", "Koopmans ionisation energy -e_homo_ev (the paper's i_ev)"),
    Label("a_koopmans_ev", "eV", "Koopmans electron affinity -e_lumo_ev (the paper's a_ev)"),
    Label("chi_ev", "eV", "electronegativity (I + A) / 2 from i_ev, a_ev"),
    Label("mu_ev", "eV", "chemical potential -chi_ev"),
    Label("eta_ev", "eV", "chemical hardness (I - A) / 2 from i_ev, a_ev"),
    Label("softness_evinv", "1/eV", "1 / eta_ev (NaN if eta_ev <= 0)"),
    Label("electrophilicity_ev", "eV", "mu_ev^2 / (2 eta_ev) (NaN if eta_ev <= 0)"),
    Label("binding_energy_ev", "eV", "E0(AB) - E(A) - E(B); E(atom): spin-polarised free atom at "
          "the same level, the lower of its smeared E0 and its integer-occupation energy "
          "(qc_jax.chem.atoms); negative = bound (-D_e)"),
    Label("van_der_waals", "bool", "1 if the pair is bound only by dispersion: "
          "binding_energy_ev - dispersion_energy_ev >= 0"),
    Label("spin_moment", "e", "N_alpha - N_beta of the neutral pair at R_e (>= 0: 0 singlet, "
          "1 doublet, 2 triplet, fractional for metallic states)"),
    Label("s_squared", "1", "<S^2> = S_z (S_z + 1) + N_beta - tr(P_alpha S P_beta S) of the "
          "Kohn-Sham density matrices (spin contamination: above S_z (S_z + 1))"),
    Label("omega_e_cm1", "cm^-1", "harmonic wavenumber sqrt(k / mu_red) / (2 pi c); k = d^2 E_free "
          "/ dR^2 at R_e by central differences of analytic gradients; mu_red from the most "
          "abundant isotopes (NaN without a minimum)"),
    Label("dipole_x_d", "D", "x component of the dipole moment (bond along z)"),
    Label("dipole_y_d", "D", "y component of the dipole moment"),
    Label("dipole_z_d", "D", "z component of the dipole moment; positive when B (the atom at +z, "
          "higher Z) carries the positive end"),
    Label("dipole_mag_d", "D", "magnitude of the dipole moment"),
    Label("q_absmean", "e", "mean of |Mulliken charge| over the two atoms"),
    Label("q_maxabs", "e", "max of |Mulliken charge| (equals q_absmean for a neutral dimer)"),
    Label("q_std", "e", "population standard deviation of the two Mulliken charges (equals "
          "q_absmean for a neutral dimer)"),
    Label("total_charge", "e", "sum of the Mulliken charges (0 for the neutral pair)"),
    Label("distance_ang", "Angstrom", "optimised bond length R_e (last geometry if flagged)"),
    Label("metal_like", "bool", "1 if any spin-orbital is fractionally occupied "
          f"({FRACTIONAL_FILLING} < n < {1 - FRACTIONAL_FILLING}) at the electronic temperature"),
    Label("n_levels", "count", "number of Kohn-Sham levels (molecular orbitals) per spin"),
    Label("n_electrons", "count", "number of electrons treated explicitly (ECP cores excluded)"),
    Label("max_occupancy", "e", "largest spin-orbital occupation (at most 1)"),
    Label("no_virtual_in_basis", "bool", "1 if no level is left empty (no LUMO)"),
    Label("smearing_sigma_ev", "eV", "electronic temperature k_B T of the Fermi smearing used "
          "(raised from the default only when the molecule itself fails to converge)"),
    Label("scf_converged", "bool", "1 (unconverged pairs are stored as failed, without labels)"),
    Label("scf_rung", "index", "convergence-ladder rung of the final SCF: 0 diis, 1 damped, "
          "2 newton, 3 axial"),
    Label("scf_cycles", "count", "SCF iterations of the final SCF at R_e"),
    Label("scf_grad_norm", "a.u.", "norm of the final SCF orbital gradient"),
    Label("geom_converged", "bool", "1 if the bond search met its tolerance"),
    Label("geom_opt_steps", "count", "SCF calculations of the neutral pair: spin starts, bond "
          "search, refinement on the final grid, force constant and state checks"),
    Label("geom_slope_ev_ang", "eV/Angstrom", "d E_free / dR at the final geometry"),
)  # fmt: skip

LABEL_NAMES: tuple[str, ...] = tuple(label.name for label in LABELS)

NON_NEGATIVE: frozenset[str] = frozenset({
    "e_g_ev", "spin_moment", "s_squared", "omega_e_cm1", "dipole_mag_d", "q_absmean", "q_maxabs",
    "q_std", "distance_ang",
})  # fmt: skip
"""Labels that are >= 0 by their definition above; a model's prediction of one is never below 0
(``qc_models.input_pipeline.Normalizer.clip_predictions``)."""

CONVERGENCE_DIAGNOSTICS: frozenset[str] = frozenset({
    "scf_rung", "scf_cycles", "scf_grad_norm", "geom_opt_steps", "geom_slope_ev_ang",
})  # fmt: skip
"""Labels that say how a result was reached, not what it is: two runs of the same pair that reach
the same state agree on every other label to the convergence tolerance, not on these."""

_UNITS = {label.name: label.unit for label in LABELS}


def unit(name: str) -> str:
    """The unit of label ``name`` (e_g_ev -> eV, omega_e_cm1 -> cm^-1); empty for a name outside
    :data:`LABELS`."""
    return _UNITS.get(name, "")


def label_table_markdown() -> str:
    """The label table as a Markdown table (name, unit, definition)."""
    rows = ["| label | unit | definition |", "|---|---|---|"]
    rows += [f"| `{lab.name}` | {lab.unit} | {lab.definition} |" for lab in LABELS]
    return "\n".join(rows) + "\n"


def largest_difference(labels: dict[str, float], others: dict[str, float]) -> tuple[float, str]:
    """The largest absolute difference between two label sets of one pair, and its label (NaN in
    both counts as equal; :data:`CONVERGENCE_DIAGNOSTICS` are not compared)."""
    return max((0.0 if np.isnan(value) and np.isnan(others[name]) else abs(value - others[name]),
                name) for name, value in labels.items() if name not in CONVERGENCE_DIAGNOSTICS)


def fermi_level(mo_energy: np.ndarray, n_electrons: float, sigma: float) -> float:
    """Chemical potential mu (Ha) with sum_i f((eps_i - mu) / sigma) = ``n_electrons`` over the
    spin-orbital energies ``mo_energy`` (any shape; both spins together)."""
    from scipy.optimize import brentq
    from scipy.special import expit

    energies = np.ravel(mo_energy)

    def excess(mu: float) -> float:
        return expit((mu - energies) / sigma).sum() - n_electrons

    return float(brentq(excess, energies.min() - 1.0, energies.max() + 1.0, xtol=1e-12))


@dataclass
class IonEnergies:
    """Zero-temperature energies E0 (Ha) at R_e of the neutral pair, its cation and its anion
    (NaN if failed)."""

    neutral: float
    cation: float
    anion: float


def electronic_labels(
    scf: ScfResult, charges: np.ndarray, ions: IonEnergies, e_atoms: float, sigma: float
) -> dict[str, float]:
    """Labels of a converged smeared UKS calculation ``scf`` of the neutral pair (energies,
    levels, conceptual DFT, dipole, charges, spin, occupations); ``charges`` [2] Mulliken charges
    (e), ``e_atoms`` the summed free-atom energies (Ha), ``sigma`` the smearing width (Ha)."""
    mf = scf.mf
    eps, occ = np.asarray(mf.mo_energy), np.asarray(mf.mo_occ)
    levels = orbitals.frontier(eps, occ)
    n_electrons = float(occ.sum())
    full = n_electrons > eps.size - 1e-6  # no room above: the Fermi level is undefined
    mu_f = math.nan if full else fermi_level(eps, n_electrons, sigma)
    ionisation = ions.cation - ions.neutral
    affinity = ions.neutral - ions.anion
    eta = 0.5 * (ionisation - affinity)
    chi = 0.5 * (ionisation + affinity)
    dipole = np.asarray(mf.dip_moment(unit="Debye", verbose=0))
    dispersion = float(mf.scf_summary.get("dispersion", 0.0))
    binding = scf.e_zero - e_atoms
    ha = {  # energies in Hartree, converted below
        "total_energy_ev": mf.e_tot,
        "mermin_free_energy_ev": scf.e_free,
        "zero_temperature_energy_ev": scf.e_zero,
        "dispersion_energy_ev": dispersion,
        "band_energy_ev": float(np.sum(occ * eps)),
        "repulsive_energy_ev": mf.energy_nuc(),
        "e_homo_ev": levels.homo,
        "e_lumo_ev": levels.lumo,
        "e_g_ev": levels.gap,
        "fermi_level_ev": mu_f,
        "i_ev": ionisation,
        "a_ev": affinity,
        "i_koopmans_ev": -levels.homo,
        "a_koopmans_ev": -levels.lumo,
        "chi_ev": chi,
        "mu_ev": -chi,
        "eta_ev": eta,
        "binding_energy_ev": binding,
        "smearing_sigma_ev": sigma,
    }
    labels = {name: float(value) * HARTREE_EV for name, value in ha.items()}
    eta_ev = labels["eta_ev"]
    positive_eta = eta_ev > 0
    labels["softness_evinv"] = 1 / eta_ev if positive_eta else math.nan
    labels["electrophilicity_ev"] = (
        labels["mu_ev"] ** 2 / (2 * eta_ev) if positive_eta else math.nan
    )
    labels.update(
        van_der_waals=binding - dispersion >= 0,
        spin_moment=abs(scf.spin_moment),
        s_squared=scf.s_squared,
        dipole_x_d=dipole[0],
        dipole_y_d=dipole[1],
        dipole_z_d=dipole[2],
        dipole_mag_d=np.linalg.norm(dipole),
        q_absmean=np.abs(charges).mean(),
        q_maxabs=np.abs(charges).max(),
        q_std=charges.std(),
        total_charge=charges.sum(),
        metal_like=orbitals.is_fractional(occ),
        n_levels=eps.shape[-1],
        n_electrons=mf.mol.nelectron,
        max_occupancy=occ.max(),
        no_virtual_in_basis=not math.isfinite(levels.lumo),
        scf_converged=True,
    )
    return {name: float(value) for name, value in labels.items()}


if __name__ == "__main__":  # python -m qc_jax.chem.labels: the table of docs/chemistry.md
    print(label_table_markdown(), end="")
