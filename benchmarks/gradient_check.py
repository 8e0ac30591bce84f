"""Is PySCF's analytic gradient with Fermi smearing the derivative of e_free or of e_tot?

Usage: OMP_NUM_THREADS=1 python benchmarks/gradient_check.py [--pairs C_O,Cu_Cu,Au_Au] [--r 1.0]
Central differences (h = 1e-3 Bohr) of both energies at R = covalent-radius sum x ``--r``, at the
default settings and at 10x the default smearing, against the analytic slope (Ha/Bohr).
"""

import argparse
from dataclasses import replace

from qc_jax.chem.bond import evaluate, search_bounds
from qc_jax.chem.settings import DEFAULT
from qc_jax.elements import parse_pair


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="C_O,Cu_Cu,Au_Au")
    parser.add_argument("--r", type=float, default=1.0)
    args = parser.parse_args()
    h = 1e-3
    print("| pair | sigma (Ha) | analytic | FD of e_free | FD of e_tot | analytic - FD(e_free) "
          "| analytic - FD(e_tot) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for name in args.pairs.split(","):
        a, b = parse_pair(name)
        r = args.r * search_bounds(a, b, DEFAULT)[0]
        for sigma in (DEFAULT.smearing_sigma, 10 * DEFAULT.smearing_sigma):
            settings = replace(DEFAULT, smearing_sigma=sigma)
            centre = evaluate(a, b, r, settings, sigma)
            plus = evaluate(a, b, r + h, settings, sigma, centre).scf.mf
            minus = evaluate(a, b, r - h, settings, sigma, centre).scf.mf
            fd_free = (plus.e_free - minus.e_free) / (2 * h)
            fd_tot = (plus.e_tot - minus.e_tot) / (2 * h)
            cells = [name, f"{sigma:g}", f"{centre.slope:.6f}", f"{fd_free:.6f}", f"{fd_tot:.6f}",
                     f"{centre.slope - fd_free:.1e}", f"{centre.slope - fd_tot:.1e}"]  # fmt: skip
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
