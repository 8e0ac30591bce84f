"""Wall time of `tfds.load("quantum_canvas/paper75")` from the shipped records, fresh clone.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/load_paper75.py

Builds the config into a new, empty data directory and store (so nothing is cached; JAX
compilation included), from the compact records shipped with the package, without PySCF
(``compute=False``: pairs not shipped yet are left out), then reads the train split once with
``tfds.load``. Prints the wall time of each phase.

While fewer than all 2,850 pairs are shipped, it then builds, into new directories, a seeded half
of the shipped pairs and all of them again (both with the kernels already compiled) and
extrapolates to all pairs: the first build plus the marginal cost per pair (the difference of
the two later builds over the difference of their pair counts) for each pair not shipped yet.
Fixed costs (imports, compilation, the writers of the 12 splits) are not scaled with the
pairs. Labelled as an extrapolation, not a measurement.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time

import quantum_canvas  # noqa: F401  (registers the builder)
import tensorflow_datasets as tfds
from quantum_canvas.records import SHIPPED_DIR

from qc_jax.compact import ShippedRecords


def build(config: str, scratch: str, shipped_dir: str | None = None) -> tuple[float, int, int]:
    """(build seconds, pairs in the dataset, pairs of the config) of a fresh build."""
    start = time.perf_counter()
    builder = tfds.builder(f"quantum_canvas/{config}", data_dir=f"{scratch}/tfds",
                           store_dir=f"{scratch}/store", shipped_dir=shipped_dir,
                           compute=False)
    builder.download_and_prepare()
    total = len(builder.builder_config.pairs)
    return time.perf_counter() - start, total - builder.info.metadata["num_left_out"], total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="paper75")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        seconds, kept, total = build(args.config, f"{scratch}/all")
        start = time.perf_counter()
        examples = sum(1 for _ in tfds.as_numpy(tfds.load(
            f"quantum_canvas/{args.config}", split="train", data_dir=f"{scratch}/all/tfds")))
        loaded = time.perf_counter() - start
        print(f"{args.config}: {kept} of {total} pairs in the dataset, {os.cpu_count()} cores")
        print(f"build from shipped records: {seconds:.1f} s; tfds.load + read train "
              f"({examples} examples): {loaded:.1f} s")
        if kept == total:
            return
        shipped = ShippedRecords(SHIPPED_DIR)
        names = shipped.names()
        half = shipped.subset(f"{scratch}/half_shipped",
                              random.Random(0).sample(names, len(names) // 2))
        half_seconds, half_kept, _ = build(args.config, f"{scratch}/half", str(half.root))
        again, _, _ = build(args.config, f"{scratch}/again")
    per_pair = (again - half_seconds) / (kept - half_kept)
    print(f"compiled kernels: a seeded half of the shipped pairs ({half_kept} in the dataset) "
          f"{half_seconds:.1f} s, all {again:.1f} s; marginal cost {per_pair:.3f} s per pair")
    print(f"extrapolation to {total} pairs (not a measurement): "
          f"{(seconds + per_pair * (total - kept)) / 60:.1f} min")


if __name__ == "__main__":
    main()
