"""Times the JAX density kernel against PySCF's eval_ao + eval_rho in the same process.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/kernel_vs_pyscf.py

For CO, Fe2 and Au2 (def2-SVP, Au with its def2 ECP) on a 64x64 plane and a 32^3 box (both
``kernels.Grid``; PySCF gets the same points): the best wall time over rounds that alternate
the functions timed (after compilation, ``block_until_ready``) of our jit'd AO + density
evaluation in float64 and float32 and of PySCF, the ratio, and the float32 error
(max |rho32 - rho64| / max rho64). Then rho, gradient, Laplacian and tau on the box against
PySCF's MGGA ``eval_rho`` (the same six rows), and one ``density_many`` call over 64
different diatomics against a PySCF loop over the same molecules. Pin the process
(``taskset``) so that XLA and PySCF get the same core(s): XLA's thread pool follows the
affinity mask, not ``OMP_NUM_THREADS``. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import jax
import numpy as np

from qc_jax import basis as basis_lib
from qc_jax import kernels
from qc_jax.units import BOHR_ANGSTROM

jax.config.update("jax_enable_x64", True)

MOLECULES = {"CO": ("C", "O", 1.13), "Fe2": ("Fe", "Fe", 2.02), "Au2": ("Au", "Au", 2.47)}
BATCH_ELEMENTS = ["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al",
                  "Si", "P", "S", "Cl", "Ar"]


def molecule(a: str, b: str, bond_angstrom: float):
    from pyscf import gto

    heavy = {"Au"}
    ecp = {s: "def2-svp" for s in {a, b} & heavy}
    spin = (gto.charge(a) + gto.charge(b)) % 2
    return gto.M(atom=[(a, (0, 0, -bond_angstrom / 2)), (b, (0, 0, bond_angstrom / 2))],
                 basis="def2-svp", ecp=ecp, spin=spin, verbose=0)


def promolecule_density_matrix(mol) -> np.ndarray:
    from pyscf import scf

    dm = scf.RHF(mol).get_init_guess(key="atom")
    return dm if dm.ndim == 2 else dm.sum(axis=0)  # open shells: alpha + beta


def grids(bond_bohr: float) -> dict[str, kernels.Grid]:
    """The canvas plane (y = 0, 64x64) and a 32^3 box, both 12 Bohr wide around the bond."""
    half = 6.0 + bond_bohr / 4
    axis64, axis32 = np.linspace(-half, half, 64), np.linspace(-half, half, 32)
    return {"plane 64x64": kernels.Grid(axis64, np.zeros(1), axis64),
            "box 32^3": kernels.Grid(axis32, axis32, axis32)}


def best_seconds(fns: list, repeats: int) -> list[float]:
    """Best wall time of each function over ``repeats`` rounds that call them in turn (after
    one call each to compile and warm up): under load from other processes, alternating keeps
    the comparison fair and the minimum is the least disturbed run."""
    for fn in fns:
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, own in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            own.append(time.perf_counter() - start)
    return [min(own) for own in times]


def benchmark_molecules():
    """(name, mol, promolecule dm, Basis, grids) for each molecule of :data:`MOLECULES`."""
    for name, (a, b, bond) in MOLECULES.items():
        mol = molecule(a, b, bond)
        yield name, mol, promolecule_density_matrix(mol), basis_lib.from_pyscf(mol), grids(
            bond / BOHR_ANGSTROM)


def pyscf_density(mol, dm, grid: kernels.Grid, deriv: int):
    """PySCF's eval_ao + eval_rho at the grid's points (MGGA with Laplacian and tau for deriv
    2), as a function to time."""
    from pyscf.dft import numint

    points = np.asarray(grid.points())
    xctype = "MGGA" if deriv == 2 else "LDA"
    return lambda: numint.eval_rho(mol, numint.eval_ao(mol, points, deriv=deriv), dm,
                                   xctype=xctype, with_lapl=True)  # fmt: skip


def jax_density(basis, dm, points, deriv: int, chunk_size=None):
    """:func:`qc_jax.kernels.density` as a function to time (``block_until_ready``)."""
    return lambda: kernels.density(basis, dm, points, deriv=deriv,
                                   chunk_size=chunk_size).block_until_ready()  # fmt: skip


def single_molecules(repeats: int) -> None:
    print("| molecule | grid | nao | PySCF (ms) | JAX f64 (ms) | JAX f32 (ms) | PySCF / JAX f64 |"
          " PySCF / JAX f32 | f32 error |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, mol, dm, basis, named_grids in benchmark_molecules():
        basis32, dm32 = basis.astype(np.float32), dm.astype(np.float32)
        for grid_name, points in named_grids.items():
            points32 = kernels.Grid(*(axis.astype(np.float32) for axis in points))
            t_pyscf, t64, t32 = best_seconds([pyscf_density(mol, dm, points, 0),
                                              jax_density(basis, dm, points, 0),
                                              jax_density(basis32, dm32, points32, 0)], repeats)
            rho64 = np.asarray(kernels.density(basis, dm, points))
            rho32 = np.asarray(kernels.density(basis32, dm32, points32), np.float64)
            error = np.abs(rho32 - rho64).max() / np.abs(rho64).max()
            print(f"| {name} | {grid_name} | {mol.nao} | {1e3 * t_pyscf:.1f} | {1e3 * t64:.1f} |"
                  f" {1e3 * t32:.1f} | {t_pyscf / t64:.2f} | {t_pyscf / t32:.2f} | {error:.1e} |",
                  flush=True)


def derivatives(repeats: int) -> None:
    """rho, its gradient and Laplacian on the 32^3 box against PySCF's MGGA eval_rho."""
    print("\n| molecule | rho, gradient, Laplacian, tau on the 32^3 box | PySCF (ms) |"
          " JAX f64 (ms) | PySCF / JAX |")
    print("|---|---|---|---|---|")
    for name, mol, dm, basis, named_grids in benchmark_molecules():
        points = named_grids["box 32^3"]
        t_pyscf, t_jax = best_seconds([pyscf_density(mol, dm, points, 2),
                                       jax_density(basis, dm, points, 2)], repeats)
        print(f"| {name} | deriv=2 | {1e3 * t_pyscf:.1f} | {1e3 * t_jax:.1f} |"
              f" {t_pyscf / t_jax:.2f} |", flush=True)


