"""The kernel's PySCF parity, canvases and rendering time on a lent GPU or TPU, prepared here.

A lent accelerator (the workplace's `device` tool) has JAX, Flax, optax and PyTorch but neither
PySCF nor TensorFlow, and little time; so the PySCF side is computed here, once, and carried:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/device_check.py reference --data data/device

writes ``data/device/reference.npz`` (an ignored folder, about 1 MB): for each record of
``PARITY_RECORDS`` (shipped compact records: an ionic pair, an open-shell 3d dimer, 6p/5d ECP
pairs, a lanthanide with g functions, an actinide) PySCF's MGGA ``eval_rho`` rows (rho, gradient,
Laplacian, tau) of its total density on a 16^3 box around it, with PySCF's time for them on this
CPU, and its float64 canvas rendered on this CPU (equal to PySCF's channels within 1e-6 of each
channel's largest value: ``tests/test_canvas.py``); and the names of the shipped records that
stand in for the 2,850 pairs of paper75 (``render_canvases.py``). Then, on the accelerator (the
command in ``benchmarks/README.md``, section *On a lent accelerator*):

    python3 benchmarks/device_check.py check --data data/device

evaluates the same rows with ``kernels.density(deriv=2)`` in float64 on JAX's default backend,
renders the canvases in float64 and float32, prints the largest differences relative to each
row's or channel's largest value, and times ``canvas.render_many`` over the stand-ins (the first
run of each precision with compilation, the second without). It exits with status 1 if a
difference exceeds the bounds that hold on the CPU (``BOUNDS``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "datasets" / "quantum_canvas" / "shipped"
"""The package's shipped records (read without importing ``quantum_canvas``, which needs TFDS)."""

PARITY_RECORDS = ("Cl_Na", "Cu_Cu", "Ir_Tl", "At_Lu", "Th_Th")
BOX_POINTS = 16
"""Points per axis of the box (3 Bohr beyond each atom) on which PySCF's rows are compared."""

BOUNDS = {"rows float64": 1e-10, "canvas float64": 1e-9, "canvas float32": 5e-3}
"""Largest difference relative to the row's or channel's largest |value| (the CPU's bounds:
``tests/test_kernels.py``; the canvases against the CPU's float64 canvas, within which it equals
PySCF's channels to 1e-6, ``tests/test_canvas.py``, where float32 is within 5e-3)."""


def box_points(positions_bohr: np.ndarray) -> np.ndarray:
    """[BOX_POINTS^3, 3] points (Bohr) of a box 3 Bohr beyond the atoms on every side."""
    low, high = positions_bohr.min(axis=0) - 3.0, positions_bohr.max(axis=0) + 3.0
    axes = [np.linspace(a, b, BOX_POINTS) for a, b in zip(low, high, strict=True)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def write_reference(folder: Path) -> None:
    """PySCF's rows and the CPU's float64 canvases of ``PARITY_RECORDS``, and the stand-ins."""
    from pyscf.dft import numint
    from render_canvases import paper75_stand_ins, real_records

    from qc_jax import canvas
    from qc_jax.chem.molecule import record_mole
    from qc_jax.compact import ShippedRecords
    from qc_jax.units import BOHR_ANGSTROM

    shipped = ShippedRecords(SHIPPED_DIR)
    records = [shipped.get(name) for name in PARITY_RECORDS]
    arrays = {}
    for record in records:
        mol = record_mole(record)
        points = box_points(np.asarray(record.positions) / BOHR_ANGSTROM)
        start = time.perf_counter()
        rows = numint.eval_rho(mol, numint.eval_ao(mol, points, deriv=2), record.dm_total,
                               xctype="MGGA", with_lapl=True)
        arrays[f"{record.pair}.pyscf_seconds"] = np.float64(time.perf_counter() - start)
        arrays[f"{record.pair}.points"], arrays[f"{record.pair}.rows"] = points, rows
    arrays["canvases"] = canvas.render_many(records, canvas.CanvasSpec(dtype="float64"),
                                            progress=False)
    arrays["stand_ins"] = np.array([r.pair for r in paper75_stand_ins(real_records(None))])
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "reference.npz", **arrays)
    print(f"wrote {folder / 'reference.npz'}: {len(records)} records, "
          f"{len(arrays['stand_ins'])} stand-ins")


