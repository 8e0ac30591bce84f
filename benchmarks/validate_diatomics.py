"""The default level of theory against experiment: R_e, omega_e, spin, D_e and ionisation energies.

Usage: OMP_NUM_THREADS=1 python benchmarks/validate_diatomics.py [--store data/store] [--jobs 1]
    [--set basis_map=sbkjc ...]

Computes the missing pairs of ``qc_jax.chem.experiment.EXPERIMENT`` into the store (reused later;
the store keeps each level of theory apart) at the default level of theory, or the default with
the ``--set`` changes (as ``stage_cost.py``), and prints three Markdown tables (geometry and spin;
D_e; ionisation energies) with their MAEs, and the CPU time the records took.
"""

import argparse
import math

import numpy as np
from stage_cost import changed_settings

from qc_jax.chem.experiment import DISSOCIATION, EXPERIMENT, IONISATION, Diatomic
from qc_jax.chem.runner import compute_missing
from qc_jax.elements import pair_name
from qc_jax.store import Store


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def mae(errors: list[float]) -> float:
    return float(np.mean(np.abs(errors)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="data/store")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="changes of the default settings, e.g. grid_level=1")
    args = parser.parse_args()
    settings = changed_settings(args.set)
    print("settings:", ", ".join(args.set) or "the default", f"(digest {settings.digest()[:16]})\n")
    store = Store(args.store, settings)
    compute_missing(store, [(m.a, m.b) for m in EXPERIMENT], jobs=args.jobs)
    records = {m: store.load(m.a, m.b) for m in EXPERIMENT}
    labels = {m: record.labels for m, record in records.items()}

    def name(m: Diatomic) -> str:
        return pair_name(m.a, m.b)

    rows, r_errors, w_errors = [], [], []
    for m in EXPERIMENT:
        lab = labels[m]
        r, w = lab["distance_ang"], lab["omega_e_cm1"]
        r_errors.append(r - m.r_e_ang)
        w_errors.append(100 * (w - m.omega_e_cm1) / m.omega_e_cm1)
        multiplicity = round(lab["spin_moment"]) + 1
        rows.append([name(m), records[m].status, f"{r:.4f}", f"{m.r_e_ang:.4f}",
                     f"{r_errors[-1]:+.4f}",
                     f"{w:.0f}", f"{m.omega_e_cm1:.0f}", f"{w_errors[-1]:+.1f}",
                     f"{lab['spin_moment']:.2f}", f"{lab['s_squared']:.3f}",
                     f"{m.multiplicity}" + ("" if multiplicity == m.multiplicity else " (!)"),
                     f"{records[m].wall_time_s:.1f}"])  # fmt: skip
    print(table(["pair", "status", "R_e calc (A)", "R_e exp (A)", "error (A)", "omega_e calc",
                 "omega_e exp", "error (%)", "N_a - N_b", "<S^2>", "2S+1 exp", "time (s)"],
                rows))  # fmt: skip
    print(f"\nMAE R_e = {mae(r_errors):.4f} A, MAE omega_e = {mae(w_errors):.2f} % "
          f"({len(EXPERIMENT)} molecules); spin multiplicity right for "
          f"{sum(round(labels[m]['spin_moment']) + 1 == m.multiplicity for m in EXPERIMENT)}"
          f" of {len(EXPERIMENT)}\n")  # fmt: skip

    rows, d_errors = [], []
    for m in DISSOCIATION:
        d_e = -labels[m]["binding_energy_ev"]
        d_errors.append(d_e - m.d_e_ev)
        rows.append([name(m), f"{d_e:.3f}", f"{m.d0_ev:.3f}", f"{m.d_e_ev:.3f}",
                     f"{d_errors[-1]:+.3f}"])  # fmt: skip
    print(table(["pair", "D_e calc (eV)", "D_0 exp (eV)", "D_e exp (eV)", "error (eV)"], rows))
    print(f"\nMAE D_e = {mae(d_errors):.3f} eV ({len(DISSOCIATION)} molecules)\n")

    rows, i_errors = [], []
    for m in IONISATION:
        ionisation = labels[m]["i_ev"]
        if math.isnan(ionisation):
            continue
        i_errors.append(ionisation - m.ie_ev)
        rows.append([name(m), f"{ionisation:.3f}", f"{m.ie_ev:.3f}", f"{i_errors[-1]:+.3f}"])
    print(table(["pair", "IE vertical calc (eV)", "IE adiabatic exp (eV)", "error (eV)"], rows))
    print(f"\nMAE IE = {mae(i_errors):.3f} eV ({len(i_errors)} molecules)")
    cpu = sum(record.cpu_time_s for record in records.values())
    print(f"CPU time of the {len(EXPERIMENT)} records: {cpu:.0f} s (free atoms not included)")


if __name__ == "__main__":
    main()
