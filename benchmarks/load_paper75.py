"""Wall time of `tfds.load("quantum_canvas/paper75")` from the shipped records, fresh clone.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/load_paper75.py

Builds the config into a new, empty data directory and store (so nothing is cached; JAX
compilation included), from the compact records shipped with the package, without PySCF
(``compute=False``: pairs not shipped yet are left out), then reads the train split once with
``tfds.load``. Prints the wall time of each phase.

While fewer than all 2,850 pairs are shipped (a pair shipped but left out of the dataset, at a
raised electronic temperature, counts as shipped), it then builds, into new directories, a
seeded half of the shipped pairs and all of them again (both with the kernels already compiled;
``--repeats`` times each, alternating, the fastest kept) and extrapolates to all pairs: the
first build plus the marginal cost per pair (the difference of the two later builds over the
difference of their pair counts) for each pair not shipped yet. Fixed costs (imports,
compilation, the writers of the 12 splits) are not scaled with the pairs. Under load the
difference can drown in noise, so it also prints a bound that cannot: every pair at the average
cost of the compiled full build, fixed costs included. Both labelled as extrapolations, not
measurements.
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
    parser.add_argument("--repeats", type=int, default=3, help="compiled builds of each size")
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
        shipped = ShippedRecords(SHIPPED_DIR)
        names = shipped.names()
        if len(names) == total:  # a measurement: nothing to extrapolate
            return
        half = shipped.subset(f"{scratch}/half_shipped",
                              random.Random(0).sample(names, len(names) // 2))
        halves, alls = [], []
        for repeat in range(args.repeats):
            halves.append(build(args.config, f"{scratch}/half{repeat}", str(half.root)))
            alls.append(build(args.config, f"{scratch}/again{repeat}"))
    (half_seconds, half_kept, _), again = min(halves), min(alls)[0]
    per_pair = (again - half_seconds) / (kept - half_kept)
    print(f"compiled kernels, fastest of {args.repeats}: a seeded half of the shipped pairs "
          f"({half_kept} in the dataset) {half_seconds:.1f} s, all {again:.1f} s; marginal cost "
          f"{per_pair:.3f} s per pair")
    missing, average = total - len(names), again / kept
    print(f"extrapolation to {total} pairs (not a measurement): "
          f"{(seconds + per_pair * missing) / 60:.1f} min; bound at {average:.3f} s per pair, "
          f"fixed costs included: {(seconds + average * missing) / 60:.1f} min")


if __name__ == "__main__":
    main()