def check(folder: Path, limit: int | None = None) -> int:
    """Compare and time on JAX's default backend (module docstring); 1 if a bound is exceeded.
    ``limit``: time only the first stand-ins (a dry run on the CPU)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from qc_jax import canvas, kernels
    from qc_jax.compact import ShippedRecords

    reference = np.load(folder / "reference.npz")
    shipped = ShippedRecords(SHIPPED_DIR)
    records = [shipped.get(name) for name in PARITY_RECORDS]
    print(f"jax {jax.__version__}, backend {jax.default_backend()}: "
          f"{jax.devices()[0].device_kind}\n")
    print("| record | nao | rows float64: max error / max value | kernel (ms) | PySCF, "
          "reference CPU (ms) |\n|---|---:|---:|---:|---:|")
    worst = {key: 0.0 for key in BOUNDS}
    for record in records:
        basis, _ = canvas.field_inputs(record)
        points = jnp.asarray(reference[f"{record.pair}.points"])
        dm = jnp.asarray(record.dm_total)
        rows = np.asarray(kernels.density(basis, dm, points, deriv=2))  # compiles
        start = time.perf_counter()
        kernels.density(basis, dm, points, deriv=2).block_until_ready()
        seconds = time.perf_counter() - start
        expected = reference[f"{record.pair}.rows"]
        error = float((np.abs(rows - expected).max(axis=1) / np.abs(expected).max(axis=1)).max())
        worst["rows float64"] = max(worst["rows float64"], error)
        print(f"| {record.pair} | {basis.nao} | {error:.1e} | {seconds * 1e3:.2f} | "
              f"{float(reference[f'{record.pair}.pyscf_seconds']) * 1e3:.1f} |")
    expected = reference["canvases"]
    scale = np.abs(expected).max(axis=(1, 2))  # [records, channels]
    for precision in ("float64", "float32"):
        images = canvas.render_many(records, canvas.CanvasSpec(dtype="float64",
                                                               precision=precision),
                                    progress=False)
        error = np.abs(images - expected).max(axis=(1, 2)) / np.where(scale > 0, scale, 1)
        worst[f"canvas {precision}"] = float(error.max())
    stand_ins = [shipped.get(name) for name in reference["stand_ins"][:limit]]
    print("\n| canvases 32x32x10, 3x3 samples | precision | first run, compilation included (s) "
          "| second run (s) |\n|---|---|---:|---:|")
    for precision in ("float32", "float64"):
        spec, seconds = canvas.CanvasSpec(precision=precision), []
        for _ in range(2):
            start = time.perf_counter()
            canvas.render_many(stand_ins, spec, progress=False)
            seconds.append(time.perf_counter() - start)
        print(f"| {len(stand_ins)} | {precision} | {seconds[0]:.1f} | {seconds[1]:.1f} |",
              flush=True)
    print("\n| check | largest error / max value | bound |\n|---|---:|---:|")
    for key, bound in BOUNDS.items():
        print(f"| {key} | {worst[key]:.1e} | {bound:.0e} |")
    return int(any(worst[key] > bound for key, bound in BOUNDS.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["reference", "check"])
    parser.add_argument("--data", default="data/device", help="folder of reference.npz")
    parser.add_argument("--limit", type=int, default=None,
                        help="check: time the first LIMIT stand-ins only (a dry run on the CPU)")
    args = parser.parse_args()
    if args.step == "reference":
        sys.path.insert(0, str(Path(__file__).parent))  # render_canvases, beside this file
        write_reference(Path(args.data))
        return 0
    return check(Path(args.data), args.limit)


if __name__ == "__main__":
    sys.exit(main())
