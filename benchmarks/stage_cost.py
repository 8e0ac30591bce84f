"""Where a pair's CPU time goes, by stage of ``compute_pair``, over the 24 pairs of pair_cost.py.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stage_cost.py [--jobs 2] [--pairs B_V,K_Te]
        [--set grid_level=1 ...]

Each pair is computed at the default level of theory (or the default with the ``--set``
changes, JSON values) into a temporary store seeded with the shipped free atoms (at other
settings the atoms are computed, in the worker, once each: the ``free atoms`` column, not part
of the pair's total), with a timer around each stage; a stage's time is exclusive (a stage
called inside another counts for the inner one). The stages:

- ``spin starts``: every spin start converged at the start geometry (``_converged_starts``);
- ``search``: the bond search on the search grid (``optimise_bond`` on ``search_grid_level``);
- ``final grid``: the force constant's two points and the step to the minimum on the final grid
  (``_refined``), and any search continued there;
- ``ions``: the cation and anion SCFs, every start (``_ion_energy``);
- ``rest``: the rest of the pair: the states and polarised starts tried again at the minimum, the
  polarised start at the start geometry, labels and populations.

Prints one row per pair (CPU seconds per stage, and how far its bond length, harmonic frequency,
binding and ionisation energies are from the shipped record's: what a change of the settings
costs in the labels), the sum over the sample and each stage's share: the most a lever on that
stage alone can save. CPU time is what a pair costs one core, whatever else runs.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import multiprocessing
import tempfile
import time
from collections import defaultdict

from pair_cost import sample

from qc_jax.chem import pair as pair_module
from qc_jax.chem.settings import DEFAULT, Settings
from qc_jax.elements import pair_name, parse_pair

STAGES = ("spin starts", "search", "final grid", "ions", "rest")
COMPARED = {"distance_ang": "R_e (A)", "omega_e_cm1": "omega_e (cm^-1)",
            "binding_energy_ev": "E_bind (eV)", "i_ev": "IP (eV)"}
"""Labels compared with the shipped record's, and their column names."""

_settings = DEFAULT

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


def _instrument(settings: Settings) -> None:
    """Wrap the stages of :mod:`qc_jax.chem.pair` and use ``settings`` (in this process)."""
    global _settings
    _settings = settings
    pair_module.atom_reference = _timed("free atoms", pair_module.atom_reference)
    pair_module._converged_starts = _timed("spin starts", pair_module._converged_starts)
    pair_module.optimise_bond = _timed(_search_stage, pair_module.optimise_bond)
    pair_module._refined = _timed("final grid", pair_module._refined)
    pair_module._ion_energy = _timed("ions", pair_module._ion_energy)


def stage_times(pair: tuple[str, str]) -> tuple[str, str, float, dict[str, float], dict]:
    """(pair name, record status, the record's CPU seconds, stage -> CPU seconds, label ->
    absolute difference from the shipped record) of one pair, computed afresh."""
    from quantum_canvas.records import shipped_records

    from qc_jax.compact import seed_atoms
    from qc_jax.store import Store

    shipped = shipped_records(DEFAULT)
    _spent.clear()
    with tempfile.TemporaryDirectory() as root:
        store = Store(root, _settings)
        seed_atoms(store, shipped, pair)  # none at other settings than the shipped
        _stack.append(["rest", time.process_time(), 0.0])
        record = pair_module.compute_pair(*pair, _settings, store=store)
        name, start, inner = _stack.pop()
        _spent[name] += time.process_time() - start - inner
    spent = {stage: _spent[stage] for stage in (*STAGES, "free atoms")}
    before = shipped.get(pair_name(*pair)).labels
    moved = {label: abs(record.labels[label] - before[label]) for label in COMPARED}
    return pair_name(*pair), record.status, record.cpu_time_s, spent, moved


def changed_settings(changes: list[str]) -> Settings:
    """The default settings with ``KEY=VALUE`` changes (JSON values, else strings)."""
    values = DEFAULT.to_dict()
    for item in changes:
        key, equals, raw = item.partition("=")
        if not equals or key not in values:
            raise SystemExit(f"--set {item!r}: write KEY=VALUE with a field of Settings: "
                             + ", ".join(values))
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return Settings.from_dict(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--pairs", help="comma-separated pairs (default: the 24 of pair_cost.py)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="changes of the default settings, e.g. grid_level=1")
    args = parser.parse_args()
    settings = changed_settings(args.set)
    print("settings:", ", ".join(args.set) or "the default", f"(digest {settings.digest()[:16]})")
    todo = [parse_pair(p) for p in args.pairs.split(",")] if args.pairs else sample()
    with multiprocessing.get_context("spawn").Pool(
            args.jobs, initializer=_instrument, initargs=(settings,)) as pool:
        rows = sorted(pool.imap_unordered(stage_times, todo),
                      key=lambda row: sum(row[3][s] for s in STAGES))
    print("| pair | status | " + " | ".join(STAGES) + " | total | the record's CPU | free atoms | "
          + " | ".join(f"{column} moved" for column in COMPARED.values()) + " |")
    print("|---|---|" + "---:|" * (len(STAGES) + 3 + len(COMPARED)))
    totals, largest = defaultdict(float), defaultdict(float)
    for name, status, cpu, spent, moved in rows:
        for stage in (*STAGES, "free atoms"):
            totals[stage] += spent[stage]
        for label, change in moved.items():
            if math.isfinite(change):
                largest[label] = max(largest[label], change)
        print(f"| {name} | {status} | " + " | ".join(f"{spent[s]:.1f}" for s in STAGES)
              + f" | {sum(spent[s] for s in STAGES):.1f} | {cpu:.1f} | {spent['free atoms']:.1f} | "
              + " | ".join(f"{moved[label]:.2g}" for label in COMPARED) + " |")
    total = sum(totals[s] for s in STAGES)
    print(f"| all {len(rows)} | | " + " | ".join(f"{totals[s]:.0f}" for s in STAGES)
          + f" | {total:.0f} | {sum(row[2] for row in rows):.0f} | {totals['free atoms']:.0f} | "
          + " | ".join(f"largest {largest[label]:.2g}" for label in COMPARED) + " |")
    print("| share | | " + " | ".join(f"{totals[s] / total:.0%}" for s in STAGES) + " |"
          + " |" * (3 + len(COMPARED)))


if __name__ == "__main__":
    main()
