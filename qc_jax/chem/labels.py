"""The label table (name, unit, definition) and the computation of the labels of a pair.

Names follow the QuantumCanvas paper where the quantity is the same. ``LABELS`` is the single
source: docs/chemistry.md renders it with :func:`label_table_markdown`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from qc_jax.chem.units import HARTREE_EV

FRACTIONAL_FILLING = 0.01
"""A level is fractionally occupied when FRACTIONAL_FILLING < n/2 < 1 - FRACTIONAL_FILLING."""


class Label(NamedTuple):
    name: str
    unit: str
    definition: str


LABELS: tuple[Label, ...] = (
    Label("total_energy_ev", "eV", "Kohn-Sham total energy E at the smeared occupations "
          "(electronic + nuclear repulsion; PySCF `e_tot`)"),
    Label("mermin_free_energy_ev", "eV", "Mermin free energy E - sigma S (S: Fermi-Dirac entropy); "
          "the quantity minimised over the bond length"),
    Label("band_energy_ev", "eV", "sum_i n_i eps_i over Kohn-Sham levels eps_i, occupations n_i"),
    Label("repulsive_energy_ev", "eV", "nuclear repulsion between the (effective, ECP-reduced) "
          "nuclear charges; stands in for the paper's DFTB repulsive energy"),
    Label("e_homo_ev", "eV", "highest level at or below the Fermi level"),
    Label("e_lumo_ev", "eV", "lowest level above the Fermi level (NaN if none)"),
    Label("e_g_ev", "eV", "e_lumo_ev - e_homo_ev"),
    Label("fermi_level_ev", "eV", "chemical potential mu of the Fermi-Dirac occupations "
          "(sum_i n_i = number of electrons)"),
    Label("i_ev", "eV", "vertical ionisation energy E_free(cation) - E_free(neutral) at R_e"),
    Label("a_ev", "eV", "vertical electron affinity E_free(neutral) - E_free(anion) at R_e"),
    Label("i_koopmans_ev", "eV", "Koopmans ionisation energy -e_homo_ev (the paper's i_ev)"),
    Label("a_koopmans_ev", "eV", "Koopmans electron affinity -e_lumo_ev (the paper's a_ev)"),
    Label("chi_ev", "eV", "electronegativity (I + A) / 2 from i_ev, a_ev"),
    Label("mu_ev", "eV", "chemical potential -chi_ev"),
    Label("eta_ev", "eV", "chemical hardness (I - A) / 2 from i_ev, a_ev"),
    Label("softness_evinv", "1/eV", "1 / eta_ev (NaN if eta_ev <= 0)"),
    Label("electrophilicity_ev", "eV", "mu_ev^2 / (2 eta_ev) (NaN if eta_ev <= 0)"),
    Label("binding_energy_ev", "eV", "E_free(AB) - E_free(A) - E_free(B), free atoms at the same "
          "level (restricted, smeared); negative = bound"),
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
    Label("metal_like", "bool", "1 if any level is fractionally occupied "
          f"({FRACTIONAL_FILLING} < n/2 < {1 - FRACTIONAL_FILLING}) at the electronic temperature"),
    Label("n_levels", "count", "number of Kohn-Sham levels (molecular orbitals)"),
    Label("n_electrons", "count", "number of electrons treated explicitly (ECP cores excluded)"),
    Label("max_occupancy", "e", "largest orbital occupation (2 in a restricted calculation)"),
    Label("no_virtual_in_basis", "bool", "1 if no level lies above the Fermi level"),
    Label("smearing_sigma_ev", "eV", "electronic temperature k_B T of the Fermi smearing used "
          "(raised from the default only by the last convergence rung)"),
    Label("scf_converged", "bool", "1 (unconverged pairs are stored as failed, without labels)"),
    Label("scf_rung", "index", "convergence-ladder rung of the final SCF: 0 diis, 1 damped, "
          "2 newton"),
    Label("scf_cycles", "count", "SCF iterations of the final SCF at R_e"),
    Label("scf_grad_norm", "a.u.", "norm of the final SCF orbital gradient"),
    Label("geom_converged", "bool", "1 if the bond search met its tolerance"),
    Label("geom_opt_steps", "count", "number of bond lengths evaluated by the search"),
    Label("geom_slope_ev_ang", "eV/Angstrom", "d E_free / dR at the final geometry"),
)  # fmt: skip

LABEL_NAMES: tuple[str, ...] = tuple(label.name for label in LABELS)


def label_table_markdown() -> str:
    """The label table as a Markdown table (name, unit, definition)."""
    rows = ["| label | unit | definition |", "|---|---|---|"]
    rows += [f"| `{lab.name}` | {lab.unit} | {lab.definition} |" for lab in LABELS]
    return "\n".join(rows) + "\n"


def fermi_level(mo_energy: np.ndarray, n_electrons: float, sigma: float) -> float:
    """Chemical potential mu (Ha) with sum_i 2 f((eps_i - mu) / sigma) = ``n_electrons``."""
    from scipy.optimize import brentq
    from scipy.special import expit

    def excess(mu: float) -> float:
        return 2 * expit((mu - mo_energy) / sigma).sum() - n_electrons

    return float(brentq(excess, mo_energy.min() - 1.0, mo_energy.max() + 1.0, xtol=1e-12))


@dataclass
class IonEnergies:
    """Free energies (Ha) at R_e of the neutral pair, its cation and its anion (NaN if failed)."""

    neutral: float
    cation: float
    anion: float


def electronic_labels(
    mf, charges: np.ndarray, ions: IonEnergies, e_free_atoms: float, sigma: float
) -> dict[str, float]:
    """Labels of a converged smeared RKS calculation ``mf`` of the neutral pair (energies, levels,
    conceptual DFT, dipole, charges, occupations); ``charges`` [2] Mulliken charges (e),
    ``e_free_atoms`` the summed free-atom free energies (Ha), ``sigma`` the smearing width (Ha)."""
    eps, occ = np.asarray(mf.mo_energy), np.asarray(mf.mo_occ)
    n_electrons = float(occ.sum())
    full = n_electrons > 2 * eps.size - 1e-6  # no room above: the Fermi level is undefined
    mu_f = math.nan if full else fermi_level(eps, n_electrons, sigma)
    above = eps[eps > mu_f] if not full else eps[:0]
    homo = float(eps.max() if full else eps[eps <= mu_f].max())
    lumo = float(above.min()) if above.size else math.nan
    ionisation = ions.cation - ions.neutral
    affinity = ions.neutral - ions.anion
    eta = 0.5 * (ionisation - affinity)
    chi = 0.5 * (ionisation + affinity)
    dipole = np.asarray(mf.dip_moment(unit="Debye", verbose=0))
    filling = occ / 2
    ha = {  # energies in Hartree, converted below
        "total_energy_ev": mf.e_tot,
        "mermin_free_energy_ev": mf.e_free,
        "band_energy_ev": float(occ @ eps),
        "repulsive_energy_ev": mf.energy_nuc(),
        "e_homo_ev": homo,
        "e_lumo_ev": lumo,
        "e_g_ev": lumo - homo,
        "fermi_level_ev": mu_f,
        "i_ev": ionisation,
        "a_ev": affinity,
        "i_koopmans_ev": -homo,
        "a_koopmans_ev": -lumo,
        "chi_ev": chi,
        "mu_ev": -chi,
        "eta_ev": eta,
        "binding_energy_ev": mf.e_free - e_free_atoms,
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
        dipole_x_d=dipole[0],
        dipole_y_d=dipole[1],
        dipole_z_d=dipole[2],
        dipole_mag_d=np.linalg.norm(dipole),
        q_absmean=np.abs(charges).mean(),
        q_maxabs=np.abs(charges).max(),
        q_std=charges.std(),
        total_charge=charges.sum(),
        metal_like=bool(
            np.any((filling > FRACTIONAL_FILLING) & (filling < 1 - FRACTIONAL_FILLING))
        ),
        n_levels=eps.size,
        n_electrons=mf.mol.nelectron,
        max_occupancy=occ.max(),
        no_virtual_in_basis=not above.size,
        scf_converged=True,
    )
    return {name: float(value) for name, value in labels.items()}


if __name__ == "__main__":  # python -m qc_jax.chem.labels: the table of docs/chemistry.md
    print(label_table_markdown(), end="")
