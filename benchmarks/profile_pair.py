"""Where one pair's CPU time goes inside PySCF: ``cProfile`` around ``compute_pair`` at the default
level, its free atoms computed first (in a temporary store, not profiled).

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/profile_pair.py B_V

Prints the pair's CPU seconds, then the CPU seconds (cumulative, calls) of the parts named in
``docs/chemistry.md`` (*What paper75 costs at v2*): SCF cycles, the XC integration, libxc, the
3-centre integrals of density fitting, the analytic gradients, the grids; then the ``--top``
functions by cumulative time.
"""

import argparse
import cProfile
import pstats
import tempfile
import time

from qc_jax.chem import DEFAULT, compute_pair
from qc_jax.chem.atoms import atom_reference
from qc_jax.elements import parse_pair
from qc_jax.store import Store

PARTS = {  # name -> (file suffix, function) in PySCF's profile keys
    "SCF cycles (UKS get_veff)": ("dft/uks.py", "get_veff"),
    "XC integration (nr_uks)": ("dft/numint.py", "nr_uks"),
    "libxc": ("dft/libxc.py", "_eval_xc"),
    "3-centre integrals": ("gto/moleintor.py", "getints3c"),
    "analytic gradients (grad_elec)": ("grad/uhf.py", "grad_elec"),
    "grids (Grids.build)": ("dft/gen_grid.py", "build"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pair", help="pair name, e.g. B_V")
    parser.add_argument("--top", type=int, default=25, help="functions to list (default 25)")
    args = parser.parse_args()
    a, b = parse_pair(args.pair)
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory() as root:
        store = Store(root, DEFAULT)
        for element in (a, b):
            atom_reference(element, DEFAULT, DEFAULT.smearing_sigma, store)
        start = time.process_time()
        profile.runcall(compute_pair, a, b, DEFAULT, store=store)
        print(f"{args.pair}: {time.process_time() - start:.1f} CPU-s")
    stats = pstats.Stats(profile)
    for name, (suffix, function) in PARTS.items():
        rows = [(row[3], row[1]) for (path, _, func), row in stats.stats.items()
                if path.endswith(suffix) and func == function]
        print(f"  {name}: {sum(t for t, _ in rows):.1f} s in {sum(n for _, n in rows)} calls")
    stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
