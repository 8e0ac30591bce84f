"""The demo behind ``make demo``: a real molecule, its quantum canvas, a figure.

    python -m qc_app.molecule_demo [--pair C O] [--store data/store] [--out out/demo] [--size 96]

Computes the pair with PySCF at the default level of theory (cached in the store), renders its
ten-channel canvas with the JAX kernel at high resolution, checks that the l- and m-partitions
of the density agree at every pixel, and writes a PNG panel. Later issues extend it to the
dataset and a trained model.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Compute, render and draw one diatomic.")
    parser.add_argument("--pair", nargs=2, default=["C", "O"], metavar=("A", "B"))
    parser.add_argument("--store", default="data/store", help="record cache directory")
    parser.add_argument("--out", default="out/demo", help="output directory for the figure")
    parser.add_argument("--size", type=int, default=96, help="pixels per side")
    args = parser.parse_args(argv)

    from qc_app import figures
    from qc_jax import canvas
    from qc_jax.chem.lookup import get_record
    from qc_jax.chem.settings import DEFAULT
    from qc_jax.store import Store

    start = time.perf_counter()
    lookup = get_record(*args.pair, Store(args.store, DEFAULT), announce=True)
    if not lookup.converged:
        raise SystemExit(f"{lookup.pair} has no converged record: {lookup.message}")
    record, origin = lookup.record, lookup.source
    print(
        f"{record.pair}: R_e = {record.bond_length:.4f} Angstrom, gap = "
        f"{record.labels['e_g_ev']:.3f} eV, dipole = {record.labels['dipole_mag_d']:.3f} D "
        f"({origin}, {time.perf_counter() - start:.1f} s)"
    )
    spec = canvas.CanvasSpec(height=args.size, width=args.size, extent_angstrom=5.0)
    start = time.perf_counter()
    image = canvas.render(record, spec)
    channel = dict(zip(spec.channel_set.names, np.moveaxis(image, -1, 0), strict=True))
    rho_by_l = channel["rho_sp"] + channel["rho_df"]
    rho_by_m = channel["rho_sigma"] + channel["rho_pi"]
    error = float(np.abs(rho_by_l - rho_by_m).max() / rho_by_l.max())
    print(
        f"canvas {image.shape} in {time.perf_counter() - start:.2f} s (including compilation);"
        f" l- and m-partitions of rho agree to {error:.1e}"
    )
    path = figures.canvas_figure(image, spec, record, Path(args.out) / f"{record.pair}.png")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
