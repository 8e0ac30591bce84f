"""The ``qc-canvas`` command. Each sub-command lives in one ``_add_<name>`` / ``_run_<name>`` pair;
:data:`COMMANDS` lists them (add new ones there)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from qc_jax.elements import ELEMENT_SETS, UnknownElementError


def _add_compute(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--elements",
        default="tiny",
        help=f"named set ({', '.join(ELEMENT_SETS)}) or comma-separated symbols (default: tiny)",
    )
    parser.add_argument(
        "--pairs", default=None, help="comma-separated pair names (C_O,H_H) instead of all pairs"
    )
    parser.add_argument("--store", default="data/store", help="store folder (default: data/store)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument(
        "--fast", action="store_true", help="FAST settings (sto-3g, coarse grid) for smoke tests"
    )
    parser.add_argument("--retry-failed", action="store_true", help="recompute failed records")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--verbose", action="store_true", help="log every bond length and SCF rung (stderr)"
    )


def _run_compute(args: argparse.Namespace) -> int:
    from qc_jax.chem.basis_sets import MissingBasisError, basis_spec
    from qc_jax.chem.runner import compute_missing
    from qc_jax.chem.settings import DEFAULT, FAST
    from qc_jax.elements import element_set, pairs, parse_pair_name
    from qc_jax.store import Store

    settings = FAST if args.fast else DEFAULT
    if args.jobs < 1:
        raise ValueError("--jobs must be at least 1")
    if args.pairs:
        todo = [parse_pair_name(name.strip()) for name in args.pairs.split(",") if name.strip()]
    else:
        todo = pairs(element_set(args.elements))
    try:
        for element in sorted({s for pair in todo for s in pair}):
            basis_spec(element, settings.basis_map)
    except MissingBasisError as error:
        raise ValueError(str(error)) from None
    store = Store(args.store, settings)
    print(f"store {store.folder} | {len(todo)} pairs | {args.jobs} jobs", flush=True)
    summary = compute_missing(
        store,
        todo,
        jobs=args.jobs,
        retry_failed=args.retry_failed,
        progress=not args.no_progress,
        verbose=args.verbose,
    )
    print(summary.text(), flush=True)
    if summary.interrupted:
        return 130
    return 1 if summary.counts["error"] else 0


def _add_train(parser: argparse.ArgumentParser) -> None:
    from qc_models.configs.base import add_arguments  # light: no JAX import at parse time

    add_arguments(parser)


def _run_train(args: argparse.Namespace) -> int:
    from qc_models.train import run

    return run(args)


COMMANDS: dict[str, tuple[str, Callable, Callable]] = {
    "compute": ("compute the missing pairs of a store (resumable)", _add_compute, _run_compute),
    "train": ("train a model of the zoo (qc_models.train)", _add_train, _run_train),
}
"""Sub-command name -> (help, add arguments, run returning an exit code)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qc-canvas", description="Quantum canvases of diatomic molecules."
    )
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
