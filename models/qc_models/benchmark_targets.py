"""What the benchmark predicts, which labels it leaves out and why, and the paper's numbers.

Every label of the dataset (`qc_jax.chem.labels.LABELS`) is either a benchmark target or left
out with a reason; the published numbers are those of Polat et al., "QuantumCanvas: A Multimodal
Benchmark for Visual Learning of Atomic Interactions", arXiv 2512.01519 (DFTB+ labels; ours are
DFT, so only the skill ratio MAE / constant-predictor MAE compares across the two datasets).

Kept free of heavy imports: the command line reads it before JAX is loaded.
"""

from __future__ import annotations

import dataclasses

#: Distinct regression targets that no input gives away (test MAE in the label's unit).
TARGETS = (
    "e_g_ev",
    "e_homo_ev",
    "e_lumo_ev",
    "total_energy_ev",
    "band_energy_ev",
    "binding_energy_ev",
    "i_ev",
    "a_ev",
    "omega_e_cm1",
    "dipole_mag_d",
    "q_absmean",
    "spin_moment",
)

_INPUT = "given by the inputs: "
_SAME = "redundant: "
_META = "not a property of the molecule: "

#: Labels left out of the targets -> why.
LEFT_OUT = {
    "distance_ang": _INPUT + "the bond length is the distance between the input positions",
    "repulsive_energy_ev": _INPUT + "nuclear repulsion Z_A Z_B / R of the atomic numbers and "
    "positions",
    "dispersion_energy_ev": _INPUT + "D3(BJ) is a closed-form function of the atomic numbers and "
    "positions",
    "n_electrons": _INPUT + "fixed by the atomic numbers (and the ECPs)",
    "n_levels": _INPUT + "fixed by the atomic numbers (the size of the basis)",
    "total_charge": _INPUT + "0 for every (neutral) pair",
    "dipole_x_d": _INPUT + "0 by symmetry (the bond is along z)",
    "dipole_y_d": _INPUT + "0 by symmetry (the bond is along z)",
    "mermin_free_energy_ev": _SAME + "total_energy_ev minus the smearing term sigma S",
    "zero_temperature_energy_ev": _SAME + "the mean of total_energy_ev and mermin_free_energy_ev",
    "i_koopmans_ev": _SAME + "-e_homo_ev",
    "a_koopmans_ev": _SAME + "-e_lumo_ev",
    "chi_ev": _SAME + "(i_ev + a_ev) / 2",
    "mu_ev": _SAME + "-(i_ev + a_ev) / 2",
    "eta_ev": _SAME + "(i_ev - a_ev) / 2",
    "softness_evinv": _SAME + "1 / eta_ev (NaN where eta_ev <= 0)",
    "electrophilicity_ev": _SAME + "mu_ev^2 / (2 eta_ev) (NaN where eta_ev <= 0)",
    "fermi_level_ev": _SAME + "lies between e_homo_ev and e_lumo_ev",
    "dipole_z_d": _SAME + "+-dipole_mag_d (the bond is along z)",
    "q_maxabs": _SAME + "equals q_absmean for a neutral dimer",
    "q_std": _SAME + "equals q_absmean for a neutral dimer",
    "s_squared": _SAME + "follows spin_moment (S_z (S_z + 1) plus a small contamination)",
    "van_der_waals": _SAME + "a yes/no function of binding_energy_ev and dispersion_energy_ev",
    "metal_like": _META + "a yes/no flag of fractional occupation at the smearing temperature",
    "max_occupancy": _META + "below 1 only where a level is fractionally occupied (smearing)",
    "no_virtual_in_basis": _META + "a yes/no property of the basis set",
    "smearing_sigma_ev": _META + "the electronic temperature the SCF used",
    "scf_converged": _META + "convergence metadata",
    "scf_rung": _META + "convergence metadata",
    "scf_cycles": _META + "convergence metadata",
    "scf_grad_norm": _META + "convergence metadata",
    "geom_converged": _META + "convergence metadata",
    "geom_opt_steps": _META + "convergence metadata",
    "geom_slope_ev_ang": _META + "convergence metadata",
}

#: Targets drawn into the paper's population stamps (`qc_jax.stamps`: |mu| in `dipole_pattern`,
#: |q_i| in `charge`, `cation` and `anion`) and held by the scalar baseline's generating scalars.
STAMPED = ("dipole_mag_d", "q_absmean")

#: Model -> the targets among its inputs.
INPUT_OF = {"scalar_mlp": STAMPED}

#: Experiment -> the targets among the inputs of every model of it (the stamps control's
#: canvases are the stamps).
INPUT_OF_EXPERIMENT = {"stamps": STAMPED}


def inputs_of(experiment: str, model: str) -> tuple[str, ...]:
    """The targets that `model` reads among its inputs in `experiment`: their MAE measures no
    learning (marked in the tables, never the best, left out of the controls' verdicts)."""
    return INPUT_OF.get(model, ()) + INPUT_OF_EXPERIMENT.get(experiment, ())


@dataclasses.dataclass(frozen=True)
class Published:
    """A test MAE of the paper (mean over its three seeds, DFTB+ labels) and the model."""

    mae: float
    model: str


#: The paper's best published MAE of each of our targets that it reports (arXiv 2512.01519).
PAPER_BEST = {
    "e_g_ev": Published(0.201, "GATv2"),
    "e_homo_ev": Published(0.265, "GCN (named EGNN)"),
    "e_lumo_ev": Published(0.274, "GCN (named EGNN)"),
    "total_energy_ev": Published(2.27, "DimeNet++"),
}

#: The paper's constant-predictor MAE, where published: the denominator of its skill ratio.
PAPER_CONSTANT = {"e_g_ev": 0.47}

#: Published numbers of labels left out here, and why they do not measure learning.
PAPER_LEFT_OUT = {
    "distance_ang": (Published(0.008, "DimeNet++"), "read from the input coordinates"),
    "repulsive_energy_ev": (Published(0.132, "DimeNet++"), "a function of Z and R"),
    "mermin_free_energy_ev": (Published(2.15, "fusion"), "the total energy again"),
}


def paper_skill(target: str) -> float | None:
    """The paper's best MAE / its constant-predictor MAE, where both are published."""
    if target in PAPER_BEST and target in PAPER_CONSTANT:
        return PAPER_BEST[target].mae / PAPER_CONSTANT[target]
    return None
