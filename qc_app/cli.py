"""The ``qc-canvas`` command. Each sub-command lives in one ``_add_<name>`` / ``_run_<name>`` pair;
:data:`COMMANDS` lists them (add new ones there)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from qc_jax.elements import (
    ELEMENT_SETS,
    UnknownElementError,
    pair_name,
    parse_pair,
    parse_pairs,
)

if TYPE_CHECKING:
    from qc_jax.compact import ShippedRecords

HEAVY_CPU_S = 300.0
"""A pair is heavy when its shipped record took more than this many CPU-seconds of PySCF on one
core (the median shipped pair: 28 s; the data card's *Cost*)."""


def heavy_pairs(pairs: Sequence[tuple[str, str]], shipped: ShippedRecords | None,
                stored: Callable[[str], bool]) -> list[tuple[str, float]]:
    """(name, CPU-s of its shipped record) of the pairs not yet ``stored`` whose shipped records
    took more than :data:`HEAVY_CPU_S`, costliest first; none without shipped records (another
    level of theory: no measured cost)."""
    if shipped is None:
        return []
    names = {pair_name(a, b) for a, b in pairs} & set(shipped.names())
    costs = [(name, shipped.get(name).cpu_time_s) for name in sorted(names) if not stored(name)]
    return sorted(((name, s) for name, s in costs if s > HEAVY_CPU_S), key=lambda c: -c[1])


def warn_if_heavy(pairs: Sequence[tuple[str, str]], shipped: ShippedRecords | None,
                  stored: Callable[[str], bool], shown: int = 6) -> None:
    """One warning (stderr) naming the first ``shown`` of :func:`heavy_pairs` with their measured
    CPU-minutes."""
    heavy = heavy_pairs(pairs, shipped, stored)
    if not heavy:
        return
    named = ", ".join(f"{name} {s / 60:.0f} min" for name, s in heavy[:shown])
    more = f" and {len(heavy) - shown} more" if len(heavy) > shown else ""
    print(f"warning: {len(heavy)} heavy pair{'s' * (len(heavy) > 1)} ({named}{more}): their "
          f"shipped records took {sum(s for _, s in heavy) / 3600:.1f} CPU-hours of PySCF in "
          f"all, more than {HEAVY_CPU_S / 60:.0f} CPU-minutes each", file=sys.stderr, flush=True)


def _add_compute(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--elements",
        default="tiny",
        help=f"named set ({', '.join(ELEMENT_SETS)}) or comma-separated symbols (default: tiny)",
    )
    parser.add_argument(
        "--pairs", default=None, help="comma-separated diatomics (CO,H2,Fe_Fe) instead of all pairs"
    )
    parser.add_argument("--store", default="data/store", help="store folder (default: data/store)")
    parser.add_argument(
        "--jobs", type=int, default=None,
        help="worker processes (default: the number of cores, as the dataset build)",
    )
    parser.add_argument(
        "--fast", action="store_true", help="FAST settings (sto-3g, coarse grid) for smoke tests"
    )
    parser.add_argument(
        "--retry-failed", action="store_true",
        help="recompute failed records, and those converged only at a raised k_B T (annealed "
             "from their minimum first)",
    )
    parser.add_argument(
        "--recompute", action="store_true",
        help="compute the pairs again even if stored or shipped (after a fix of the procedure: "
             "benchmarks/spin_recheck.py); a converged record (the stored one, else the shipped "
             "one) is replaced only by a converged one of no higher free energy, and an ok one "
             "not by a flagged one of the same; then "
             "`qc-canvas ship --replace`",
    )
    parser.add_argument(
        "--resume", action="store_true",
        help="with --recompute: skip the pairs the store holds already (an interrupted "
             "--recompute run into a store of its own goes on; a run without --recompute "
             "resumes anyway)",
    )
    parser.add_argument(
        "--include-shipped", action="store_true",
        help="also compute the pairs shipped with the package (default: skipped, unless failed "
             "or at a raised k_B T there and --retry-failed)",
    )
    parser.add_argument(
        "--time-limit", type=float, default=None, metavar="MINUTES",
        help="store a pair still computing after this much CPU time as failed (default: no limit)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--verbose", action="store_true", help="log every bond length and SCF rung (stderr)"
    )


def _run_compute(args: argparse.Namespace) -> int:
    from quantum_canvas.records import shipped_records

    from qc_jax.chem.basis_sets import MissingBasisError, basis_spec
    from qc_jax.chem.runner import compute_missing
    from qc_jax.chem.settings import DEFAULT, FAST
    from qc_jax.elements import element_set, pairs
    from qc_jax.store import Store

    settings = FAST if args.fast else DEFAULT
    jobs = (os.cpu_count() or 1) if args.jobs is None else args.jobs
    if jobs < 1:
        raise ValueError("--jobs must be at least 1")
    if args.resume and not args.recompute:
        raise ValueError("--resume goes with --recompute (a run without it resumes anyway)")
    if args.time_limit is not None and not args.time_limit > 0:
        raise ValueError(f"--time-limit must be positive minutes, got {args.time_limit}")
    todo = parse_pairs(args.pairs) if args.pairs else pairs(element_set(args.elements))
    try:
        for element in sorted({s for pair in todo for s in pair}):
            basis_spec(element, settings.basis_map)
    except MissingBasisError as error:
        raise ValueError(str(error)) from None
    store = Store(args.store, settings)
    shipped = shipped_records(settings)
    skipped = ([] if args.include_shipped or args.recompute or shipped is None
               else _shipped_pairs(todo, shipped, args.retry_failed))
    todo = [pair for pair in todo if pair not in skipped]
    print(f"store {store.folder} | {len(todo)} pairs | {jobs} jobs"
          + (f" | {len(skipped)} shipped with the package skipped" if skipped else ""), flush=True)
    warn_if_heavy(todo, shipped, store.__contains__ if args.resume or not args.recompute
                  else lambda name: False)
    summary = compute_missing(
        store,
        todo,
        jobs=jobs,
        retry_failed=args.retry_failed,
        recompute=args.recompute,
        resume=args.resume,
        progress=not args.no_progress,
        verbose=args.verbose,
        time_limit_s=None if args.time_limit is None else 60 * args.time_limit,
        shipped=shipped,
    )
    print(summary.text(), flush=True)
    if summary.interrupted:
        return 130
    return 1 if summary.counts["error"] else 0


def _shipped_pairs(pairs: list[tuple[str, str]], shipped, retry_failed: bool) -> list:
    """The ``pairs`` in ``shipped``, which a run skips; with ``retry_failed``, those shipped
    failed or at a raised k_B T are not skipped."""
    names = set(shipped.names())
    return [(a, b) for a, b in pairs if pair_name(a, b) in names
            and not (retry_failed and shipped.get(pair_name(a, b)).retryable)]


def _add_ship(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default="data/store", help="store folder (default: data/store)")
    parser.add_argument(
        "--to", default="datasets/quantum_canvas/shipped",
        help="shipped folder (default: datasets/quantum_canvas/shipped, the dataset's records)",
    )
    parser.add_argument(
        "--pairs", default=None, help="comma-separated diatomics (CO,H2,Fe_Fe; default: all)"
    )
    parser.add_argument(
        "--replace", action="store_true",
        help="rewrite the shipped records of --pairs from the store (after `qc-canvas compute "
             "--recompute`); prints first how each differs from the shipped one",
    )
    parser.add_argument(
        "--improved", action="store_true",
        help="with --replace: only the pairs whose stored record is better than the shipped one "
             "(lower free energy, converged at the default k_B T, or the same state with a lower "
             "ion: qc_jax.changes.improvement)",
    )
    parser.add_argument(
        "--dry-run", action="store_true",
        help="with --replace: print how the records differ, write nothing",
    )


def _run_ship(args: argparse.Namespace) -> int:
    from qc_jax.changes import improvement, record_changes
    from qc_jax.chem.settings import DEFAULT
    from qc_jax.compact import ShippedRecords, ship
    from qc_jax.store import Store

    if args.replace and not args.pairs:
        raise ValueError("--replace needs --pairs (the pairs computed again)")
    if (args.dry_run or args.improved) and not args.replace:
        raise ValueError("--dry-run and --improved need --replace")
    names = [pair_name(*pair) for pair in parse_pairs(args.pairs)] if args.pairs else None
    store = Store(args.store, DEFAULT)
    if args.replace:
        shipped = ShippedRecords(args.to)
        print(record_changes(store, shipped, names, ["i_ev", "a_ev"]))
        if args.improved:
            reasons = {name: improvement(store.get(name), shipped.get(name)) for name in names}
            names = [name for name in names if reasons[name]]
            print(f"improved: {len(names)}"
                  + "".join(f"\n  {name}: {reasons[name]}" for name in names))
        if args.dry_run:
            return 0
    added = ship(store, args.to, names, replace=args.replace)
    total = len(ShippedRecords(args.to).names())
    print(f"shipped {len(added)} {'replaced' if args.replace else 'new'} pairs to {args.to} "
          f"({total} in all)")
    return 0


def _add_pair_arguments(parser: argparse.ArgumentParser, out: str) -> None:
    parser.add_argument("pair", help="a diatomic: CO, C_O, Fe2, NaCl (computed if not stored)")
    parser.add_argument("--store", default="data/store", help="store folder (default: data/store)")
    parser.add_argument("--out", default=None, help=f"output file (default: out/<pair>{out})")


def _record(args: argparse.Namespace):
    """The record of `args.pair`: shipped with the package, else from `args.store`, else computed.
    Raises ValueError if it has not converged."""
    from quantum_canvas.records import shipped_records

    from qc_jax.chem.lookup import get_record
    from qc_jax.chem.settings import DEFAULT
    from qc_jax.store import Store

    store, pair = Store(args.store, DEFAULT), parse_pair(args.pair)
    shipped = shipped_records(store.settings)
    lookup = get_record(*pair, store, shipped, announce=True)
    if not lookup.converged:
        raise ValueError(f"{lookup.pair} has no converged record: {lookup.message}")
    return lookup.record


def _add_show(parser: argparse.ArgumentParser) -> None:
    _add_pair_arguments(parser, ".png")
    parser.add_argument("--size", type=int, default=32, help="pixels per side (default: 32)")
    parser.add_argument("--extent", type=float, default=8.0, help="box width in Angstrom")
    parser.add_argument("--supersample", type=int, default=3, help="sub-pixel samples per side")


def _run_show(args: argparse.Namespace) -> int:
    from qc_app import figures
    from qc_jax import canvas

    record = _record(args)
    spec = canvas.CanvasSpec(
        height=args.size, width=args.size, extent_angstrom=args.extent, supersample=args.supersample
    )
    path = figures.canvas_figure(
        canvas.render(record, spec), spec, record, args.out or f"out/{record.pair}.png"
    )
    print(f"wrote {path}")
    return 0


def _add_cube(parser: argparse.ArgumentParser) -> None:
    from qc_jax.canvas import PHYSICAL_SPIN

    _add_pair_arguments(parser, "_<field>.cube")
    names = ["rho", *PHYSICAL_SPIN.names]
    parser.add_argument("--field", default="rho", choices=names, help="density or channel")
    parser.add_argument("--points", type=int, default=60, help="grid points per axis")
    parser.add_argument("--margin", type=float, default=3.0, help="space around atoms (Bohr)")


def _run_cube(args: argparse.Namespace) -> int:
    import jax
    from pyscf.tools import cubegen

    from qc_jax import canvas
    from qc_jax.chem.molecule import record_mole

    record = _record(args)
    cube = cubegen.Cube(
        record_mole(record), nx=args.points, ny=args.points, nz=args.points, margin=args.margin
    )
    basis, inputs = canvas.field_inputs(record)
    summed = ("rho_sp", "rho_df") if args.field == "rho" else (args.field,)  # rho = l <= 1 + l >= 2
    with jax.enable_x64(True):
        field = jax.device_get(canvas.fields(basis, inputs, cube.get_coords(), summed).sum(axis=1))
    path = args.out or f"out/{record.pair}_{args.field}.cube"
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    cube.write(
        field.reshape(args.points, args.points, args.points),
        path,
        comment=f"{record.pair} {args.field} (atomic units) from qc_jax",
    )
    print(f"wrote {path}")
    return 0


def _add_train(parser: argparse.ArgumentParser) -> None:
    from qc_models.configs.base import add_arguments  # light: no JAX import at parse time

    add_arguments(parser)


def _run_train(args: argparse.Namespace) -> int:
    from qc_models.train import run

    return run(args)


def _add_predict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workdir", required=True, help="a training run's workdir")
    parser.add_argument("--dataset", default=None, help="TFDS name (default: the run's dataset)")
    parser.add_argument("--split", default="test", help="split to predict (default: test)")
    parser.add_argument("--data-dir", default=None, help="TFDS data directory (default: the run's)")
    parser.add_argument(
        "--out", default=None, help="CSV file (default: <workdir>/predictions_<split>.csv)"
    )


def _run_predict(args: argparse.Namespace) -> int:
    from qc_models.predict import run

    return run(args)


def _add_benchmark(parser: argparse.ArgumentParser) -> None:
    from qc_models.benchmark import add_arguments  # light: no JAX import at parse time

    add_arguments(parser)


def _run_benchmark(args: argparse.Namespace) -> int:
    import shlex

    from qc_models.benchmark import run

    return run(args, shlex.join(["qc-canvas", *sys.argv[1:]]))


COMMANDS: dict[str, tuple[str, Callable, Callable]] = {
    "compute": ("compute the missing pairs of a store (resumable)", _add_compute, _run_compute),
    "show": ("draw the ten-channel canvas of a pair as a PNG", _add_show, _run_show),
    "cube": (
        "write a density or canvas field of a pair on a 3-D grid (Gaussian cube)",
        _add_cube,
        _run_cube,
    ),
    "ship": ("add the store's records to a shipped folder in compact form (qc_jax.compact)",
             _add_ship, _run_ship),
    "train": ("train a model of the zoo (qc_models.train)", _add_train, _run_train),
    "predict": ("predict a split with a trained run's best checkpoint (per-pair CSV)",
                _add_predict, _run_predict),
    "benchmark": ("the paper's benchmark and its controls, resumable (qc_models.benchmark)",
                  _add_benchmark, _run_benchmark),
}
"""Sub-command name -> (help, add arguments, run returning an exit code)."""


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import PackageNotFoundError, version

    parser = argparse.ArgumentParser(
        prog="qc-canvas", description="Quantum canvases of diatomic molecules."
    )
    try:
        installed = version("quantum-canvas-jax")
    except PackageNotFoundError:
        installed = "not installed"
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``qc-canvas``; returns the exit code (2 on bad input)."""
    from qc_jax.store import StoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (UnknownElementError, StoreError, ValueError) as error:
        print(f"qc-canvas {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
