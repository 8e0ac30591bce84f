"""Optimised R_e and omega_e at the default level of theory against experiment (Huber-Herzberg).

Usage: OMP_NUM_THREADS=1 python benchmarks/validate_diatomics.py [--store data/store] [--jobs 1]
Computes the missing pairs into the store (reused later), prints a Markdown table and the MAEs.
"""

import argparse

import numpy as np

from qc_jax.chem.experiment import EXPERIMENT
from qc_jax.chem.runner import compute_missing
from qc_jax.chem.settings import DEFAULT
from qc_jax.elements import pair_name
from qc_jax.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="data/store")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    store = Store(args.store, DEFAULT)
    compute_missing(store, [(m.a, m.b) for m in EXPERIMENT], jobs=args.jobs)
    print("| pair | R_e calc (A) | R_e exp (A) | error (A) | omega_e calc (cm^-1) | "
          "omega_e exp (cm^-1) | error (%) | time (s) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    r_errors, w_errors = [], []
    for m in EXPERIMENT:
        record = store.load(m.a, m.b)
        r, w = record.labels["distance_ang"], record.labels["omega_e_cm1"]
        r_errors.append(r - m.r_e_ang)
        w_errors.append(100 * (w - m.omega_e_cm1) / m.omega_e_cm1)
        cells = [pair_name(m.a, m.b), f"{r:.4f}", f"{m.r_e_ang:.4f}", f"{r_errors[-1]:+.4f}",
                 f"{w:.0f}", f"{m.omega_e_cm1:.0f}", f"{w_errors[-1]:+.1f}",
                 f"{record.wall_time_s:.1f}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |")
    r_mae, w_mae = np.mean(np.abs(r_errors)), np.mean(np.abs(w_errors))
    print(f"\nMAE R_e = {r_mae:.4f} A, MAE omega_e = {w_mae:.2f} % ({len(EXPERIMENT)} molecules)")


if __name__ == "__main__":
    main()
