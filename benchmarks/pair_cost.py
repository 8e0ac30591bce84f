"""What a paper75 pair costs at the default level of theory, and the projection for all 2,850.

Sample (fixed, seeded): the 12 pairs of the version-1 measurement
(``numpy.random.default_rng(0).choice(2850, 12, replace=False)`` over ``pairs("paper75")``) and 12
more (``default_rng(1)``, distinct from them). The pairs and their free atoms are computed into a
fresh store with ``--jobs`` worker processes (one thread each); the script prints one row per pair
(its CPU time, the free atoms it needed first not included: each atom is computed once and has its
own), the median and mean, the atoms' CPU time, and the projection: 2,850 x mean pair time + 75 x
mean atom time, in CPU-hours. CPU time is what a pair costs one core, whatever else runs. Where
the pair is shipped, its row also has the shipped record's CPU time (computed by an earlier code,
often while both cores were busy) and the largest difference of any label from it (convergence
diagnostics excluded: ``qc_jax.chem.labels.CONVERGENCE_DIAGNOSTICS``).

Usage: OMP_NUM_THREADS=1 python benchmarks/pair_cost.py --store /tmp/cost_store [--jobs 2]
"""

import argparse
import statistics

import numpy as np

from qc_jax.chem.labels import largest_difference
from qc_jax.chem.runner import compute_missing
from qc_jax.chem.settings import DEFAULT
from qc_jax.elements import ELEMENT_SETS, pair_name, pairs
from qc_jax.units import HARTREE_EV

V1_SECONDS = {  # version 1 (spin-restricted PBE), the same pairs, docs/chemistry.md, 2026-11-28
    "K_Te": 19, "P_Zr": 27, "Ag_Pd": 34, "Ir_Tl": 35, "B_V": 36, "Ca_Rh": 37, "Ar_Ti": 41,
    "Ge_Ru": 46, "Rh_Sb": 46, "Al_Ni": 74, "Br_Xe": 85, "Ni_V": 152,
}  # fmt: skip


def sample() -> list[tuple[str, str]]:
    """The 24 pairs of the sample (module docstring)."""
    every = pairs("paper75")
    first = list(np.random.default_rng(0).choice(len(every), 12, replace=False))
    rest = [i for i in np.random.default_rng(1).permutation(len(every)) if i not in first][:12]
    return [every[i] for i in first + rest]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="a fresh store folder (times are new)")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    from quantum_canvas.records import shipped_records

    from qc_jax.store import Store

    store = Store(args.store, DEFAULT)
    shipped = shipped_records(DEFAULT)
    todo = sample()
    summary = compute_missing(store, todo, jobs=args.jobs)
    print(summary.text())
    print("\n| pair | status | R_e (A) | 2S | E_bind (eV) | k_B T (Ha) | CPU (s) | v1 wall (s) "
          "| shipped CPU (s) | largest label difference |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    times, shipped_times = [], {}  # shipped_times: name -> (now, shipped) CPU-s
    for a, b in sorted(todo, key=lambda ab: store.load(*ab).cpu_time_s):
        record = store.load(a, b)
        times.append(record.cpu_time_s)
        lab = record.labels
        cells = [pair_name(a, b), record.status] + (
            [f"{lab['distance_ang']:.3f}", f"{lab['spin_moment']:.2f}",
             f"{lab['binding_energy_ev']:.2f}", f"{lab['smearing_sigma_ev'] / HARTREE_EV:g}"]
            if lab else ["", "", "", ""])  # fmt: skip
        cells += [f"{record.cpu_time_s:.0f}", str(V1_SECONDS.get(pair_name(a, b), ""))]
        old = shipped.get(pair_name(a, b)) if shipped else None
        if old is not None and old.labels and lab:
            difference, label = largest_difference(lab, old.labels)
            cells += [f"{old.cpu_time_s:.0f}", f"{difference:.1e} ({label})"]
            shipped_times[pair_name(a, b)] = (record.cpu_time_s, old.cpu_time_s)
        else:
            cells += ["", ""]
        print("| " + " | ".join(cells) + " |")
    atoms = [store.get_atom(element, DEFAULT.smearing_sigma) for element in
             sorted({element for pair in todo for element in pair})]  # fmt: skip
    atom_times = [atom.cpu_time_s for atom in atoms if atom is not None]
    same = [p for p in V1_SECONDS if store.get(p) is not None]
    v2_same = sum(store.load(p).cpu_time_s for p in same)
    n_pairs, n_atoms = len(pairs("paper75")), len(ELEMENT_SETS["paper75"])
    projection = (n_pairs * statistics.mean(times) + n_atoms * statistics.mean(atom_times)) / 3600
    print(f"\n{len(times)} pairs: median {statistics.median(times):.1f} s, mean "
          f"{statistics.mean(times):.1f} s, max {max(times):.0f} s per pair; {len(atom_times)} "
          f"atoms: mean {statistics.mean(atom_times):.1f} s, max {max(atom_times):.0f} s")
    print(f"the {len(same)} pairs of the v1 sample: v2 {v2_same:.0f} CPU-s, v1 "
          f"{sum(V1_SECONDS[p] for p in same)} s (wall, one pinned core, so about CPU)")
    print(f"projection: {n_pairs} pairs + {n_atoms} atoms = {projection:.1f} CPU-hours")
    if shipped_times:
        now = sum(now for now, _ in shipped_times.values())
        then = sum(then for _, then in shipped_times.values())
        total = sum(shipped.get(name).cpu_time_s for name in shipped.names()) / 3600
        print(f"the {len(shipped_times)} shipped pairs: {now:.0f} CPU-s now, {then:.0f} when "
              f"shipped ({then / now:.2f}x); the {len(shipped.names())} shipped pairs took "
              f"{total:.1f} CPU-hours, {total * now / then:.1f} at this ratio")


if __name__ == "__main__":
    main()
