"""Shipped heteronuclear bonds much longer than their homonuclear pairs': a screen for missed
multiply bonded states.

    python benchmarks/long_bonds.py [--above 1.2] [--elements d-block]

For each shipped pair A_B (``ok`` or ``flagged``) whose A_A and B_B are shipped too, prints R_e
over the mean of the homonuclear R_e, and E_bind against their geometric mean (Pauling's rule
for a covalent bond), for the ratios above ``--above``, longest first. A high-spin minimum found
in place of a multiply bonded ground state stands out: V_W (2026-12-06) had R_e 2.77 Angstrom
against V2's 1.70 and W2's 2.10 (ratio 1.46), and E_bind -1.84 eV against their -4.35 and
-4.44. With ``--elements d-block`` only pairs of two atoms of groups 3-10 are listed; a long bond
with an alkali, a noble gas or a closed d shell (Cu, Ag, Au, Zn, Cd, Hg) is ordinary.
"""

import argparse
import math

from quantum_canvas.records import SHIPPED_DIR

from qc_jax.chem import DEFAULT
from qc_jax.chem.bond import start_geometry
from qc_jax.compact import ShippedRecords

OPEN_D = frozenset(
    "Sc Ti V Cr Mn Fe Co Ni Y Zr Nb Mo Tc Ru Rh Pd La Lu Hf Ta W Re Os Ir Pt".split())
"""Atoms of groups 3-10 (La and Lu as group 3), whose open d shells can bond multiply."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--above", type=float, default=1.2,
                        help="smallest ratio of R_e to the mean homonuclear R_e listed")
    parser.add_argument("--elements", choices=("all", "d-block"), default="all")
    args = parser.parse_args()

    shipped = ShippedRecords(SHIPPED_DIR)
    bonds = {}
    for name in shipped.names():
        record = shipped.get(name)
        if record.status in ("ok", "flagged"):
            bonds[tuple(record.symbols)] = (record.bond_length, record.labels["binding_energy_ev"],
                                            record.labels["spin_moment"], record.status)
    rows = []
    for (a, b), (r, e_bind, moment, status) in bonds.items():
        if a == b or (a, a) not in bonds or (b, b) not in bonds:
            continue
        if args.elements == "d-block" and not {a, b} <= OPEN_D:
            continue
        (r_a, e_a, *_), (r_b, e_b, *_) = bonds[a, a], bonds[b, b]
        ratio = r / (0.5 * (r_a + r_b))
        if ratio > args.above:
            pauling = -math.sqrt(e_a * e_b) if e_a < 0 and e_b < 0 else math.nan
            rows.append((ratio, f"{a}_{b}", r, r_a, r_b, e_bind, pauling, moment, status,
                         start_geometry(a, b, DEFAULT)[2]))
    print("| pair | R_e / mean homonuclear | R_e (A) | R_e A_A, B_B (A) | E_bind (eV) | "
          "Pauling mean (eV) | 2S | status | start |")
    print("|---|---:|---:|---|---:|---:|---:|---|---|")
    for ratio, name, r, r_a, r_b, e_bind, pauling, moment, status, start in sorted(rows,
                                                                                    reverse=True):
        print(f"| {name} | {ratio:.2f} | {r:.3f} | {r_a:.3f}, {r_b:.3f} | {e_bind:.2f} | "
              f"{pauling:.2f} | {moment:.2f} | {status} | {start} |")
    print(f"\n{len(rows)} listed, of {len(bonds)} shipped pairs with labels")


if __name__ == "__main__":
    main()
