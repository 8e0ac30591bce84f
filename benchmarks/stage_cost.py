"""Where a pair's CPU time goes, by stage of ``compute_pair``, over the 24 pairs of pair_cost.py.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stage_cost.py [--jobs 2] [--pairs B_V,K_Te]

Each pair is computed at the default level of theory into a temporary store seeded with the
shipped free atoms (so no atom is computed), with a timer around each stage; a stage's time is
exclusive (a stage called inside another counts for the inner one). The stages:

- ``spin starts``: every spin start converged at the start geometry (``_converged_starts``);
- ``search``: the bond search on the search grid (``optimise_bond`` on ``search_grid_level``);
- ``final grid``: the force constant's two points and the step to the minimum on the final grid
  (``_refined``), and any search continued there;
- ``ions``: the cation and anion SCFs, every start (``_ion_energy``);
- ``rest``: the rest of the pair: the states and polarised starts tried again at the minimum, the
  polarised start at the start geometry, labels and populations.

Prints one row per pair (CPU seconds per stage), the sum over the sample and each stage's share:
the most a lever on that stage alone can save. CPU time is what a pair costs one core, whatever
else runs.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import tempfile
import time
from collections import defaultdict

from pair_cost import sample

from qc_jax.chem import pair as pair_module
from qc_jax.chem.settings import DEFAULT
from qc_jax.elements import pair_name, parse_pair

STAGES = ("spin starts", "search", "final grid", "ions", "rest")

_spent: dict[str, float] = defaultdict(float)
_stack: list[list] = []  # [stage, start CPU time, CPU time of the stages called inside]


def _timed(stage, function):
    """``function`` with its exclusive CPU time added to ``_spent`` under ``stage`` (a name, or a
    callable of the call's arguments that returns one)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        name = stage(*args, **kwargs) if callable(stage) else stage
        _stack.append([name, time.process_time(), 0.0])
        try:
            return function(*args, **kwargs)
        finally:
            name, start, inner = _stack.pop()
            spent = time.process_time() - start
            _spent[name] += spent - inner
            if _stack:
                _stack[-1][2] += spent

    return wrapper


def _search_stage(a, b, settings, sigma, start, grid_level, *rest, **kwargs) -> str:
    return "search" if grid_level == settings.search_grid_level else "final grid"


def _instrument() -> None:
    """Wrap the stages of :mod:`qc_jax.chem.pair` (in this process)."""
    pair_module._converged_starts = _timed("spin starts", pair_module._converged_starts)
    pair_module.optimise_bond = _timed(_search_stage, pair_module.optimise_bond)
    pair_module._refined = _timed("final grid", pair_module._refined)
    pair_module._ion_energy = _timed("ions", pair_module._ion_energy)


def stage_times(pair: tuple[str, str]) -> tuple[str, str, float, dict[str, float]]:
    """(pair name, record status, the record's CPU seconds, stage -> CPU seconds) of one pair,
    computed afresh."""
    from quantum_canvas.records import shipped_records

    from qc_jax.compact import seed_atoms
    from qc_jax.store import Store

    _spent.clear()
    with tempfile.TemporaryDirectory() as root:
        store = Store(root, DEFAULT)
        seed_atoms(store, shipped_records(DEFAULT), pair)
        _stack.append(["rest", time.process_time(), 0.0])
        record = pair_module.compute_pair(*pair, DEFAULT, store=store)
        name, start, inner = _stack.pop()
        _spent[name] += time.process_time() - start - inner
    spent = {stage: _spent[stage] for stage in STAGES}
    return pair_name(*pair), record.status, record.cpu_time_s, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--pairs", help="comma-separated pairs (default: the 24 of pair_cost.py)")
    args = parser.parse_args()
    todo = [parse_pair(p) for p in args.pairs.split(",")] if args.pairs else sample()
    with multiprocessing.get_context("spawn").Pool(args.jobs, initializer=_instrument) as pool:
        rows = sorted(pool.imap_unordered(stage_times, todo), key=lambda row: sum(row[3].values()))
    print("| pair | status | " + " | ".join(STAGES) + " | total | the record's CPU |")
    print("|---|---|" + "---:|" * (len(STAGES) + 2))
    totals = defaultdict(float)
    for name, status, cpu, spent in rows:
        for stage in STAGES:
            totals[stage] += spent[stage]
        print(f"| {name} | {status} | " + " | ".join(f"{spent[s]:.1f}" for s in STAGES)
              + f" | {sum(spent.values()):.1f} | {cpu:.1f} |")
    total = sum(totals.values())
    print(f"| all {len(rows)} | | " + " | ".join(f"{totals[s]:.0f}" for s in STAGES)
          + f" | {total:.0f} | {sum(row[2] for row in rows):.0f} |")
    print("| share | | " + " | ".join(f"{totals[s] / total:.0%}" for s in STAGES) + " | | |")


if __name__ == "__main__":
    main()
