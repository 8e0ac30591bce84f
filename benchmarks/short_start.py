"""Search the shipped records without a GFN2-xTB start again from 0.7 of their covalent radii.

    OMP_NUM_THREADS=1 python benchmarks/short_start.py --store data/short [--pairs Mo_W,...] \
        [--time-limit 20]

Since 2026-12-06, ``compute_pair`` searches a pair whose start geometry is the sum of the
covalent radii (no GFN2-xTB start) again from ``SHORT_START_FRACTION`` (0.7) of that sum when
its minimum lies beyond ``SHORT_SEARCH_ABOVE`` (0.8) of it, and keeps the lower minimum
(``qc_jax.chem.pair._from_covalent_radii``): the high-spin minima of open d shells near the
covalent radii had hidden multiply bonded states (Mo-W: 2.91 Angstrom and E_bind -1.0 eV
shipped, 1.98 Angstrom and -4.3 eV found). This script does that second search for the shipped
records computed before: for each such record (``--pairs`` to choose; with the records at a
raised k_B T, whatever their bond length), the pair is computed again into STORE, its search
started from 0.7 of the sum with every spin start competing there
(``qc_jax.chem.lookup.get_record``, ``start``), and the lower of it and the shipped record in
free energy is kept there; ``qc-canvas ship --store STORE --replace --improved`` ships the
lower ones. Pairs already in STORE are not computed again, so a stopped run resumes. Prints a
line per pair computed, then the table of ``qc_jax.changes.record_changes`` for every candidate
in STORE against the shipped record.

With ``--probe``, the rule that follows that search (``SHORT_PROBE_FRACTION``, 0.6; V-W,
2026-12-06): the spin starts of each candidate are converged at that fraction of the sum
(``qc_jax.chem.pair.lowest_start``), a line per candidate gives the lowest one's free energy
less the shipped record's, and the pair is computed again from that state only where it lies
lower (by more than ``SAME_STATE_HA``). Records at a raised k_B T are not probed: their free
energy is not comparable.
"""

from __future__ import annotations

import argparse

from quantum_canvas.records import shipped_records

from qc_jax.changes import record_changes
from qc_jax.chem import DEFAULT
from qc_jax.chem.atoms import atom_reference
from qc_jax.chem.bond import start_geometry
from qc_jax.chem.lookup import get_record
from qc_jax.chem.molecule import diatomic
from qc_jax.chem.pair import (
    SHORT_PROBE_FRACTION,
    SHORT_SEARCH_ABOVE,
    SHORT_START_FRACTION,
    lowest_start,
)
from qc_jax.chem.spin import RESTRICTED, SAME_STATE_HA, molecule_starts
from qc_jax.compact import seed_atoms
from qc_jax.elements import pair_name, parse_pairs
from qc_jax.record import PairRecord
from qc_jax.store import Store
from qc_jax.units import BOHR_ANGSTROM, HARTREE_EV


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="store the records computed go to")
    parser.add_argument("--pairs", default=None,
                        help="comma-separated pairs, in this order (default: every candidate)")
    parser.add_argument("--probe", action="store_true",
                        help="probe at SHORT_PROBE_FRACTION; search only where a state is lower")
    parser.add_argument("--time-limit", type=float, default=None, metavar="MINUTES",
                        help="CPU-time limit per pair")
    args = parser.parse_args()

    shipped = shipped_records(DEFAULT)
    store = Store(args.store, DEFAULT)
    names = (shipped.names() if args.pairs is None
             else [pair_name(a, b) for a, b in parse_pairs(args.pairs)])
    candidates = [name for name in names if searched_again(shipped.get(name))
                  and not (args.probe and shipped.get(name).raised_smearing)]
    for name in candidates:
        if store.get(name) is not None:
            continue
        record = shipped.get(name)
        a, b = record.symbols
        seed_atoms(store, shipped, {a, b})  # the shipped atoms, as get_record takes them
        atoms = tuple(atom_reference(element, DEFAULT, DEFAULT.smearing_sigma, store)
                      for element in (a, b))
        r_covalent = start_geometry(a, b, DEFAULT)[0]
        if args.probe:
            r = SHORT_PROBE_FRACTION * r_covalent
            state = lowest_start(a, b, r, DEFAULT, DEFAULT.smearing_sigma, atoms)
            shipped_f = record.labels["mermin_free_energy_ev"] / HARTREE_EV
            print(f"{name:7s} probe at {r * BOHR_ANGSTROM:.3f} Angstrom: " + (
                "no start converged" if state is None else
                f"2S {state.spin_moment:.2f}, F - F(shipped) "
                f"{(state.e_free - shipped_f) * HARTREE_EV:+.3f} eV"), flush=True)
            if state is None or state.e_free >= shipped_f - SAME_STATE_HA:
                continue
            start = state.dm
        else:
            r = SHORT_START_FRACTION * r_covalent
            start = molecule_starts(diatomic(a, b, r * BOHR_ANGSTROM, DEFAULT.basis_map),
                                    atoms)[RESTRICTED]
        print(get_record(a, b, store, shipped, recompute=True, start=(r, start),
                         time_limit_s=None if args.time_limit is None else 60 * args.time_limit,
                         ).line(), flush=True)
    computed = {name: store.get(name) for name in candidates}
    print(f"\n{len(candidates)} candidates, {sum(r is not None for r in computed.values())} in "
          f"{args.store}\n")
    print(record_changes(store, shipped, [n for n, r in computed.items() if r is not None],
                         labels=("i_ev", "a_ev")))


def searched_again(record: PairRecord) -> bool:
    """Whether ``record`` is one that the search from ``SHORT_START_FRACTION`` of its covalent
    radii may improve: no GFN2-xTB start, and a bond beyond ``SHORT_SEARCH_ABOVE`` of the
    covalent sum or a raised k_B T (the search from the covalent radii did not converge at the
    default one). A record shipped from that search has its shorter bond, so it is no longer
    one."""
    if record.status == "failed":
        return False
    r_covalent, _, source = start_geometry(*record.symbols, DEFAULT)
    return source == "covalent radii" and (
        record.raised_smearing
        or record.bond_length > SHORT_SEARCH_ABOVE * r_covalent * BOHR_ANGSTROM)


if __name__ == "__main__":
    main()
