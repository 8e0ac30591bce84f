"""Recheck stored records for a lower spin state at their minimum (records computed before 67032a0).

    OMP_NUM_THREADS=1 python benchmarks/spin_recheck.py --store data/store [--pairs Rn_Te,...]

Since 67032a0, ``compute_pair`` converges the spin starts from the free atoms again at a minimum
far from the start geometry (15 % of the start bond length), when they are meant for
another spin moment than the minimum's: He-O and Rn-Te had been singlets. This script looks for
that case in records computed before: for each converged record at the default k_B T whose bond
length is that far from its start geometry (``--far``: a fraction of it), it converges the
record's own state and the starts that ``compute_pair`` tries again at such a minimum
(``qc_jax.chem.pair._starts_at_minimum``) at the record's geometry, on the final grid, and
prints the free energy of each start relative to the record's state (relative to the record's
stored free energy where its own state does not converge again, said in its row: Os-V from its
float32 compact coefficients). A start lower by more than
``SAME_STATE_HA`` marks a record to compute again (``qc-canvas compute --pairs ... --recompute``).
Prints a Markdown table and, last, the pairs to compute again. Since 2026-12-02 those starts
are tried again at every minimum, not only far from the start geometry (B-N, Cd-Ti: 9 % and 3 %
away); ``--far 0`` checks the records computed before that.

With ``--turned`` it checks instead every record one of whose atoms a quarter turn changes
(``qc_jax.chem.spin.QUARTER_TURNS``, since 2026-12-02): the starts from the turned atoms are
converged at the record's geometry. ``--shipped`` checks the shipped records, with their atoms:

    OMP_NUM_THREADS=1 python benchmarks/spin_recheck.py --shipped --turned --element Fe

Starts climb the DIIS and damped rungs, and the Newton rung where those leave them below the
record's state, as in ``compute_pair`` (``qc_jax.chem.scf.run_scf_below``; without ``--turned``
or ``--every-start``, at a minimum of moment ``qc_jax.chem.pair.HIGH_SPIN_MOMENT`` or more the
spin-restricted start on the Newton rung too, as there since 2026-12-06). With
``--every-start`` every start of ``molecule_starts`` is converged at the record's geometry
(records computed before that rule, 2026-12-02, may have missed a state it reaches: NiCl). With
``--newton`` every start climbs the Newton rung where the cheap rungs fail, whatever their free
energy: its CPU seconds are printed. ``--restricted-newton`` converges only the spin-restricted
start, on the Newton rung alone, at every record whatever its moment: what ``compute_pair`` does
at minima of moment ``HIGH_SPIN_MOMENT`` or more (2026-12-06), tried on the records below that
(B-Ru, C-Ta, Kr-La: doublets 60-93 meV lower at the shipped geometry). ``--contaminated X``
checks only the records whose <S^2> exceeds S_z (S_z + 1) by more than X: a broken-symmetry
state, often left by a start that relaxed into a mixture where a higher moment was lower (Co
pairs of moment 0 and <S^2> 0.78, 2026-12-02):

    OMP_NUM_THREADS=1 python benchmarks/spin_recheck.py --shipped --every-start --contaminated 0.5

With ``--compute-again STORE`` a record with a lower state is computed again into STORE
(``qc_jax.chem.lookup.get_record`` with ``recompute``), its search started from the lowest
state found at its geometry (``compute_pair``'s ``start``): the search from the spin starts
alone does not reach some of them (Be-Y, Ne-Rh: the Newton rung; Li-Lu: a start near the
record's own moment). The computed record is kept only if its free energy is lower; then
``qc-canvas ship --store STORE --replace --pairs ...`` ships it:

    OMP_NUM_THREADS=1 python benchmarks/spin_recheck.py --shipped --every-start --newton \
        --pairs Be_Y --compute-again data/recheck --time-limit 20

``--chunk K`` checks chunk K of the seeded order of the records not checked otherwise
(``results/spin_recheck_rest/order.txt``, one chunk of 24 pairs a line;
docs/spin_states_log.md, *The other 2,516 records, in a seeded order*), and ``--rows FILE``
appends each row to FILE as it is found and skips the pairs FILE has, so a run stopped at any
point resumes; the seeded order, one core each for the even and the odd chunks:

    for k in $(seq 0 2 104); do
        OMP_NUM_THREADS=1 nice -n 5 python benchmarks/spin_recheck.py --shipped --every-start \
            --chunk $k --rows benchmarks/results/spin_recheck_rest/chunk_$(printf %03d $k).md \
            --compute-again data/recheck --time-limit 20
    done
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from quantum_canvas.records import shipped_records

from qc_jax.chem import DEFAULT
from qc_jax.chem.atoms import atom_reference
from qc_jax.chem.bond import start_geometry
from qc_jax.chem.lookup import get_record
from qc_jax.chem.molecule import record_mole
from qc_jax.chem.pair import CHEAP_RUNGS, _starts_at_minimum
from qc_jax.chem.scf import RUNGS, ScfNotConverged, run_scf, run_scf_below
from qc_jax.chem.spin import RESTRICTED, SAME_STATE_HA, TURNED, molecule_starts
from qc_jax.elements import pair_name, parse_pairs
from qc_jax.store import Store
from qc_jax.units import BOHR_ANGSTROM, HARTREE_EV

SEEDED_ORDER = Path(__file__).resolve().parent / "results" / "spin_recheck_rest" / "order.txt"
"""The seeded order of the records checked by neither the broken-symmetry screen nor the random
sample, as printed at 955f488 by the snippet in docs/spin_states_log.md: 24 pair names a line."""
HEADER = ("| pair | R_e (A) | start (A) | moment | other start: moment, F - F_record (eV) |\n"
          "|---|---:|---:|---:|---|\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="data/store")
    parser.add_argument("--pairs", default=None, help="comma-separated pairs (default: all)")
    parser.add_argument("--far", type=float, default=0.15,
                        help="check records farther than this fraction of the start bond length "
                             "from it (default: 0.15; 0 checks every record)")
    parser.add_argument("--turned", action="store_true",
                        help="converge the starts from turned atoms at every record that has them")
    parser.add_argument("--shipped", action="store_true",
                        help="check the shipped records (and take their atoms), not --store's")
    parser.add_argument("--element", default=None, help="only the records of this element")
    parser.add_argument("--every-start", action="store_true",
                        help="converge every start of molecule_starts at every record")
    parser.add_argument("--newton", action="store_true",
                        help="converge every start, on the Newton rung too where the cheap rungs "
                             "fail")
    parser.add_argument("--restricted-newton", action="store_true",
                        help="converge only the spin-restricted start, on the Newton rung alone, "
                             "at every record whatever its moment")
    parser.add_argument("--contaminated", type=float, default=None,
                        help="only the records whose <S^2> exceeds S_z (S_z + 1) by more than this")
    parser.add_argument("--compute-again", default=None, metavar="STORE",
                        help="compute a record with a lower state again into this store, its "
                             "search started from the lowest state")
    parser.add_argument("--time-limit", type=float, default=None, metavar="MINUTES",
                        help="CPU-time limit of each computation of --compute-again")
    parser.add_argument("--chunk", type=int, default=None, metavar="K",
                        help="the pairs of chunk K of the seeded order (in place of --pairs)")
    parser.add_argument("--rows", type=Path, default=None, metavar="FILE",
                        help="append each row to FILE and skip the pairs it has (resumable)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sigma = DEFAULT.smearing_sigma
    if args.shipped:
        store = shipped_records(DEFAULT)
        atom = store.atom
    else:
        store = Store(args.store, DEFAULT)
        def atom(element: str, sigma: float):
            return atom_reference(element, DEFAULT, sigma, store)
    if args.chunk is not None:
        names = SEEDED_ORDER.read_text().splitlines()[args.chunk].split(",")
    elif args.pairs:
        names = [pair_name(a, b) for a, b in parse_pairs(args.pairs)]
    else:
        names = store.names()
    names = [name for name in names if args.element in (None, *name.split("_"))]
    print(HEADER, end="")
    if args.rows is not None:
        if not args.rows.exists():
            args.rows.write_text(HEADER)
        done = {line.split("|")[1].strip() for line in args.rows.read_text().splitlines()[2:]}
        names = [name for name in names if name not in done]
    again, computed = [], []
    for name in names:
        record = store.get(name)
        if record is None or record.status == "failed" or record.raised_smearing:
            continue
        if args.contaminated is not None and contamination(record) <= args.contaminated:
            continue
        a, b = record.symbols
        r0 = start_geometry(a, b, DEFAULT)[0] * BOHR_ANGSTROM
        every = args.every_start or args.newton
        if (not (args.turned or every or args.restricted_newton)
                and abs(record.bond_length - r0) <= args.far * r0):
            continue
        mol = record_mole(record)
        atoms = tuple(atom(element, sigma) for element in (a, b))
        starts = molecule_starts(mol, atoms)
        turned = [dm for start, dm in starts.items() if TURNED in start]
        if args.turned and not turned:
            continue
        moment = f"{abs(record.labels['spin_moment']):.2f}"
        try:
            e_free = run_scf(mol, DEFAULT, sigma, record.dm).e_free
        except ScfNotConverged:  # compare with the record's own free energy instead
            e_free = record.labels["mermin_free_energy_ev"] / HARTREE_EV
            moment += " (its state not converged again: F of the record)"
        if args.restricted_newton:
            tried = [(starts[RESTRICTED], ("newton",))]
        elif every:
            tried = [(dm, CHEAP_RUNGS) for dm in starts.values()]
        elif args.turned:
            tried = [(dm, CHEAP_RUNGS) for dm in turned]
        else:
            tried = _starts_at_minimum(mol, atoms, record.labels["spin_moment"])
        cells, converged = [], []
        for dm0, rungs in tried:
            cpu = time.process_time()
            try:
                other = run_scf_below(mol, DEFAULT, sigma, dm0, e_free - SAME_STATE_HA,
                                      rungs=RUNGS if args.newton else rungs)
            except ScfNotConverged:
                cells.append("not converged")
                continue
            gain = (other.e_free - e_free) * HARTREE_EV
            cells.append(f"{other.spin_moment:.2f}, {gain:+.3f}")
            if other.rung == "newton":
                cells[-1] += f" (Newton, {time.process_time() - cpu:.0f} CPU-s)"
            converged.append(other)
        row = (f"| {name} | {record.bond_length:.3f} | {r0:.3f} | {moment} | "
               f"{'; '.join(cells) or '-'} |")
        print(row, flush=True)
        if args.rows is not None:
            with args.rows.open("a") as rows:
                rows.write(row + "\n")
        lowest = min(converged, key=lambda result: result.e_free, default=None)
        if lowest is None or lowest.e_free >= e_free - SAME_STATE_HA:
            continue
        again.append(name)
        if args.compute_again:
            start = (record.bond_length / BOHR_ANGSTROM, lowest.dm)
            computed.append(get_record(
                a, b, Store(args.compute_again, DEFAULT), shipped_records(DEFAULT), recompute=True,
                time_limit_s=None if args.time_limit is None else 60 * args.time_limit,
                start=start).line())
    print(f"\ncompute again ({len(again)}): {','.join(again)}")
    if computed:
        print("\ncomputed again from the lowest state:\n\n" + "\n".join(computed))


def contamination(record) -> float:
    """<S^2> - S_z (S_z + 1) of ``record`` (S_z = half its spin moment), dimensionless."""
    s_z = abs(record.labels["spin_moment"]) / 2
    return record.labels["s_squared"] - s_z * (s_z + 1)


if __name__ == "__main__":
    main()
