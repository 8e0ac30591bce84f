"""Where one pair's time goes, by function: ``cProfile`` around ``compute_pair``.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/pair_profile.py Ge_Ru [--top 12]

The pair is computed afresh at the default level of theory into a temporary store holding the
shipped free atoms (as in stage_cost.py, so no atom is computed). Prints the record's CPU time,
the time of a few PySCF calls with their share of the profiled time (cumulative: a call's
time includes what it calls, so the XC integration inside the SCF is part of the SCF's), and
the functions of largest own time. The profiler adds some overhead of its own (about 1 % here).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from stage_cost import store_of_shipped_atoms

from qc_jax.chem import DEFAULT, compute_pair
from qc_jax.elements import parse_pair

#: What each named call is, and (file name ending, function name) to find it in the profile.
CALLS = {
    "SCF cycles (hf.kernel)": ("scf/hf.py", "kernel"),
    "XC integration (NumInt.nr_uks)": ("dft/numint.py", "nr_uks"),
    "nuclear gradients (Gradients.kernel)": ("grad/rhf.py", "kernel"),
    "density-fitting tensor builds (DF.build)": ("df/df.py", "build"),
    "integration grid builds (Grids.build)": ("dft/gen_grid.py", "build"),
}


def cumulative_s(stats: pstats.Stats, file_end: str, function: str) -> tuple[float, int]:
    """(seconds, calls) of the profiled functions named ``function`` in a file ending in
    ``file_end``, cumulative."""
    found = [(row[3], row[1]) for (file, _, name), row in stats.stats.items()
             if file.endswith(file_end) and name == function]
    return sum(s for s, _ in found), sum(n for _, n in found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pair", help="a pair name, e.g. Ge_Ru")
    parser.add_argument("--top", type=int, default=12, help="functions of largest own time")
    args = parser.parse_args()
    pair = parse_pair(args.pair)
    with store_of_shipped_atoms(pair) as store:
        profile = cProfile.Profile()
        record = profile.runcall(compute_pair, *pair, DEFAULT, store=store)
    stats = pstats.Stats(profile)
    print(f"{args.pair}: {record.status}, the record's CPU time {record.cpu_time_s:.1f} s, "
          f"profiled {stats.total_tt:.1f} s")
    for what, (file_end, function) in CALLS.items():
        seconds, calls = cumulative_s(stats, file_end, function)
        print(f"  {what:<42} {seconds:6.1f} s  {seconds / stats.total_tt:4.0%}  ({calls} calls)")
    print("functions of largest own time:")
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
