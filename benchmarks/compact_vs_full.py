"""Canvases from shipped compact records against those from the full records of a store.

Usage: python benchmarks/compact_vs_full.py [--store data/store]
       [--shipped datasets/quantum_canvas/shipped]
Renders every shipped pair that the store also holds (and did not fail) both ways and prints the
largest difference of each channel divided by its scale (the channel's largest value; for charge
accumulation and depletion, differences of two densities, the density's).
"""

import argparse

import numpy as np

from qc_jax import canvas
from qc_jax.chem.settings import DEFAULT
from qc_jax.compact import ShippedRecords
from qc_jax.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="data/store")
    parser.add_argument("--shipped", default="datasets/quantum_canvas/shipped")
    args = parser.parse_args()
    store, shipped = Store(args.store, DEFAULT), ShippedRecords(args.shipped)
    names = [n for n in shipped.names() if (r := store.get(n)) and r.status != "failed"]
    full = canvas.render_many([store.load(n) for n in names], progress=False)
    compact = canvas.render_many([shipped.get(n) for n in names], progress=False)
    scale = np.abs(full).max(axis=(0, 1, 2))
    scale[8:] = np.abs(full[..., 0] + full[..., 1]).max()
    errors = np.abs(compact - full).max(axis=(0, 1, 2)) / scale
    print(f"{len(names)} pairs; largest difference / channel scale, channels 0-9:")
    print(" ".join(f"{e:.1e}" for e in errors))


if __name__ == "__main__":
    main()
