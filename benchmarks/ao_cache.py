"""CPU time of whole pairs with and without the AO cache (:mod:`qc_jax.chem.ao_cache`).

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/ao_cache.py Ge_Ru As_Cr

Computes each pair at the default level twice in one process, with PySCF's plain ``NumInt`` and
with the caching one, in a temporary store (the free atoms are computed once, before, and not
counted: ``cpu_time_s`` of the records), and prints the CPU seconds, their ratio and the largest
difference of any label between the two records.
"""

from __future__ import annotations

import argparse
import tempfile

from pyscf.dft import numint

from qc_jax.chem import DEFAULT, ao_cache, compute_pair, scf
from qc_jax.chem.atoms import atom_reference
from qc_jax.elements import parse_pair
from qc_jax.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="pair names, e.g. Ge_Ru")
    args = parser.parse_args()
    print("| pair | CPU s, PySCF NumInt | CPU s, cached | ratio | max label difference |")
    print("|---|---:|---:|---:|---:|")
    for name in args.pairs:
        a, b = parse_pair(name)
        records = {}
        for cached in (False, True):
            with tempfile.TemporaryDirectory() as root:
                store = Store(root, DEFAULT)
                for element in (a, b):
                    atom_reference(element, DEFAULT, DEFAULT.smearing_sigma, store)
                scf.caching_numint = ao_cache.caching_numint if cached else numint.NumInt
                records[cached] = compute_pair(a, b, DEFAULT, store=store)
        plain, cached = records[False], records[True]
        diff = max(abs(cached.labels[k] - plain.labels[k]) for k in plain.labels
                   if k != "scf_grad_norm")
        print(f"| {name} | {plain.cpu_time_s:.1f} | {cached.cpu_time_s:.1f} | "
              f"{plain.cpu_time_s / cached.cpu_time_s:.2f} | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
