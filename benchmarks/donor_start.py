"""Check shipped records from a start that takes one atom's state from another pair's record.

    OMP_NUM_THREADS=1 python benchmarks/donor_start.py --donor Ar_Ta --element Ta \
        --pairs Ne_Ta,Hg_Ta --compute-again data/recheck

Where an atom has close states (Ta: its 2S = 5 start converges 54 meV below its 2S = 1 and 3
starts), a weakly bound pair can keep the atom in the upper one: the spin starts from the free
atoms do not reach the lower, nor does the Newton rung for every pair (Ne-Ta, 2026-12-03). This
script builds a start for each pair in ``--pairs`` from the ``--element`` block of the donor's
density matrices (the record of ``--donor`` in ``--store``, a pair computed again into its lower
state, else the shipped record) and the partner's shipped free atom, its spin parallel or, with
``--antiparallel``, opposite (block-diagonal: the AOs of each atom are one block),
converges it at the record's geometry on the whole ladder and prints its free energy relative to
the record's own state, a Markdown row a pair. A pair lower by more than ``SAME_STATE_HA`` is
computed again from that state with ``--compute-again`` (``compute_pair``'s ``start``, kept
only if lower), then ``qc-canvas ship --store STORE --replace --pairs ...``.
"""

import argparse
import logging

import numpy as np
from quantum_canvas.records import shipped_records

from qc_jax.chem import DEFAULT
from qc_jax.chem.lookup import get_record
from qc_jax.chem.molecule import record_mole
from qc_jax.chem.scf import ScfNotConverged, run_scf
from qc_jax.chem.spin import SAME_STATE_HA
from qc_jax.elements import pair_name, parse_pairs
from qc_jax.record import PairRecord
from qc_jax.store import Store
from qc_jax.units import BOHR_ANGSTROM, HARTREE_EV


def atom_slices(record: PairRecord) -> list[slice]:
    """The AO range of each atom of ``record``, in geometry order."""
    return [slice(start, stop) for *_, start, stop in record_mole(record).aoslice_by_atom()]


def atom_block(record: PairRecord, element: str) -> np.ndarray:
    """[2, nao_A, nao_A] alpha and beta density matrices of ``element``'s AOs in ``record``."""
    block = atom_slices(record)[list(record.symbols).index(element)]
    return record.dm[:, block, block]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--donor", required=True, help="pair whose atom state is taken, e.g. Ar_Ta")
    parser.add_argument("--store", default=None,
                        help="store holding the donor's record (default: the shipped record)")
    parser.add_argument("--element", required=True, help="the atom whose state is taken")
    parser.add_argument("--pairs", required=True, help="comma-separated shipped pairs to check")
    parser.add_argument("--antiparallel", action="store_true",
                        help="the partner atom's spin opposite to the donor block's (alpha and "
                             "beta swapped)")
    parser.add_argument("--compute-again", default=None, metavar="STORE",
                        help="compute a pair found lower again into this store")
    parser.add_argument("--time-limit", type=float, default=20, metavar="MINUTES",
                        help="CPU-time limit of each computation of --compute-again")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sigma = DEFAULT.smearing_sigma
    shipped = shipped_records(DEFAULT)
    donor = (Store(args.store, DEFAULT) if args.store else shipped).get(args.donor)
    if donor is None:
        raise SystemExit(f"{args.store or 'the shipped records'} have no record of {args.donor}")
    block = atom_block(donor, args.element)
    print("| pair | R_e (A) | moment | from the donor: moment, F - F_record (eV) |\n"
          "|---|---:|---:|---|")
    again, computed = [], []
    for a, b in parse_pairs(args.pairs):
        record = shipped.get(pair_name(a, b))
        mol = record_mole(record)
        dm0 = np.zeros_like(record.dm)
        for element, ao in zip(record.symbols, atom_slices(record), strict=True):
            if element == args.element:
                dm0[:, ao, ao] = block
            else:
                partner = shipped.atom(element, sigma).dm
                dm0[:, ao, ao] = partner[::-1] if args.antiparallel else partner
        own = run_scf(mol, DEFAULT, sigma, record.dm)
        try:
            new = run_scf(mol, DEFAULT, sigma, dm0)
            cell = f"{new.spin_moment:.2f}, {(new.e_free - own.e_free) * HARTREE_EV:+.3f}"
        except ScfNotConverged:
            new, cell = None, "not converged"
        print(f"| {record.pair} | {record.bond_length:.3f} | {abs(own.spin_moment):.2f} | {cell} |",
              flush=True)
        if new is not None and new.e_free < own.e_free - SAME_STATE_HA:
            again.append(record.pair)
            if args.compute_again:
                computed.append(get_record(
                    a, b, Store(args.compute_again, DEFAULT), shipped, recompute=True,
                    time_limit_s=60 * args.time_limit,
                    start=(record.bond_length / BOHR_ANGSTROM, new.dm)).line())
    print(f"\nlower ({len(again)}): {','.join(again)}")
    if computed:
        print("\ncomputed again from that state:\n\n" + "\n".join(computed))


if __name__ == "__main__":
    main()
