"""Time per pair of the chemistry pipeline, and its geometry stage against a naive pipeline.

Ours: warm-started SCF at each bond length, analytic gradients, safeguarded Newton search, force
constant from two extra analytic gradients (``qc_jax.chem.bond``). Naive: cold-start (MINAO) SCF at
every point, Brent's bracketing + parabolic/golden search on the free energy alone from the same
start, force constant
from three energies. Both are run on the same pairs at the same settings; the script prints a
Markdown table, the medians and the speed ratio.

Usage: OMP_NUM_THREADS=1 python benchmarks/compute_pairs.py [--elements light] [--fast]
       [--pairs H_H,C_O]
"""

import argparse
import statistics
import time

from scipy.optimize import minimize_scalar

from qc_jax.chem.bond import (
    evaluate,
    force_constant,
    harmonic_wavenumber,
    optimise_bond,
    start_geometry,
)
from qc_jax.chem.pair import compute_pair
from qc_jax.chem.settings import DEFAULT, FAST, Settings
from qc_jax.elements import pair_name, pairs, parse_pair
from qc_jax.units import BOHR_ANGSTROM


def ours(a: str, b: str, settings: Settings) -> tuple[float, float, int]:
    """(R_e in Angstrom, omega_e in cm^-1, SCF cycles) of the project's geometry stage."""
    sigma = settings.smearing_sigma
    r0, curvature, _ = start_geometry(a, b, settings)
    first = evaluate(a, b, r0, settings, sigma)
    search = optimise_bond(a, b, settings, sigma, first, curvature=curvature)
    k, displaced = force_constant(a, b, search.point, settings, sigma)
    cycles = search.scf_cycles + sum(p.scf.cycles for p in displaced)
    return search.point.r * BOHR_ANGSTROM, harmonic_wavenumber(k, a, b), cycles


def naive(a: str, b: str, settings: Settings) -> tuple[float, float, int]:
    """The same quantities from cold-start energies only (golden-section search)."""
    sigma = settings.smearing_sigma
    cycles = 0

    def energy(r: float) -> float:
        nonlocal cycles
        point = evaluate_energy(a, b, r, settings, sigma)
        cycles += point.cycles
        return point.e_free

    r0 = start_geometry(a, b, settings)[0]
    found = minimize_scalar(
        energy, bracket=(r0 - 0.1, r0 + 0.1), method="brent",
        options={"xtol": settings.bond_tol / r0},
    )  # fmt: skip
    r_e = float(found.x)
    h = 2 * settings.freq_step
    k = (energy(r_e + h) - 2 * energy(r_e) + energy(r_e - h)) / h**2
    return r_e * BOHR_ANGSTROM, harmonic_wavenumber(k, a, b), cycles


def evaluate_energy(a, b, r, settings, sigma):
    """Cold-start SCF (no gradient) at bond length r (Bohr)."""
    from qc_jax.chem.molecule import diatomic
    from qc_jax.chem.scf import run_scf

    return run_scf(diatomic(a, b, r * BOHR_ANGSTROM, settings.basis_map), settings, sigma)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", default="light")
    parser.add_argument("--pairs", default=None, help="comma-separated pair names (a subset)")
    parser.add_argument("--fast", action="store_true", help="FAST settings instead of DEFAULT")
    args = parser.parse_args()
    settings = FAST if args.fast else DEFAULT
    todo = (
        [parse_pair(p) for p in args.pairs.split(",")] if args.pairs else pairs(args.elements)
    )
    evaluate("H", "H", 1.4, settings, settings.smearing_sigma)  # warm up imports and caches
    print("| pair | full pair (s) | status | ours geom (s) | cycles | naive geom (s) | cycles "
          "| ratio | dR_e (A) | d omega_e (cm^-1) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for a, b in todo:
        record, t_full = timed(compute_pair, a, b, settings)
        (r1, w1, c1), t_ours = timed(ours, a, b, settings)
        (r2, w2, c2), t_naive = timed(naive, a, b, settings)
        rows.append((t_full, t_ours, t_naive, c1, c2))
        cells = [pair_name(a, b), f"{t_full:.1f}", record.status, f"{t_ours:.1f}", str(c1),
                 f"{t_naive:.1f}", str(c2), f"{t_naive / t_ours:.1f}", f"{r2 - r1:+.4f}",
                 f"{w2 - w1:+.0f}"]  # fmt: skip
        print("| " + " | ".join(cells) + " |", flush=True)
    full, t_ours, t_naive, c_ours, c_naive = (list(column) for column in zip(*rows, strict=True))
    ratios = [n / o for n, o in zip(t_naive, t_ours, strict=True)]
    print(f"\n{len(rows)} pairs, settings {'FAST' if args.fast else 'DEFAULT'}")
    print(f"full pair: median {statistics.median(full):.1f} s, max {max(full):.1f} s, "
          f"total {sum(full):.0f} s")  # fmt: skip
    print(f"geometry stage: ours median {statistics.median(t_ours):.2f} s "
          f"({statistics.median(c_ours):.0f} SCF cycles), naive median "
          f"{statistics.median(t_naive):.2f} s ({statistics.median(c_naive):.0f} cycles); "
          f"speed ratio naive/ours: total {sum(t_naive) / sum(t_ours):.2f}x, "
          f"median per pair {statistics.median(ratios):.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
