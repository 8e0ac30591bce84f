"""How many shipped records the seeded recheck order has checked, how many hid a lower state,
and how many of the rest may still hide one (docs/spin_states_log.md, *A random sample of the other
records*; docs/chemistry.md, *Spin states of the shipped records*).

    python benchmarks/spin_recheck_count.py

Reads the committed rows of ``benchmarks/spin_recheck.py --shipped --every-start`` in
``benchmarks/results/spin_recheck_rest/chunk_NNN.md`` (one row per record: the free energy of
each start at the record's geometry relative to the record's state, eV, rounded to 1 meV) and
counts a record whose lowest start is more than ``--margin`` below its state as a hit. With the
seeded random sample of 240 (3 such hits, listed in docs/spin_states_log.md; its rows were not
committed), prints the hit rate with its 95 % Clopper-Pearson interval and what it extrapolates
to for the records of the seeded order not checked yet.
"""

import argparse
import re
from pathlib import Path

from scipy.stats import beta

ROWS_FOLDER = Path(__file__).resolve().parent / "results" / "spin_recheck_rest"
SEEDED_ORDER = 2516
"""Records in the seeded order (the 2,756 records checked neither by the broken-symmetry screen
nor by the random sample: docs/spin_states_log.md)."""
RANDOM_SAMPLE, RANDOM_HITS = 240, 3
"""The seeded random sample checked before the seeded order, and its hits by more than 1 meV
(Sc_Th, Br_Ru, He_Ta)."""
FOUND_OUT_OF_ORDER = {"Ar_Ta": 49}
"""Records of the order found lower (meV at their geometry) and shipped again before their chunk
came (docs/spin_states_log.md, *Dataset 2.14.0*): their rows are of the new record, so they count as
hits once their rows are in."""


def lowest_start_ev(row: str) -> float | None:
    """The lowest free energy of a row's other starts relative to the record's state (eV), or
    None when none converged."""
    changes = re.findall(r", ([+-]\d+\.\d+)", row.split("|")[5])
    return min(float(change) for change in changes) if changes else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ROWS_FOLDER)
    parser.add_argument("--margin", type=float, default=1.0,
                        help="meV below the record's state that makes a hit (default 1)")
    args = parser.parse_args()
    rows, hits = 0, []
    for path in sorted(args.folder.glob("chunk_*.md")):
        for row in path.read_text().splitlines():
            if not re.match(r"\| [A-Z][a-z]?_[A-Z][a-z]? \|", row):
                continue
            rows += 1
            name, lowest = row.split("|")[1].strip(), lowest_start_ev(row)
            if name in FOUND_OUT_OF_ORDER:
                hits.append(f"{name} (-{FOUND_OUT_OF_ORDER[name]} meV, out of order)")
            elif lowest is not None and 1e3 * lowest < -args.margin:
                hits.append(f"{name} ({1e3 * lowest:+.0f} meV, {path.stem})")
    print(f"seeded order: {rows} of {SEEDED_ORDER} records checked, {len(hits)} lower by more "
          f"than {args.margin:g} meV at their geometry: {', '.join(hits)}")
    checked, found = rows + RANDOM_SAMPLE, len(hits) + RANDOM_HITS
    low, high = beta.ppf(0.025, found, checked - found + 1), beta.ppf(0.975, found + 1,
                                                                      checked - found)
    left = SEEDED_ORDER - rows
    print(f"with the random {RANDOM_SAMPLE}: {found} of {checked} ({100 * found / checked:.1f} %, "
          f"95 % {100 * low:.1f}-{100 * high:.1f} %, Clopper-Pearson); of the {left} not checked, "
          f"of the order of {left * found / checked:.0f} ({left * low:.0f}-{left * high:.0f}) "
          f"may hide a lower state")


if __name__ == "__main__":
    main()
