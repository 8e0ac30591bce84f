"""How the shipped records changed between two commits: the table docs/chemistry.md quotes for
each dataset release that replaced records.

    python benchmarks/shipped_changes.py 713beb5 47a6564      # dataset 2.12.0 -> 2.13.0

Both revisions' ``datasets/quantum_canvas/shipped`` folders are read with ``git archive`` (the
second defaults to the working tree); the pairs compared are those whose file differs between
the two manifests (``--pairs`` to choose). Prints :func:`qc_jax.changes.record_changes`: the
change of the Mermin free energy F, spin moment, bond length, binding energy and CPU time, and
with ``--labels i_ev,a_ev`` those labels now and before.
"""

import argparse
import subprocess
import tarfile
import tempfile
from pathlib import Path

from qc_jax.changes import record_changes
from qc_jax.compact import ShippedRecords
from qc_jax.elements import pair_name, parse_pairs

REPOSITORY = Path(__file__).resolve().parents[1]
SHIPPED = "datasets/quantum_canvas/shipped"


def shipped_at(revision: str, folder: Path) -> ShippedRecords:
    """The shipped records of ``revision``, extracted below ``folder``."""
    archive = subprocess.run(["git", "-C", str(REPOSITORY), "archive", revision, SHIPPED],
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryFile() as file:
        file.write(archive)
        file.seek(0)
        with tarfile.open(fileobj=file) as tar:
            tar.extractall(folder, filter="data")
    return ShippedRecords(folder / SHIPPED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="git revision of the records before (e.g. 713beb5)")
    parser.add_argument("now", nargs="?", default=None,
                        help="git revision of the records now (default: the working tree)")
    parser.add_argument("--pairs", default=None, help="comma-separated pairs (default: changed)")
    parser.add_argument("--labels", default="",
                        help="comma-separated labels to show now/before (e.g. i_ev,a_ev)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = shipped_at(args.before, Path(folder) / "before")
        now = (shipped_at(args.now, Path(folder) / "now") if args.now
               else ShippedRecords(REPOSITORY / SHIPPED))
        if args.pairs:
            names = [pair_name(*pair) for pair in parse_pairs(args.pairs)]
        else:
            names = [name for name in now.names()
                     if now.files[f"pairs/{name}.npz"] != before.files.get(f"pairs/{name}.npz")]
        labels = [label for label in args.labels.split(",") if label]
        print(record_changes(now, before, names, labels))


if __name__ == "__main__":
    main()
