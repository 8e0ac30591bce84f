"""The demo behind ``make demo``: a real molecule, its densities on the canvas plane, a figure.

    python -m qc_jax.demo [--pair C O] [--out out/demo]

Computes the pair with PySCF at the default level of theory (cached in ``data/store``), evaluates
l- and m-resolved densities, the interatomic bond density and the deformation density against
the promolecule on the y = 0 plane with the JAX kernel, checks that the partitions sum to the
total density, and writes a PNG panel. Later issues extend it to the dataset and a trained model.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import numpy as np

BOHR_PER_ANGSTROM = 1 / 0.52917721092


def plane_points(half_width_angstrom: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """[size * size, 3] points (Bohr) of the y = 0 plane, rows along x and columns along z."""
    axis = np.linspace(-half_width_angstrom, half_width_angstrom, size) * BOHR_PER_ANGSTROM
    x, z = np.meshgrid(axis, axis, indexing="ij")
    return np.column_stack([x.ravel(), np.zeros(x.size), z.ravel()]), axis / BOHR_PER_ANGSTROM


def density_panels(record, points: np.ndarray) -> dict[str, np.ndarray]:
    """Named densities [N] (e/Bohr^3) of a PairRecord, from one AO pass of the kernel."""
    from qc_jax import basis as basis_lib
    from qc_jax import kernels

    basis = basis_lib.from_pyscf(record.mole())
    on_a, on_b = basis.ao_atom == 0, basis.ao_atom == 1
    masks = {
        "rho": np.ones((basis.nao, basis.nao)),
        "s+p (l<=1)": np.broadcast_to((basis.ao_l <= 1)[:, None], (basis.nao, basis.nao)),
        "d+f (l>=2)": np.broadcast_to((basis.ao_l >= 2)[:, None], (basis.nao, basis.nao)),
        "sigma (m=0)": np.broadcast_to((basis.ao_m == 0)[:, None], (basis.nao, basis.nao)),
        "pi/delta (|m|>=1)": np.broadcast_to((basis.ao_m != 0)[:, None], (basis.nao, basis.nao)),
        "bond A-B": np.outer(on_a, on_b) + np.outer(on_b, on_a),
    }
    dms = np.stack([record.dm * mask for mask in masks.values()] + [record.dm_promolecule])
    values = np.asarray(kernels.density(basis, dms, points))
    panels = dict(zip(masks, values[:-1], strict=False))
    panels["rho - promolecule"] = values[0] - values[-1]
    for total, parts in (("l", ("s+p (l<=1)", "d+f (l>=2)")),
                         ("m", ("sigma (m=0)", "pi/delta (|m|>=1)"))):
        error = np.abs(panels[parts[0]] + panels[parts[1]] - panels["rho"]).max()
        assert error < 1e-10 * panels["rho"].max(), f"{total}-partition does not sum to rho"
    return panels


def save_figure(panels: dict[str, np.ndarray], axis: np.ndarray, record, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import SymLogNorm

    size = len(axis)
    columns = (len(panels) + 1) // 2
    fig, axes = plt.subplots(2, columns, figsize=(3.2 * columns, 6.2))
    axes = axes.ravel()
    for ax in axes[len(panels):]:
        ax.axis("off")
    extent = (axis[0], axis[-1], axis[0], axis[-1])
    for ax, (name, values) in zip(axes, panels.items(), strict=False):
        image = values.reshape(size, size)
        signed = image.min() < 0
        limit = np.abs(image).max()
        norm = SymLogNorm(1e-3, vmin=-limit if signed else 0, vmax=limit)
        shown = ax.imshow(image, origin="lower", extent=extent, cmap="RdBu_r" if signed else
                          "magma", norm=norm)
        ax.plot(record.positions[:, 2], record.positions[:, 0], "c+", ms=8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("z (Angstrom)", fontsize=8)
        ax.set_ylabel("x (Angstrom)", fontsize=8)
        fig.colorbar(shown, ax=ax, shrink=0.8).set_label("e/Bohr^3", fontsize=7)
    fig.suptitle(f"{record.pair}: densities on the y = 0 plane (PBE, R = "
                 f"{record.bond_length:.3f} Angstrom)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render the densities of one diatomic.")
    parser.add_argument("--pair", nargs=2, default=["C", "O"], metavar=("A", "B"))
    parser.add_argument("--store", default="data/store", help="record cache directory")
    parser.add_argument("--out", default="out/demo", help="output directory for the figure")
    parser.add_argument("--size", type=int, default=128, help="pixels per side")
    args = parser.parse_args(argv)

    from qc_jax.chem import compute_pair
    from qc_jax.store import Store

    store = Store(args.store)
    start = time.perf_counter()
    record = store.get(*args.pair)
    origin = f"from {store.path(*args.pair)}"
    if record is None:
        print(f"Computing {'-'.join(args.pair)} with PySCF (optimised bond, labels) ...")
        record = compute_pair(*args.pair)
        store.put(record)
        origin = f"computed in {time.perf_counter() - start:.1f} s"
    if record.status != "ok":
        raise SystemExit(f"{record.pair} did not converge: {record.reason}")
    print(f"{record.pair}: R_e = {record.bond_length:.4f} Angstrom, gap = "
          f"{record.labels['e_g_ev']:.3f} eV, dipole = {record.labels['dipole_mag_d']:.3f} D "
          f"({origin})")
    points, axis = plane_points(2.5, args.size)
    start = time.perf_counter()
    with jax.enable_x64(True):  # generation runs in float64
        panels = density_panels(record, points)
    print(f"{len(panels)} density fields on {args.size}x{args.size} points in "
          f"{time.perf_counter() - start:.2f} s (including compilation); partitions sum to rho")
    path = Path(args.out) / f"{record.pair}_densities.png"
    save_figure(panels, axis, record, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
