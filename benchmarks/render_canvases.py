"""Time to render the 2,850 canvases of a paper75-like set, compilation included and apart.

    OMP_NUM_THREADS=1 taskset -c 0 .venv/bin/python benchmarks/render_canvases.py

Real records stand in for the 2,850 pairs of paper75: the package's shipped compact records
(plus a store's with ``--store``), each pair rendered from the real record whose AO count is
closest to the pair's (def2-SVP with the project's ECPs; the cost grows with it), so the mix of
basis sizes, and of compiled shapes, is paper75's. For each precision, the whole set is rendered
twice with ``canvas.render_many`` in one process: the first run includes compilation and the
per-element basis set-up, the second does not. ``--pyscf`` adds PySCF's ``eval_ao`` +
``eval_rho`` of the total density alone (one of the ten channels, float64) at the same points,
on the distinct stand-ins, scaled to 2,850. ``--supersampling`` measures how many pixels a single
sample would render within 1e-6 of each channel's largest value (the bound a cheaper
supersampling would have to meet); ``--float32-error`` the largest difference of float32 from
float64 generation per channel, relative to the channel's largest value, over the real records.
Prints Markdown.
"""

from __future__ import annotations

import argparse
import functools
import os
import time

import jax
import numpy as np

from qc_jax import canvas, elements
from qc_jax.chem.settings import DEFAULT
from qc_jax.store import Store


@functools.cache
def element_nao(element: str) -> int:
    """AOs of one atom in the project's default basis (def2-SVP, def2 ECPs)."""
    from pyscf import gto

    from qc_jax.chem.basis_sets import basis_spec, pyscf_basis

    basis, ecp = pyscf_basis(basis_spec(element), element)
    return gto.M(atom=[(element, (0.0, 0.0, 0.0))], basis={element: basis},
                 ecp={element: ecp} if ecp is not None else {}, spin=None, verbose=0).nao


def real_records(store: str | None) -> list:
    """Converged shipped records, plus those of ``store`` (by pair name, the store's first)."""
    from quantum_canvas.records import SHIPPED_DIR

    from qc_jax.compact import ShippedRecords

    found = {}
    if store:
        found.update({r.pair: r for r in Store(store, DEFAULT).records()})
    shipped = ShippedRecords(SHIPPED_DIR)
    for name in shipped.names():
        found.setdefault(name, shipped.get(name))
    return [r for r in found.values() if r.status != "failed"]


def paper75_stand_ins(records: list) -> list:
    """For each paper75 pair, the record whose AO count is closest to the pair's."""
    naos = np.array([canvas._inputs(r).mo_coeff.shape[1] for r in records])
    return [records[int(np.argmin(np.abs(naos - element_nao(a) - element_nao(b))))]
            for a, b in elements.pairs("paper75")]  # fmt: skip


def pyscf_density_seconds(records: list, spec: canvas.CanvasSpec) -> float:
    """Seconds for PySCF to evaluate rho alone at the canvas sample points of every record."""
    from pyscf.dft import numint

    from qc_jax.chem.molecule import record_mole

    molecules = [(record_mole(r), r.dm_total, spec.sample_points(r.bond_length).reshape(-1, 3))
                 for r in records]
    start = time.perf_counter()
    for mol, dm, points in molecules:
        numint.eval_rho(mol, numint.eval_ao(mol, points), dm)
    return time.perf_counter() - start


def single_sample_fraction(records: list) -> np.ndarray:
    """[10] per channel, and overall, the fraction of pixels whose centre sample is within 1e-6
    of the channel's largest |value| of the 3x3 mean (float64)."""
    one, three = (canvas.render_many(records, canvas.CanvasSpec(supersample=s, dtype="float64"),
                                     progress=False) for s in (1, 3))  # fmt: skip
    error = np.abs(one - three) / np.abs(three).max(axis=(1, 2), keepdims=True)
    within = error <= 1e-6
    return np.append(within.mean(axis=(0, 1, 2)), within.all(axis=-1).mean())


def float32_error(records: list) -> tuple[np.ndarray, list[str]]:
    """[10] max over records of max |float32 - float64| / max |float64| per channel, and the
    record where each maximum occurs."""
    f64, f32 = (canvas.render_many(records, canvas.CanvasSpec(precision=p, dtype="float64"),
                                   progress=False) for p in ("float64", "float32"))  # fmt: skip
    scale = np.abs(f64).max(axis=(1, 2))
    error = np.abs(f32 - f64).max(axis=(1, 2)) / np.where(scale > 0, scale, 1)  # [B, 10]
    return error.max(axis=0), [records[i].pair for i in error.argmax(axis=0)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="a store whose records join the shipped")
    parser.add_argument("--precision", nargs="+", default=["float32", "float64"])
    parser.add_argument("--pyscf", action="store_true")
    parser.add_argument("--supersampling", action="store_true")
    parser.add_argument("--float32-error", action="store_true")
    args = parser.parse_args()
    records = real_records(args.store)
    stand_ins = paper75_stand_ins(records)
    used = {r.pair: r for r in stand_ins}
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}; "
          f"{len(os.sched_getaffinity(0))} core(s) in the affinity mask, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, load average "
          f"{os.getloadavg()[0]:.1f} at the start; {len(records)} real records, {len(used)} of "
          f"them stand in for the {len(stand_ins)} paper75 pairs\n")
    print("| canvas | precision | canvases | first run, compilation included (s) | second run (s)"
          " | canvases / s (second run) |")
    print("|---|---|---|---|---|---|")
    for precision in args.precision:
        spec = canvas.CanvasSpec(precision=precision)
        seconds = []
        for _ in range(2):
            start = time.perf_counter()
            canvas.render_many(stand_ins, spec, progress=False)
            seconds.append(time.perf_counter() - start)
        print(f"| 32x32x10, 3x3 samples | {precision} | {len(stand_ins)} | {seconds[0]:.1f} | "
              f"{seconds[1]:.1f} | {len(stand_ins) / seconds[1]:.1f} |", flush=True)
    if args.pyscf:
        distinct = list(used.values())
        reference = pyscf_density_seconds(distinct, canvas.CanvasSpec())
        print(f"\nPySCF rho alone (float64) at the 3x3 sample points: {reference:.1f} s for the "
              f"{len(distinct)} distinct stand-ins, {reference / len(distinct) * 1e3:.1f} ms a "
              f"canvas, {reference / len(distinct) * len(stand_ins):.0f} s scaled to "
              f"{len(stand_ins)}")
    if args.supersampling:
        fraction = single_sample_fraction(records)
        names = " ".join(f"{c.name} {f:.2f}" for c, f in zip(canvas.CHANNELS, fraction,
                                                              strict=False))  # fmt: skip
        print(f"\nPixels a centre sample renders within 1e-6 of the channel's largest value, "
              f"{len(records)} records: {names}; all ten channels: {fraction[-1]:.3f}")
    if args.float32_error:
        error, where = float32_error(records)
        print(f"\nfloat32 - float64 generation, max over {len(records)} records, relative to "
              f"each channel's largest value: " + ", ".join(
                  f"{c.name} {e:.1e} ({pair})" for c, e, pair in zip(canvas.CHANNELS, error, where,
                                                                      strict=True)))


if __name__ == "__main__":
    main()
