"""CPU time of whole pairs with PySCF's ``NumInt`` and with :mod:`qc_jax.chem.fast_numint`.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/fast_numint.py Ge_Ru As_Cr

Computes each pair at the default level twice in one process, with PySCF's plain ``NumInt`` and
with the fast one (AO values cached, the cheaper density path), in a temporary store (the free
atoms are computed once, before, and not counted: ``cpu_time_s`` of the records), and prints the
CPU seconds, their ratio and the largest difference of any label between the two records (not
counting the convergence diagnostics, ``qc_jax.chem.labels.CONVERGENCE_DIAGNOSTICS``).
"""

from __future__ import annotations

import argparse
import tempfile

from pyscf.dft import numint

from qc_jax.chem import DEFAULT, compute_pair, fast_numint, scf
from qc_jax.chem.atoms import atom_reference
from qc_jax.chem.labels import largest_difference
from qc_jax.elements import parse_pair
from qc_jax.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="pair names, e.g. Ge_Ru")
    args = parser.parse_args()
    print("| pair | CPU s, PySCF NumInt | CPU s, fast | ratio | max label difference (label) |")
    print("|---|---:|---:|---:|---:|")
    for name in args.pairs:
        a, b = parse_pair(name)
        records = {}
        for fast in (False, True):
            with tempfile.TemporaryDirectory() as root:
                store = Store(root, DEFAULT)
                for element in (a, b):
                    atom_reference(element, DEFAULT, DEFAULT.smearing_sigma, store)
                scf.fast_numint = fast_numint.fast_numint if fast else numint.NumInt
                records[fast] = compute_pair(a, b, DEFAULT, store=store)
        plain, fast = records[False], records[True]
        diff, label = largest_difference(fast.labels, plain.labels)
        print(f"| {name} | {plain.cpu_time_s:.1f} | {fast.cpu_time_s:.1f} | "
              f"{plain.cpu_time_s / fast.cpu_time_s:.2f} | {diff:.1e} ({label}) |", flush=True)


if __name__ == "__main__":
    main()