def batch(n_molecules: int, repeats: int) -> None:
    from pyscf.dft import numint

    pairs = list(itertools.combinations_with_replacement(BATCH_ELEMENTS, 2))[:n_molecules]
    rng = np.random.default_rng(0)
    mols = [molecule(a, b, rng.uniform(1.0, 2.5)) for a, b in pairs]
    dms = [promolecule_density_matrix(m) for m in mols]
    bases = [basis_lib.from_pyscf(m) for m in mols]
    grid = grids(3.5)["plane 64x64"]
    points = np.asarray(grid.points())

    def pyscf_loop():
        for mol, dm in zip(mols, dms, strict=True):
            numint.eval_rho(mol, numint.eval_ao(mol, points), dm)

    t_pyscf, t_jax = best_seconds(
        [pyscf_loop, lambda: kernels.density_many(bases, dms, grid).block_until_ready()], repeats)
    naos = [m.nao for m in mols]
    print(f"\nBatch of {len(mols)} different diatomics (nao "
          f"{min(naos)}-{max(naos)}, padded to {basis_lib.stack(bases).nao}), 64x64 plane:")
    print(f"PySCF loop {t_pyscf:.3f} s ({len(mols) / t_pyscf:.0f} molecules/s), "
          f"JAX density_many f64 {t_jax:.3f} s ({len(mols) / t_jax:.0f} molecules/s), "
          f"ratio {t_pyscf / t_jax:.2f}")


def chunk_sweep(chunks: list[int], repeats: int) -> None:
    """Milliseconds of rho and of rho + gradient + Laplacian on the 32^3 boxes per chunk size."""
    molecules = list(benchmark_molecules())
    print("| chunk | " + " | ".join(f"{name} box {what}" for name, *_ in molecules
                                    for what in ("rho", "deriv=2")) + " |")
    print("|---" * (1 + 2 * len(molecules)) + "|")
    for chunk in chunks:
        row = best_seconds([jax_density(basis, dm, grids["box 32^3"], deriv, chunk)
                            for _, _, dm, basis, grids in molecules for deriv in (0, 2)], repeats)
        print(f"| {chunk:,} | " + " | ".join(f"{1e3 * t:.1f}" for t in row) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--chunk-sweep", type=int, nargs="*", metavar="CHUNK",
                        help="only time these chunk sizes (points per lax.map step)")
    args = parser.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}, "
          f"{len(os.sched_getaffinity(0))} core(s) in the affinity mask, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"load average {os.getloadavg()[0]:.1f} at the start\n")
    if args.chunk_sweep:
        chunk_sweep(args.chunk_sweep, args.repeats)
        return
    single_molecules(args.repeats)
    derivatives(args.repeats)
    batch(args.batch, args.repeats)


if __name__ == "__main__":
    main()
