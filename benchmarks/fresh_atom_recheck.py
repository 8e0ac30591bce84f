"""Compute the pairs of one element again, with that element's free atom computed afresh, and
compare their free energies with the shipped records.

    OMP_NUM_THREADS=1 python benchmarks/fresh_atom_recheck.py Ni --store /tmp/ni_store --jobs 2

With ``--shipped-atom`` the element's shipped atom is used too: the pairs computed again at the
current code from the shipped atoms, as ``qc-canvas compute --recompute`` would (after a change of
the spin starts, ``qc_jax.chem.spin``).

A molecule's spin starts are built from its free atoms' densities (``qc_jax.chem.spin``). Where an
atom has close states (Ni: docs/chemistry.md), an atom computed again can differ from the shipped
one by a fraction of a meV and still lead a molecule to another state. This script puts the
element's atom computed afresh (one thread, or the one already in ``--store``) and the shipped
atoms of every other element into ``--store``, computes the element's shipped pairs that are not
failed (resumable: pairs already in the store are only compared), and prints how each differs
from its shipped record (``qc_jax.changes.record_changes``: the change of the Mermin free energy
F, status, spin moment, bond length and binding energy). A pair lower by more than 1 meV has a
state the shipped search missed. Free energies at different k_B T (a pair whose smearing was
raised in one of the two runs) are not compared: -TS grows with k_B T.
"""

import argparse

from quantum_canvas.records import shipped_records

from qc_jax.changes import record_changes
from qc_jax.chem import DEFAULT
from qc_jax.chem.atoms import atom_reference
from qc_jax.chem.runner import compute_missing
from qc_jax.compact import seed_atoms
from qc_jax.elements import pair_name, pairs
from qc_jax.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("element", help="element symbol, e.g. Ni")
    parser.add_argument("--store", required=True, help="a store folder of its own")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=10, help="CPU minutes per pair")
    parser.add_argument("--shipped-atom", action="store_true",
                        help="use the element's shipped atom too, not one computed afresh")
    args = parser.parse_args()
    shipped = shipped_records(DEFAULT)
    store = Store(args.store, DEFAULT)
    store.make_writable()
    todo = [pair for pair in pairs("paper75") if args.element in pair
            and (record := shipped.get(pair_name(*pair))) and record.status != "failed"]
    fresh = set() if args.shipped_atom else {args.element}
    seed_atoms(store, shipped, {e for pair in todo for e in pair} - fresh)
    atom_reference(args.element, DEFAULT, DEFAULT.smearing_sigma, store)  # afresh unless stored
    print(compute_missing(store, todo, jobs=args.jobs, progress=False,
                          time_limit_s=60 * args.time_limit).text())
    print(record_changes(store, shipped, [pair_name(a, b) for a, b in todo]))


if __name__ == "__main__":
    main()
