"""Wall time of `tfds.load("quantum_canvas/paper75")` from the shipped records, fresh clone.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/load_paper75.py

Builds the config into a new, empty data directory and store (so nothing is cached; JAX
compilation included), from the compact records shipped with the package, without PySCF
(``compute=False``: pairs not shipped yet are left out), then reads the train split once with
``tfds.load``. Prints the wall time of each phase and, while fewer than all 2,850 pairs are
shipped, the time per shipped pair and its linear extrapolation to all of them (labelled as such).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import quantum_canvas  # noqa: F401  (registers the builder)
import tensorflow_datasets as tfds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="paper75")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        builder = tfds.builder(f"quantum_canvas/{args.config}", data_dir=f"{scratch}/tfds",
                               store_dir=f"{scratch}/store", compute=False)
        builder.download_and_prepare()
        built = time.perf_counter()
        examples = sum(1 for _ in tfds.as_numpy(tfds.load(
            f"quantum_canvas/{args.config}", split="train", data_dir=f"{scratch}/tfds")))
        loaded = time.perf_counter()
    total = len(builder.builder_config.pairs)
    shipped = total - builder.info.metadata["num_left_out"]
    print(f"{args.config}: {shipped} of {total} pairs in the dataset, {os.cpu_count()} cores")
    print(f"build from shipped records: {built - start:.1f} s; tfds.load + read train "
          f"({examples} examples): {loaded - built:.1f} s")
    if shipped < total:
        per_pair = (built - start) / max(shipped, 1)
        print(f"{per_pair:.2f} s per pair; linear extrapolation to {total} pairs (not a "
              f"measurement): {per_pair * total / 60:.1f} min")


if __name__ == "__main__":
    main()
