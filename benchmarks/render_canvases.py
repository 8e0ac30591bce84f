"""Canvases per second from stored records, float64 and float32, with and without supersampling.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/render_canvases.py --store data/store --count 256

Takes the converged records of a store (compute them first, e.g. ``qc-canvas compute --elements
light``), repeats them to ``--count`` records, and times ``canvas.render_many`` after a warm-up
batch (so compilation is excluded) for 32x32 canvases with 1x1 and 3x3 samples per pixel, in
float64 and float32 arithmetic. The
same records are also timed through PySCF's ``eval_ao``/``eval_rho`` for the total density alone
(one of the ten channels) as a reference. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

from qc_jax import canvas, kernels
from qc_jax.store import Store


def pyscf_total_density_seconds(records, spec: canvas.CanvasSpec) -> float:
    """Seconds for PySCF to evaluate rho alone at the canvas sample points of every record."""
    from pyscf.dft import numint

    molecules = [(r.mole(), r.dm_total, spec.sample_points(r.bond_length).reshape(-1, 3))
                 for r in records]
    start = time.perf_counter()
    for mol, dm, points in molecules:
        numint.eval_rho(mol, numint.eval_ao(mol, points), dm)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="data/store")
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=None,
                        help="points per lax.map step on CPU (default kernels.CPU_CHUNK[2])")
    args = parser.parse_args()
    if args.chunk:
        kernels.CPU_CHUNK[2] = args.chunk
    stored = [r for r in Store(args.store).records() if r.status != "failed"]
    if not stored:
        raise SystemExit(f"no records in {args.store}: run qc-canvas compute first")
    records = (stored * (args.count // len(stored) + 1))[: args.count]
    print(f"jax {jax.__version__} on {jax.devices()[0].device_kind}, canvas chunk "
          f"{kernels.default_chunk(2)} points; {len(stored)} distinct "
          f"records ({', '.join(r.pair for r in stored)}) repeated to {len(records)}\n")
    print("| canvas | precision | samples / pixel | canvases | seconds | canvases / s |"
          " PySCF rho only (s) |")
    print("|---|---|---|---|---|---|---|")
    for precision in ("float64", "float32"):
        for supersample in (1, 3):
            spec = canvas.CanvasSpec(supersample=supersample, precision=precision)
            canvas.render_many(records[: args.batch], spec, args.batch, progress=False)  # compile
            start = time.perf_counter()
            canvas.render_many(records, spec, args.batch, progress=False)
            seconds = time.perf_counter() - start
            reference = pyscf_total_density_seconds(records, spec)
            print(f"| 32x32x10 | {precision} | {supersample}x{supersample} | {len(records)} | "
                  f"{seconds:.1f} | {len(records) / seconds:.1f} | {reference:.1f} |", flush=True)
    per_canvas = seconds / len(records)
    print(f"\nProjected for the 2,850 paper75 canvases at 3x3 samples in float32: "
          f"{2850 * per_canvas / 60:.1f} min on this machine (light-element records; heavier "
          f"pairs have more AOs).")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
